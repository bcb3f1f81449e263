// The one follow-and-explain loop of every rollout kind: follow the rollout through the kind's
// status reader until the wait is satisfied, a task of the new revision stops on its own, or the
// deadline passes; log what moved; explain an outcome that is not a success with the stopped
// tasks of the revision rolled out.
import type { Service, ServiceDeployment, ServiceEvent } from '@aws-sdk/client-ecs';
import { formatDuration } from '../../kit/src/duration';
import { errorMessage, isThrottlingError, isTransientAwsError } from '../../kit/src/errors';
import { logSafe } from '../../kit/src/log-text';
import { poll, systemClock, DeadlineExceededError, type Clock } from '../../kit/src/poll';
import type { EcsApi } from './api';
import { RolloutPacer } from './pacing';
import {
  formatProgress,
  interpretRollout,
  waitSatisfied,
  type RolloutState,
  type StageSpan,
} from './rollout';
import type { DeployLog } from './service';
import { statusReaderFor, type StatusReader } from './status-readers';
import { findStoppedTasks, stoppedOnItsOwn, type StoppedTask } from './stopped-tasks';

/** Watches for tasks of the revision rolled out that stop on their own (crash, failed start). */
export interface CrashWatch {
  /** Those tasks, stopped since the rollout started. */
  find(): Promise<StoppedTask[]>;
  /** ECS rolls a failing deployment back itself (circuit breaker with rollback on). */
  circuitBreakerRollback: boolean;
}

/** Options of {@link followRollout}. */
export interface FollowOptions {
  /** The rollout kind's status reader. */
  reader: StatusReader;
  /** The revision being rolled out (or rolled back to), for messages. */
  taskDefinitionArn: string;
  waitUntil: 'stable' | 'traffic-shifted';
  /** Overrides when following is done (default: {@link waitSatisfied} with `waitUntil`). */
  satisfied?: (state: RolloutState) => boolean;
  /** Epoch ms after which following stops and the result says `timedOut`. */
  deadline: number;
  signal?: AbortSignal;
  clock?: Clock;
  /** Wait between the first checks (default 1 s) … */
  fastIntervalMs?: number;
  /** … for this many checks (default 1), then `intervalMs` (default 2.7 s: about 22 calls a minute rolling, 27 otherwise). */
  fastChecks?: number;
  intervalMs?: number;
  /** Decides slower or closer looks when a change is expected at a known time (drain, bake). */
  pacer?: RolloutPacer;
  /** Ends the follow when a task of the new revision stops on its own (see {@link CrashWatch}). */
  crashes?: CrashWatch;
  onStage?: (stage: string, previous: StageSpan | undefined) => void;
  onProgress?: (state: RolloutState, previous: RolloutState | undefined) => void;
  onThrottle?: (error: unknown, delayMs: number) => void;
  /** A look failed with a transient error (5xx, network); following goes on until the deadline. */
  onTransientError?: (error: unknown, failuresInARow: number, delayMs: number) => void;
}

/** What following a rollout saw. */
export interface FollowResult {
  /** The last state read (ECS's view). */
  state: RolloutState;
  timedOut: boolean;
  timeline: StageSpan[];
  events: ServiceEvent[];
  service?: Service;
  deployment?: ServiceDeployment;
  checks: number;
  /** Tasks of the revision seen to stop on their own while followed. */
  crashed: StoppedTask[];
  /** True when following ended because such tasks stopped (not on ECS's verdict). */
  endedOnCrash: boolean;
  /** Set when the last looks failed (transient errors until the deadline): the last error. */
  unreadable?: { error: unknown; failures: number };
}

function progressKey(s: RolloutState): string {
  return JSON.stringify([s.phase, s.status, s.stage, s.counts]);
}

const STARTED = /has started (\d+) tasks?/;

function mergeTasks(known: StoppedTask[], found: StoppedTask[]): StoppedTask[] {
  const ids = new Set(known.map((t) => t.taskId));
  return [...known, ...found.filter((t) => !ids.has(t.taskId))];
}

/** True when a stopped task of the new revision ends the follow at once (rather than ECS's verdict). */
function crashEnds(state: RolloutState, circuitBreakerRollback: boolean): boolean {
  switch (state.phase) {
    case 'settling':
    case 'succeeded':
      // ECS completed the deployment: its circuit breaker no longer acts on it.
      return true;
    case 'in-progress':
    case 'traffic-shifted':
      return !circuitBreakerRollback;
    default:
      return false;
  }
}

