// The one follow-and-explain loop of every rollout kind: follow the rollout through the kind's
// status reader until the wait is satisfied or the deadline passes, log what moved, and explain
// an outcome that is not a success with the stopped tasks of the revision rolled out.
import type { Service, ServiceDeployment, ServiceEvent } from '@aws-sdk/client-ecs';
import { formatDuration } from '../../kit/src/duration';
import { poll, systemClock, DeadlineExceededError, type Clock } from '../../kit/src/poll';
import type { EcsApi } from './api';
import {
  formatProgress,
  interpretRollout,
  waitSatisfied,
  type RolloutState,
  type StageSpan,
} from './rollout';
import type { DeployLog } from './service';
import { statusReaderFor, type StatusReader } from './status-readers';
import { findStoppedTasks, type StoppedTask } from './stopped-tasks';

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
  onStage?: (stage: string, previous: StageSpan | undefined) => void;
  onProgress?: (state: RolloutState, previous: RolloutState | undefined) => void;
  onThrottle?: (error: unknown, delayMs: number) => void;
}

/** What following a rollout saw. */
export interface FollowResult {
  state: RolloutState;
  timedOut: boolean;
  timeline: StageSpan[];
  events: ServiceEvent[];
  service?: Service;
  deployment?: ServiceDeployment;
  checks: number;
}

function progressKey(s: RolloutState): string {
  return JSON.stringify([s.phase, s.status, s.stage, s.counts]);
}

/**
 * Follows a rollout until it is final (or, with `traffic-shifted`, until production traffic is on
 * the new revision), reporting each stage change and each change of progress. Fast at first, then
 * every `intervalMs`; throttling backs off (the kit's poll).
 */
export async function followRollout(opts: FollowOptions): Promise<FollowResult> {
  const clock = opts.clock ?? systemClock;
  const fast = opts.fastIntervalMs ?? 1000;
  const fastChecks = opts.fastChecks ?? 1;
  const interval = opts.intervalMs ?? 2700;
  const timeline: StageSpan[] = [];
  let state: RolloutState | undefined;
  let checks = 0;

  const step = async (
    attempt: number,
  ): Promise<{ done: true; value: RolloutState } | { done: false; delayMs: number }> => {
    checks = attempt;
    const current = await opts.reader.read(attempt);
    if (current.stage && current.stage !== timeline[timeline.length - 1]?.stage) {
      const now = clock.now();
      const previous = timeline[timeline.length - 1];
      if (previous) previous.endedAt = now;
      timeline.push({ stage: current.stage, startedAt: now });
      opts.onStage?.(current.stage, previous);
    }
    if (!state || progressKey(state) !== progressKey(current)) opts.onProgress?.(current, state);
    state = current;
    if (opts.satisfied ? opts.satisfied(current) : waitSatisfied(current, opts.waitUntil))
      return { done: true, value: current };
    return { done: false, delayMs: attempt < fastChecks ? fast : interval };
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
  /** The revision whose rollout is followed (rolled out, or rolled back to). */
  taskDefinitionArn: string;
  waitUntil: 'stable' | 'traffic-shifted';
  satisfied?: (state: RolloutState) => boolean;
  /** True when the state followed to is a success (default: succeeded or traffic shifted). */
  succeeded?: (state: RolloutState) => boolean;
  /** Stopped tasks of this revision explain an outcome that is not a success (none when unset). */
  explainWith?: string;
  deadline: number;
  /** When the deploy or rollback started (epoch ms): older events and stopped tasks are not reported. */
  startedAt: number;
  log: DeployLog;
  signal?: AbortSignal;
  clock?: Clock;
  fastIntervalMs?: number;
  fastChecks?: number;
  intervalMs?: number;
}

/** What {@link followAndExplain} saw, with the stopped tasks that explain a failure. */
export interface FollowAndExplainResult extends FollowResult {
  stoppedTasks: StoppedTask[];
}

/** True for the states a wait ends well in: completed, or production traffic shifted. */
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
  const reader = statusReaderFor(opts.strategy, {
    api: opts.api,
    cluster: opts.cluster,
    service: opts.service,
    serviceDeploymentArn: opts.serviceDeploymentArn,
    taskDefinitionArn: opts.taskDefinitionArn,
    eventsSince: opts.startedAt,
    onEvent: (e) => log.info(`event: ${e.message ?? ''}`),
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
      intervalMs: opts.intervalMs,
      onStage: (stage, previous) =>
        log.info(
          `stage: ${stage}${previous ? ` (${previous.stage} took ${formatDuration((previous.endedAt ?? clock.now()) - previous.startedAt)})` : ''}`,
        ),
      onProgress: (state) => log.info(formatProgress(state)),
      onThrottle: (_e, delay) =>
        log.info(`ECS is throttling; next check in ${formatDuration(delay)}.`),
    }),
  );
  const ok = !followed.timedOut && (opts.succeeded ?? isSuccess)(followed.state);
  const stoppedTasks =
    ok || !opts.explainWith
      ? []
      : await findStoppedTasks(opts.api, {
          cluster: opts.cluster,
          service: opts.service,
          taskDefinitionArn: opts.explainWith,
          since: opts.startedAt,
        });
  return { ...followed, stoppedTasks };
}
