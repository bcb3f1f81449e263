import type { Failure, Task } from '@aws-sdk/client-ecs';
import { CancelledError, errorMessage, isTransientAwsError } from '../../../kit/src/errors';
import { formatDuration } from '../../../kit/src/duration';
import type { Clock } from '../../../kit/src/poll';
import type { LogsReaderFor, RunTaskEcs } from './api';
import {
  describeFailure,
  failingExitCode,
  lastLinesBlock,
  succeeded,
  taskOutcome,
  type TaskOutcome,
} from './explain';
import { LogFollower } from './log-follower';
import { awslogsStreamName, taskId, type RunTarget } from './target';

/** How a run ended. */
export type RunStatus = 'succeeded' | 'failed' | 'timed-out' | 'cancelled' | 'not-started';

/** Where the run writes what a user reads. */
export interface RunTaskLog {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
  /** One line of a task's log; `task` is set when several tasks run. */
  taskLine(task: string | undefined, line: string): void;
}

/** Options of {@link runOneOffTask}. */
export interface RunOneOffOptions {
  ecs: RunTaskEcs;
  /** CloudWatch Logs readers per region; the logs are not followed when absent. */
  logs?: LogsReaderFor;
  clock: Clock;
  target: RunTarget;
  timeoutMs: number;
  /**
   * Longest wait between two looks at the tasks and their logs (default 2 s); the first looks
   * come sooner (from 500 ms, growing by half each time), so a short task ends promptly.
   */
  pollIntervalMs?: number;
  /** After StopTask on a timeout, how long to wait for the tasks to stop (default 2 min). */
  stopGraceMs?: number;
  signal?: AbortSignal;
  log: RunTaskLog;
  /** The reason StopTask is given, naming who stops (the workflow run); the cause is appended. */
  stopReason: string;
  /** Called with the ARNs as soon as RunTask has answered. */
  onStarted?: (taskArns: string[]) => void;
}

/** What a run did and how it ended. */
export interface RunOneOffResult {
  status: RunStatus;
  /** The exit code that speaks for the run: 0 on success, the first failing task's otherwise. */
  exitCode?: number;
  reason: string;
  taskArns: string[];
  tasks: TaskOutcome[];
  /** Tasks this run stopped with StopTask (timeout, cancel, failure). */
  stoppedByRun: string[];
  /** RunTask's failures (capacity, placement, access). */
  failures: Failure[];
  /** The stream of the first task's (or first failing task's) container, when it uses awslogs. */
  logStream?: { group: string; region: string; stream: string };
  durationMs: number;
}