/**
 * Follows a rollout until it is final (or, with `traffic-shifted`, until production traffic is on
 * the new revision), reporting each stage change and each change of progress. Success needs ECS's
 * completion and the service's counts settled on the revision (phase `succeeded`); a task of the
 * revision that stops on its own ends the follow (see {@link CrashWatch}). Fast at first, then
 * every `intervalMs` or as the pacer says; throttling backs off (the kit's poll); transient
 * errors are retried until the deadline. A cancel (the signal) always wins over a verdict.
 */
export async function followRollout(opts: FollowOptions): Promise<FollowResult> {
  const clock = opts.clock ?? systemClock;
  const fast = opts.fastIntervalMs ?? 1000;
  const fastChecks = opts.fastChecks ?? 1;
  const interval = opts.intervalMs ?? 2700;
  const timeline: StageSpan[] = [];
  let state: RolloutState | undefined;
  let checks = 0;
  let eventsSeen = 0;
  let lastProbe = 0;
  let crashed: StoppedTask[] = [];
  let endedOnCrash = false;
  /** Tasks ECS said it started since the rollout began, and whether it ever completed unsettled. */
  let startedTasks = 0;
  let sawSettling = false;
  let unreadable: FollowResult['unreadable'];

  const nextDelay = (attempt: number): number =>
    attempt < fastChecks ? fast : (opts.pacer?.nextDelay() ?? interval);

  const shouldProbe = (
    current: RolloutState,
    previous: RolloutState | undefined,
    attempt: number,
  ) => {
    if (!opts.crashes) return false;
    if ((current.counts.failed ?? 0) > (previous?.counts.failed ?? 0)) return true;
    if (
      previous &&
      previous.phase === current.phase &&
      (current.counts.running ?? 0) < (previous.counts.running ?? 0)
    )
      return true;
    if (current.phase !== 'settling') return false;
    return (
      previous?.phase !== 'settling' ||
      progressKey(previous) !== progressKey(current) ||
      attempt - lastProbe >= 3
    );
  };

  const probe = async (attempt: number): Promise<StoppedTask[]> => {
    lastProbe = attempt;
    try {
      return (await opts.crashes?.find()) ?? [];
    } catch (error) {
      if (opts.signal?.aborted || (!isTransientAwsError(error) && !isThrottlingError(error)))
        throw error;
      return [];
    }
  };

  const step = async (
    attempt: number,
  ): Promise<{ done: true; value: RolloutState } | { done: false; delayMs: number }> => {
    checks = attempt;
    let current: RolloutState;
    try {
      current = await opts.reader.read(attempt);
    } catch (error) {
      if (opts.signal?.aborted || isThrottlingError(error) || !isTransientAwsError(error))
        throw error;
      unreadable = { error, failures: (unreadable?.failures ?? 0) + 1 };
      const delayMs = nextDelay(attempt);
      opts.onTransientError?.(error, unreadable.failures, delayMs);
      return { done: false, delayMs };
    }
    unreadable = undefined;
    if (current.stage && current.stage !== timeline[timeline.length - 1]?.stage) {
      const now = clock.now();
      const previous = timeline[timeline.length - 1];
      if (previous) previous.endedAt = now;
      timeline.push({ stage: current.stage, startedAt: now });
      opts.onStage?.(current.stage, previous);
    }
    if (!state || progressKey(state) !== progressKey(current)) opts.onProgress?.(current, state);
    const previous = state;
    state = current;
    const events = opts.reader.events();
    const fresh = events.slice(eventsSeen);
    eventsSeen = events.length;
    for (const e of fresh) startedTasks += Number(STARTED.exec(e.message ?? '')?.[1] ?? 0);
    if (current.phase === 'settling') sawSettling = true;
    await opts.pacer?.observe(current, opts.reader.snapshot(), fresh);
    if (opts.crashes && shouldProbe(current, previous, attempt)) {
      const found = await probe(attempt);
      if (found.length) {
        crashed = mergeTasks(crashed, found);
        if (crashEnds(current, opts.crashes.circuitBreakerRollback)) {
          endedOnCrash = true;
          return { done: true, value: current };
        }
      }
    }
    const satisfied = opts.satisfied
      ? opts.satisfied(current)
      : waitSatisfied(current, opts.waitUntil);
    if (
      satisfied &&
      opts.crashes &&
      lastProbe !== attempt &&
      isSuccess(current) &&
      (sawSettling ||
        startedTasks > (current.counts.desired ?? Infinity) ||
        (current.counts.failed ?? 0) > 0)
    ) {
      // One look cannot tell a crashing task from a running one: when ECS started more tasks
      // than the revision needs, or reported failures, or completed before the counts agreed,
      // ask whether any task of the revision stopped on its own before calling it a success.
      const found = await probe(attempt);
      if (found.length) {
        crashed = mergeTasks(crashed, found);
        endedOnCrash = true;
      }
    }
    if (satisfied) return { done: true, value: current };
    return { done: false, delayMs: nextDelay(attempt) };
  };

  let timedOut = false;
  try {
    // Nothing has moved right after the update: the first look comes after the fast interval.
    await clock.sleep(Math.min(fast, Math.max(0, opts.deadline - clock.now())), opts.signal);
    state = await poll(step, {
      deadline: opts.deadline,
      initialDelayMs: fast,
      maxDelayMs: 20_000,
      jitter: 0,
      signal: opts.signal,
      clock,
      what: `the deployment of ${opts.taskDefinitionArn}`,
      onThrottle: opts.onThrottle,
    });
  } catch (error) {
    if (!(error instanceof DeadlineExceededError)) throw error;
    timedOut = true;
  }
  // A cancel that came while the last look was in flight wins over what it read.
  opts.signal?.throwIfAborted();
  const last = timeline[timeline.length - 1];
  if (last && !last.endedAt) last.endedAt = clock.now();
  const snapshot = opts.reader.snapshot();
  return {
    state: state ?? interpretRollout(snapshot, opts.taskDefinitionArn),
    timedOut,
    timeline,
    events: opts.reader.events(),
    service: snapshot.service,
    deployment: snapshot.deployment,
    checks,
    crashed,
    endedOnCrash,
    unreadable: timedOut ? unreadable : undefined,
  };
}

