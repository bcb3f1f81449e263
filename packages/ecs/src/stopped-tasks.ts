import type { Task } from '@aws-sdk/client-ecs';
import type { EcsApi } from './api';

/** Why one task stopped, as ECS reports it. */
export interface StoppedTask {
  taskId: string;
  taskDefinitionArn?: string;
  stoppedReason?: string;
  stopCode?: string;
  stoppedAt?: Date;
  containers: { name: string; exitCode?: number; reason?: string }[];
}

/** Reduces an ECS task to what explains its stop. */
export function toStoppedTask(task: Task): StoppedTask {
  return {
    taskId: task.taskArn?.split('/').pop() ?? '(unknown task)',
    taskDefinitionArn: task.taskDefinitionArn,
    stoppedReason: task.stoppedReason,
    stopCode: task.stopCode,
    stoppedAt: task.stoppedAt,
    containers: (task.containers ?? []).map((c) => ({
      name: c.name ?? '?',
      exitCode: c.exitCode ?? undefined,
      reason: c.reason ?? undefined,
    })),
  };
}

function containerPart(task: StoppedTask): string {
  return task.containers
    .filter((c) => (c.exitCode !== undefined && c.exitCode !== null) || c.reason)
    .map((c) => {
      const bits = [
        c.exitCode !== undefined && c.exitCode !== null ? `exit code ${c.exitCode}` : '',
        c.reason ?? '',
      ];
      return `${c.name}: ${bits.filter(Boolean).join(', ')}`;
    })
    .join('; ');
}

/** One line for one task: `task 1a2b3c stopped: Essential container in task exited (web: exit code 1)`. */
export function describeStoppedTask(task: StoppedTask): string {
  const containers = containerPart(task);
  const reason = task.stoppedReason ?? task.stopCode ?? 'no reason given';
  return `task ${task.taskId} stopped: ${reason}${containers ? ` (${containers})` : ''}`;
}

/**
 * Summarises stopped tasks in one sentence, grouping identical reasons:
 * `3 tasks stopped: Essential container in task exited (web: exit code 1) ×3`.
 */
export function summarizeStoppedTasks(tasks: StoppedTask[]): string | undefined {
  if (!tasks.length) return undefined;
  const groups = new Map<string, number>();
  for (const t of tasks) {
    const containers = containerPart(t);
    const key = `${t.stoppedReason ?? t.stopCode ?? 'no reason given'}${containers ? ` (${containers})` : ''}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const parts = [...groups].map(([reason, n]) => (n > 1 ? `${reason} ×${n}` : reason));
  return `${tasks.length} task${tasks.length > 1 ? 's' : ''} stopped: ${parts.join('; ')}`;
}

/**
 * The stopped tasks of `service` that ran `taskDefinitionArn` and stopped at or after `since`
 * (epoch ms), newest first, at most `limit` (default 10). Two or three ECS calls.
 */
export async function findStoppedTasks(
  api: EcsApi,
  opts: {
    cluster?: string;
    service: string;
    taskDefinitionArn?: string;
    since: number;
    limit?: number;
  },
): Promise<StoppedTask[]> {
  const listed = await api.listTasks({
    cluster: opts.cluster,
    serviceName: opts.service,
    desiredStatus: 'STOPPED',
    maxResults: 100,
  });
  const arns = listed.taskArns ?? [];
  if (!arns.length) return [];
  const described = await api.describeTasks({ cluster: opts.cluster, tasks: arns.slice(0, 100) });
  return (described.tasks ?? [])
    .filter((t) => !opts.taskDefinitionArn || t.taskDefinitionArn === opts.taskDefinitionArn)
    .filter(
      (t) =>
        (t.stoppedAt ?? t.stoppingAt ?? t.createdAt ?? new Date()).getTime() >= opts.since - 1000,
    )
    .sort((a, b) => (b.stoppedAt?.getTime() ?? 0) - (a.stoppedAt?.getTime() ?? 0))
    .slice(0, opts.limit ?? 10)
    .map(toStoppedTask);
}

/**
 * True when a task stopped on its own (its essential container exited, or it failed to start),
 * rather than being stopped by the scheduler (scale-in, failed load balancer health checks) or a
 * user.
 */
export function stoppedOnItsOwn(task: StoppedTask): boolean {
  return task.stopCode === 'EssentialContainerExited' || task.stopCode === 'TaskFailedToStart';
}
