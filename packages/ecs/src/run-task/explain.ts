import type { Task } from '@aws-sdk/client-ecs';
import { logSafe } from '../../../kit/src/log-text';
import { taskId } from './target';

/** How one task ended. */
export interface TaskOutcome {
  taskArn: string;
  taskId: string;
  lastStatus?: string;
  stopCode?: string;
  stoppedReason?: string;
  /** Exit code of the container the run is about (the overridden one). */
  exitCode?: number;
  /** The essential containers that did not exit 0: name, exit code (when it ran) and reason. */
  failedContainers: { name: string; exitCode?: number; reason?: string }[];
  startedAt?: Date;
  stoppedAt?: Date;
  /** The container's last log lines, oldest first. */
  lastLines: string[];
}

/** The outcome of a task as DescribeTasks returns it; `essential` says which containers count. */
export function taskOutcome(
  task: Task,
  container: string,
  essential: (name: string) => boolean,
  lastLines: string[],
): TaskOutcome {
  const containers = task.containers ?? [];
  const failed = containers
    .filter((c) => essential(c.name ?? '') && c.exitCode !== 0)
    .map((c) => ({ name: c.name ?? '?', exitCode: c.exitCode, reason: c.reason }));
  return {
    taskArn: task.taskArn ?? '',
    taskId: taskId(task.taskArn ?? ''),
    lastStatus: task.lastStatus,
    stopCode: task.stopCode,
    stoppedReason: task.stoppedReason,
    exitCode: containers.find((c) => c.name === container)?.exitCode,
    failedContainers: failed,
    startedAt: task.startedAt,
    stoppedAt: task.stoppedAt,
    lastLines,
  };
}

/** True when the task stopped because its essential containers exited, all with code 0. */
export function succeeded(o: TaskOutcome): boolean {
  return (
    o.lastStatus === 'STOPPED' &&
    o.failedContainers.length === 0 &&
    (o.stopCode === undefined || o.stopCode === 'EssentialContainerExited')
  );
}

/** The exit code that speaks for a failed task: the followed container's, else the first failed one's. */
export function failingExitCode(o: TaskOutcome): number | undefined {
  if (o.exitCode !== undefined && o.exitCode !== 0) return o.exitCode;
  return o.failedContainers.find((c) => c.exitCode !== undefined)?.exitCode;
}

/** One sentence on why a task failed: exit codes, container reasons, stop code and stopped reason. */
export function describeFailure(o: TaskOutcome): string {
  const parts: string[] = [];
  for (const c of o.failedContainers) {
    const what =
      c.exitCode !== undefined
        ? `essential container \`${c.name}\` exited with code ${c.exitCode}`
        : `essential container \`${c.name}\` did not run`;
    // ECS often repeats the stopped reason as the container's: say it once, after `stopped:`.
    parts.push(c.reason && c.reason !== o.stoppedReason ? `${what} (${c.reason})` : what);
  }
  const stopped = [o.stopCode, o.stoppedReason].filter(Boolean).join(': ');
  if (stopped) parts.push(`stopped: ${stopped}`);
  if (!parts.length) parts.push(`ended ${o.lastStatus ?? 'in an unknown state'}`);
  return `Task ${o.taskId} ${parts.join('; ')}.`;
}

/**
 * The last log lines as a block for a reason, or '' when there are none. Each line is made safe
 * to print (one line, no control characters, no runner command), as the reason is printed and
 * handed to later steps.
 */
export function lastLinesBlock(o: TaskOutcome): string {
  if (!o.lastLines.length) return '';
  return `\nLast log lines of task ${o.taskId}:\n${o.lastLines.map((l) => `  ${logSafe(l, 500)}`).join('\n')}`;
}