/** Options of {@link followAndExplain}. */
export interface FollowAndExplainOptions {
  api: EcsApi;
  cluster?: string;
  service: string;
  serviceDeploymentArn?: string;
  /** The rollout's strategy; picks the status reader (`ROLLING` when unset). */
  strategy?: string;
  /** A status reader of another kind (CodeDeploy) to follow with, instead of the strategy's. */
  reader?: StatusReader;
  /** The revision whose rollout is followed (rolled out, or rolled back to). */
  taskDefinitionArn: string;
  waitUntil: 'stable' | 'traffic-shifted';
  satisfied?: (state: RolloutState) => boolean;
  /** True when the state followed to is a success (default: {@link isSuccess}). */
  succeeded?: (state: RolloutState) => boolean;
  /**
   * Tasks of this revision that stop on their own end the follow, and its stopped tasks explain
   * an outcome that is not a success (none when unset).
   */
  explainWith?: string;
  /** ECS rolls a failing deployment back itself (the service's circuit breaker with rollback). */
  circuitBreakerRollback?: boolean;
  /** Reads the deregistration delay of target groups (ms), to pace the looks during a drain. */
  deregistrationDelayMs?: (targetGroupArns: string[]) => Promise<number | undefined>;
  deadline: number;
  /** When the deploy or rollback started (epoch ms): older events and stopped tasks are not reported. */
  startedAt: number;
  log: DeployLog;
  signal?: AbortSignal;
  clock?: Clock;
  fastIntervalMs?: number;
  fastChecks?: number;
  intervalMs?: number;
  /** The wait between looks while nothing can change (drain, bake; default 15 s). */
  slowIntervalMs?: number;
}

/** What {@link followAndExplain} saw, with the stopped tasks that explain a failure. */
export interface FollowAndExplainResult extends FollowResult {
  stoppedTasks: StoppedTask[];
  /** Why the stopped tasks could not be read, when they could not. */
  stoppedTasksError?: string;
}

/** True for the states a wait ends well in: completed and settled, or production traffic shifted. */
export function isSuccess(state: RolloutState): boolean {
  return state.phase === 'succeeded' || state.phase === 'traffic-shifted';
}

