// How often a rollout is looked at. While nothing can change before a known time (the old
// tasks' targets draining for the deregistration delay, a blue/green bake), the follow loop
// looks slowly and says so once; shortly before that time it watches closely, so a completed
// rollout is noticed within a couple of seconds without spending the account's API budget.
import type { ServiceEvent } from '@aws-sdk/client-ecs';
import { formatDuration } from '../../kit/src/duration';
import type { Clock } from '../../kit/src/poll';
import type { RolloutSnapshot, RolloutState } from './rollout';

/** Options of {@link RolloutPacer}. */
export interface PacingOptions {
  clock: Clock;
  /** The wait between looks when no change is expected at a known time. */
  intervalMs: number;
  /** The longest wait between looks while nothing can change (default 15 s) … */
  slowIntervalMs?: number;
  /** … reached from this first wait (default 4 s), growing 1.6 times a look. */
  quietStartMs?: number;
  /** Close watching starts this long before the expected change (default 2 s). */
  leadMs?: number;
  /** The wait between looks while watching closely (default 1.5 s) … */
  watchIntervalMs?: number;
  /** … for this long after the expected change (default 15 s), then `intervalMs` again. */
  watchForMs?: number;
  /**
   * The deregistration delay of the service's target groups (the longest, in ms), or undefined
   * when it cannot be read. Read once, when the first drain is seen.
   */
  deregistrationDelayMs?: (targetGroupArns: string[]) => Promise<number | undefined>;
  /** Where the one sentence per quiet period goes. */
  say: (message: string) => void;
  /** Where details go (a deregistration delay that could not be read). */
  debug?: (message: string) => void;
}

const DRAINING = /has begun draining connections on (\d+) tasks?/;

/** Decides the wait before the next look at a rollout from what is known to come and when. */
export class RolloutPacer {
  private readonly expected: { at: number; what: 'drain' | 'bake' }[] = [];
  private delayMs: number | undefined | null = null;
  private announced = new Set<string>();
  private quietLooks = 0;

  constructor(private readonly opts: PacingOptions) {}

  /** Takes note of one look: new service events, the stage and the deployment's settings. */
  async observe(
    state: RolloutState,
    snapshot: RolloutSnapshot,
    newEvents: ServiceEvent[],
  ): Promise<void> {
    const now = this.opts.clock.now();
    for (const event of newEvents) {
      if (!DRAINING.test(event.message ?? '')) continue;
      const delay = await this.drainDelay(snapshot);
      if (delay === undefined) continue;
      const started = Math.min(now, event.createdAt?.getTime() ?? now);
      this.expected.push({ at: started + delay, what: 'drain' });
      this.announce(
        'drain',
        `Draining the old tasks' connections: the target group's deregistration delay is ${formatDuration(delay)}, so nothing changes for about ${formatDuration(Math.max(0, started + delay - now))}; looking less often (up to every ${formatDuration(this.slow)}) until shortly before.`,
      );
    }
    if (state.stage === 'BAKE_TIME' && !this.announced.has('bake')) {
      const minutes =
        snapshot.deployment?.deploymentConfiguration?.bakeTimeInMinutes ??
        snapshot.service?.deploymentConfiguration?.bakeTimeInMinutes;
      if (minutes !== undefined && minutes > 0) {
        const started = Math.min(now, snapshot.deployment?.updatedAt?.getTime() ?? now);
        const end = started + minutes * 60_000;
        this.expected.push({ at: end, what: 'bake' });
        this.announce(
          'bake',
          `Baking for ${formatDuration(minutes * 60_000)}: nothing changes for about ${formatDuration(Math.max(0, end - now))}; looking less often (up to every ${formatDuration(this.slow)}) until shortly before.`,
        );
      }
    }
    if (state.stage !== 'BAKE_TIME') this.drop('bake');
  }

  /** The wait before the next look. */
  nextDelay(): number {
    const now = this.opts.clock.now();
    const watchFor = this.opts.watchForMs ?? 15_000;
    const lead = this.opts.leadMs ?? 2000;
    const pending = this.expected.filter((e) => now < e.at + watchFor);
    this.expected.splice(0, this.expected.length, ...pending);
    if (!pending.length) {
      this.quietLooks = 0;
      return this.opts.intervalMs;
    }
    const next = Math.min(...pending.map((e) => e.at));
    const watch = this.opts.watchIntervalMs ?? 1500;
    if (now < next - lead) {
      // The wait grows towards the slow interval rather than jumping to it, so a change that
      // comes early after all (a shorter delay than configured) is still seen within seconds.
      const grown = (this.opts.quietStartMs ?? 4000) * 1.6 ** this.quietLooks++;
      return Math.max(watch, Math.min(this.slow, grown, next - lead - now));
    }
    this.quietLooks = 0;
    return watch;
  }

  /** The earliest change expected at a known time (epoch ms), if any. */
  expectedAt(): number | undefined {
    return this.expected.length ? Math.min(...this.expected.map((e) => e.at)) : undefined;
  }

  private get slow(): number {
    return this.opts.slowIntervalMs ?? 15_000;
  }

  private announce(key: string, message: string): void {
    if (this.announced.has(key)) return;
    this.announced.add(key);
    this.opts.say(message);
  }

  private drop(what: 'drain' | 'bake'): void {
    const kept = this.expected.filter((e) => e.what !== what);
    this.expected.splice(0, this.expected.length, ...kept);
  }

  private async drainDelay(snapshot: RolloutSnapshot): Promise<number | undefined> {
    if (this.delayMs !== null) return this.delayMs;
    const groups = [
      ...new Set(
        (snapshot.service?.loadBalancers ?? []).flatMap((lb) =>
          [lb.targetGroupArn, lb.advancedConfiguration?.alternateTargetGroupArn].filter(
            (a): a is string => !!a,
          ),
        ),
      ),
    ];
    this.delayMs =
      groups.length && this.opts.deregistrationDelayMs
        ? await this.opts.deregistrationDelayMs(groups).catch((error: unknown) => {
            this.opts.debug?.(
              `Could not read the deregistration delay (${error instanceof Error ? error.message : String(error)}); looking at the usual pace.`,
            );
            return undefined;
          })
        : undefined;
    return this.delayMs;
  }
}