/** RunTask's failures in one line, each different one once (with how many tasks it hit). */
function describeRunFailures(failures: Failure[]): string {
  const counts = new Map<string, number>();
  for (const f of failures) {
    const text = [f.arn, f.reason, f.detail].filter(Boolean).join(': ');
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  return [...counts].map(([text, n]) => (n > 1 ? `${text} (${n} tasks)` : text)).join('; ');
}

/**
 * The running tasks this run may have started without learning it (RunTask cut short): started
 * by the same `startedBy`, of the same task definition, created since the run began (a minute
 * of clock skew allowed).
 */
async function findStartedTasks(opts: RunOneOffOptions, since: number): Promise<string[]> {
  const { ecs, target } = opts;
  const listed = await ecs.listTasks({
    cluster: target.input.cluster,
    startedBy: target.input.startedBy,
    desiredStatus: 'RUNNING',
  });
  const candidates = listed.taskArns ?? [];
  if (!candidates.length) return [];
  const described = await ecs.describeTasks({
    cluster: target.input.cluster,
    tasks: candidates.slice(0, 100),
  });
  return (described.tasks ?? [])
    .filter(
      (t) =>
        t.taskDefinitionArn === target.taskDefinitionArn &&
        (t.createdAt?.getTime() ?? since) >= since - 60_000,
    )
    .map((t) => t.taskArn!)
    .filter(Boolean);
}

/**
 * Runs a one-off task (or `count` of them) and follows it until it stops: prints the
 * container's log lines as they arrive, explains how each task ended, and never leaves a task
 * behind: on the timeout, on cancellation (`signal`) and on any failure after RunTask it stops
 * the tasks it started. A cancel returns a `cancelled` result (after stopping the tasks) rather
 * than throwing; other errors are thrown after the tasks are stopped.
 */
export async function runOneOffTask(opts: RunOneOffOptions): Promise<RunOneOffResult> {
  const { ecs, clock, target, log } = opts;
  const startedAt = clock.now();
  const interval = opts.pollIntervalMs ?? 2000;
  const cluster = target.input.cluster;
  const result = (
    status: RunStatus,
    reason: string,
    extra: Partial<RunOneOffResult> = {},
  ): RunOneOffResult => ({
    status,
    reason,
    taskArns: [],
    tasks: [],
    stoppedByRun: [],
    failures: [],
    durationMs: clock.now() - startedAt,
    ...extra,
  });

  const stoppedByRun: string[] = [];
  const arns: string[] = [];
  const stopAll = async (cause: string): Promise<void> => {
    for (const arn of arns) {
      if (stoppedByRun.includes(arn)) continue;
      try {
        await ecs.stopTask({
          cluster,
          task: arn,
          reason: `${opts.stopReason}: ${cause}`.slice(0, 255),
        });
        stoppedByRun.push(arn);
        log.info(`Stopped task ${taskId(arn)} (StopTask): ${cause}.`);
      } catch (error) {
        log.warning(`Could not stop task ${taskId(arn)}: ${errorMessage(error)}`);
      }
    }
  };

  let started;
  try {
    started = await ecs.runTask(target.input);
  } catch (error) {
    // A cancel (or a lost answer) while RunTask was in flight: the tasks may have started
    // without this run learning their ARNs. Find them by who started them, and stop them.
    const cancel = error instanceof CancelledError || opts.signal?.aborted === true;
    if (!cancel && !isTransientAwsError(error)) throw error;
    arns.push(...(await findStartedTasks(opts, startedAt).catch(() => [])));
    if (arns.length) opts.onStarted?.(arns);
    await stopAll(
      cancel ? 'the workflow run was cancelled' : `RunTask failed: ${errorMessage(error)}`,
    );
    if (!cancel) throw error;
    return result(
      'cancelled',
      `Cancelled while RunTask was in flight; ${stoppedByRun.length ? `stopped ${stoppedByRun.map((a) => `task ${taskId(a)}`).join(', ')} (StopTask)` : 'no task of this run was found running'}.`,
      { taskArns: arns, stoppedByRun },
    );
  }
  const tasks = started.tasks ?? [];
  const failures = started.failures ?? [];
  arns.push(...tasks.map((t) => t.taskArn!).filter(Boolean));
  if (arns.length) opts.onStarted?.(arns);

  if (failures.length || arns.length < target.input.count!) {
    const what = `RunTask started ${arns.length} of ${target.input.count} task(s)`;
    const why = failures.length ? `: ${describeRunFailures(failures)}` : '';
    if (arns.length) await stopAll('the other tasks of the run could not be placed');
    return result(
      'not-started',
      `${what}${why}.${arns.length ? ' Stopped the ones it started.' : ''}`,
      {
        taskArns: arns,
        failures,
        stoppedByRun,
      },
    );
  }
  log.info(
    `Started ${arns.length === 1 ? `task ${taskId(arns[0])}` : `${arns.length} tasks: ${arns.map(taskId).join(', ')}`} from ${target.taskDefinition}.`,
  );

  const several = arns.length > 1;
  const followers = new Map<string, LogFollower>();
  if (target.awslogs && opts.logs) {
    const reader = opts.logs(target.awslogs.region);
    let warned = false;
    for (const arn of arns) {
      const stream = awslogsStreamName(target.awslogs, target.container, arn);
      if (!stream) continue;
      followers.set(
        arn,
        new LogFollower(
          reader,
          target.awslogs.group,
          stream,
          (line) => log.taskLine(several ? taskId(arn) : undefined, line),
          (problem) => {
            if (warned) return;
            warned = true;
            log.warning(
              `Could not read the logs of container \`${target.container}\` (${errorMessage(problem.error)}); going on without them.`,
            );
          },
        ),
      );
    }
    if (!followers.size)
      log.info(
        `Container \`${target.container}\` logs to CloudWatch group ${target.awslogs.group} without \`awslogs-stream-prefix\`, so its stream cannot be found: its log lines are not shown.`,
      );
  } else if (!target.awslogs) {
    log.info(
      `Container \`${target.container}\` has no awslogs log configuration${target.logDriver ? ` (it uses \`${target.logDriver}\`)` : ''}: its log lines cannot be shown here.`,
    );
  }

  const deadline = startedAt + opts.timeoutMs;
  let wait = Math.min(500, interval);
  let stopDeadline: number | undefined;
  let timedOut = false;
  let cancelled = false;
  let latest = new Map<string, Task>(tasks.map((t) => [t.taskArn!, t]));
  const lastStatus = new Map<string, string | undefined>();
  const drainAll = async (): Promise<void> => {
    for (const f of followers.values()) await f.drain();
  };

  for (;;) {
    try {
      if (opts.signal?.aborted) throw opts.signal.reason;
      const out = await ecs.describeTasks({ cluster, tasks: arns });
      latest = new Map([...latest, ...(out.tasks ?? []).map((t) => [t.taskArn!, t] as const)]);
      for (const [arn, t] of latest) {
        const before = lastStatus.get(arn);
        if (before !== t.lastStatus) {
          lastStatus.set(arn, t.lastStatus);
          log.info(`Task ${taskId(arn)}: ${before ? `${before} → ` : ''}${t.lastStatus}`);
        }
      }
      await drainAll();
      const allStopped = arns.every((a) => latest.get(a)?.lastStatus === 'STOPPED');
      if (allStopped) break;
      const now = clock.now();
      if (!timedOut && now >= deadline) {
        timedOut = true;
        log.warning(`The task did not stop within ${formatDuration(opts.timeoutMs)}: stopping it.`);
        await stopAll(`timed out after ${formatDuration(opts.timeoutMs)}`);
        stopDeadline = now + (opts.stopGraceMs ?? 120_000);
      } else if (stopDeadline !== undefined && now >= stopDeadline) break;
      const left = (stopDeadline ?? deadline) - now;
      await clock.sleep(left > 0 ? Math.min(wait, left) : wait, opts.signal);
      wait = Math.min(interval, wait * 1.5);
    } catch (error) {
      if (error instanceof CancelledError || opts.signal?.aborted) {
        cancelled = true;
        await stopAll('the workflow run was cancelled');
        break;
      }
      if (isTransientAwsError(error) && clock.now() < deadline) {
        log.debug(`Retrying after a transient error: ${errorMessage(error)}`);
        await clock.sleep(interval, opts.signal).catch(() => undefined);
        continue;
      }
      await stopAll(`the run failed: ${errorMessage(error)}`);
      throw error;
    }
  }

  // CloudWatch Logs may make the last lines readable a moment after the task has stopped.
  if (!cancelled && followers.size) {
    try {
      await clock.sleep(Math.min(1000, interval), opts.signal);
      await drainAll();
    } catch (error) {
      if (!(error instanceof CancelledError))
        log.debug(`Last read of the logs failed: ${errorMessage(error)}`);
    }
  }
  const essential = new Set(target.essentialContainers);
  const outcomes = arns.map((arn) =>
    taskOutcome(
      latest.get(arn) ?? { taskArn: arn },
      target.container,
      (name) => essential.has(name),
      followers.get(arn)?.lastLines ?? [],
    ),
  );
  const failed = outcomes.filter((o) => !succeeded(o));
  const primary = failed[0] ?? outcomes[0];
  const stream =
    target.awslogs && awslogsStreamName(target.awslogs, target.container, primary.taskArn);
  const base = {
    taskArns: arns,
    tasks: outcomes,
    stoppedByRun,
    failures,
    logStream:
      stream && target.awslogs
        ? { group: target.awslogs.group, region: target.awslogs.region, stream }
        : undefined,
  };
  const took = formatDuration(clock.now() - startedAt);
  const label = several ? `${arns.length} tasks` : `Task ${outcomes[0].taskId}`;
  if (cancelled) {
    return result(
      'cancelled',
      `Stopped ${stoppedByRun.length ? stoppedByRun.map((a) => `task ${taskId(a)}`).join(', ') : 'no task'} (StopTask) after ${took} because the workflow run was cancelled.${lastLinesBlock(primary)}`,
      { ...base, exitCode: failingExitCode(primary) },
    );
  }
  if (timedOut) {
    const still = arns.filter((a) => latest.get(a)?.lastStatus !== 'STOPPED');
    return result(
      'timed-out',
      `${label} did not stop within ${formatDuration(opts.timeoutMs)}: stopped ${stoppedByRun.map(taskId).join(', ') || 'nothing'} (StopTask)${still.length ? `; still ${still.map((a) => `${taskId(a)} ${latest.get(a)?.lastStatus}`).join(', ')}` : ''}.${lastLinesBlock(primary)}`,
      { ...base, exitCode: failingExitCode(primary) },
    );
  }
  if (!failed.length) {
    return result(
      'succeeded',
      `${label} of ${target.taskDefinition} exited with code 0 after ${took}.`,
      { ...base, exitCode: 0 },
    );
  }
  const head = several ? `${failed.length} of ${arns.length} tasks failed. ` : '';
  return result('failed', `${head}${describeFailure(primary)}${lastLinesBlock(primary)}`, {
    ...base,
    exitCode: failingExitCode(primary),
  });
}