/**
 * Follows a rollout in a log group, printing each new service event, stage and progress line,
 * and, when it does not end in a success, finds the stopped tasks that explain why.
 */
export async function followAndExplain(
  opts: FollowAndExplainOptions,
  groupName: string,
): Promise<FollowAndExplainResult> {
  const { log } = opts;
  const clock = opts.clock ?? systemClock;
  const reader =
    opts.reader ??
    statusReaderFor(opts.strategy, {
      api: opts.api,
      cluster: opts.cluster,
      service: opts.service,
      serviceDeploymentArn: opts.serviceDeploymentArn,
      taskDefinitionArn: opts.taskDefinitionArn,
      eventsSince: opts.startedAt,
      onEvent: (e) => log.info(`event: ${logSafe(e.message ?? '')}`),
    });
  const stopped = (): Promise<StoppedTask[]> =>
    findStoppedTasks(opts.api, {
      cluster: opts.cluster,
      service: opts.service,
      taskDefinitionArn: opts.explainWith,
      since: opts.startedAt,
    });
  const interval = opts.intervalMs ?? 2700;
  const pacer = new RolloutPacer({
    clock,
    intervalMs: interval,
    slowIntervalMs: opts.slowIntervalMs,
    deregistrationDelayMs: opts.deregistrationDelayMs,
    say: (m) => log.info(m),
    debug: (m) => log.debug(logSafe(m)),
  });
  const followed = await log.group(groupName, () =>
    followRollout({
      reader,
      taskDefinitionArn: opts.taskDefinitionArn,
      waitUntil: opts.waitUntil,
      satisfied: opts.satisfied,
      deadline: opts.deadline,
      signal: opts.signal,
      clock,
      fastIntervalMs: opts.fastIntervalMs,
      fastChecks: opts.fastChecks,
      intervalMs: interval,
      pacer,
      crashes: opts.explainWith
        ? {
            find: async () => (await stopped()).filter(stoppedOnItsOwn),
            circuitBreakerRollback: opts.circuitBreakerRollback ?? false,
          }
        : undefined,
      onStage: (stage, previous) =>
        log.info(
          `stage: ${stage}${previous ? ` (${previous.stage} took ${formatDuration((previous.endedAt ?? clock.now()) - previous.startedAt)})` : ''}`,
        ),
      onProgress: (state) => log.info(formatProgress(state)),
      onThrottle: (_e, delay) =>
        log.info(`ECS is throttling; next check in ${formatDuration(delay)}.`),
      onTransientError: (error, failures, delay) =>
        log.info(
          `Could not read the rollout (${logSafe(errorMessage(error), 300)}; ${failures} in a row); next look in ${formatDuration(delay)}.`,
        ),
    }),
  );
  const ok =
    !followed.timedOut && !followed.endedOnCrash && (opts.succeeded ?? isSuccess)(followed.state);
  if (ok || !opts.explainWith) return { ...followed, stoppedTasks: followed.crashed };
  try {
    const all = await stopped();
    const known = new Set(all.map((t) => t.taskId));
    return {
      ...followed,
      stoppedTasks: [...followed.crashed.filter((t) => !known.has(t.taskId)), ...all],
    };
  } catch (error) {
    opts.signal?.throwIfAborted();
    const why = logSafe(errorMessage(error), 300);
    log.warning(`Could not read the stopped tasks that explain the outcome: ${why}`);
    return { ...followed, stoppedTasks: followed.crashed, stoppedTasksError: why };
  }
}

/**
 * The sentence for a follow that gave up on transient errors: what could not be read, how often,
 * and the last state seen, so a workflow can tell "could not tell" from "failed".
 */
export function unreadableSentence(
  what: string,
  followed: Pick<FollowResult, 'state' | 'unreadable'>,
): string {
  const u = followed.unreadable;
  const error = u ? logSafe(errorMessage(u.error), 300) : 'unknown error';
  const seen =
    followed.state.status || followed.state.stage
      ? `the last state seen was ${formatProgress(followed.state)}`
      : 'no state could be read';
  return `Could not tell how ${what} ended: reading it failed ${u?.failures ?? 1} time(s) in a row until the deadline (last error: ${error}); ${seen}.`;
}
