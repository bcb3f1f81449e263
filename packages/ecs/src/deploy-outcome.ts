import { parenthetical } from '../../kit/src/log-text';
import { formatDuration } from '../../kit/src/duration';
import type { DeployStatus } from './deploy';
import { unreadableSentence, type FollowResult } from './follow';
import { formatCounts, type RolloutState } from './rollout';
import { summarizeStoppedTasks, type StoppedTask } from './stopped-tasks';
import { shortTaskDefinition } from './task-definition';

/** The sentence that explains a rollout that did not succeed. */
export function failureReason(opts: {
  status: DeployStatus;
  taskDefinitionArn: string;
  previousTaskDefinitionArn?: string;
  followed: Pick<FollowResult, 'state' | 'service' | 'endedOnCrash' | 'unreadable'>;
  stoppedTasks: StoppedTask[];
  circuitBreakerRollback?: boolean;
  timeoutMs: number;
}): string {
  const { state, service } = opts.followed;
  const target = shortTaskDefinition(opts.taskDefinitionArn);
  const stopped = summarizeStoppedTasks(opts.stoppedTasks);
  const ecsReason = parenthetical(state.reason);
  const counts = formatCounts(state.counts);
  const running = [
    ...new Set((service?.deployments ?? []).map((d) => shortTaskDefinition(d.taskDefinition))),
  ];
  const serving = running.length ? ` The service runs ${running.join(' and ')}.` : '';
  const tail = stopped ? `: ${stopped}.` : '.';
  switch (opts.status) {
    case 'rolled-back':
      return `The deployment of ${target} failed and was rolled back${ecsReason}${tail}${
        opts.previousTaskDefinitionArn
          ? ` The service is back on ${shortTaskDefinition(opts.previousTaskDefinitionArn)}.`
          : ''
      }`;
    case 'timed-out':
      if (state.phase === 'settling')
        return `Timed out after ${formatDuration(opts.timeoutMs)}: ${unsettled(target, state)}.${serving}${stopped ? ` ${stopped}.` : ''}`;
      return `Timed out after ${formatDuration(opts.timeoutMs)}: the deployment of ${target} is still ${
        state.status ?? 'in progress'
      }${state.stage ? ` at stage ${state.stage}` : ''}${counts ? ` (${counts})` : ''}${ecsReason}.${serving}${
        stopped ? ` ${stopped}.` : ''
      }`;
    case 'unknown':
      return unreadableSentence(`the deployment of ${target}`, opts.followed);
    default:
      if (opts.followed.endedOnCrash) {
        // The counts of one look at crash-looping tasks may read 2/2: they are stated only when
        // they show the service unsettled, which is true.
        const completedBy =
          state.phase === 'settling'
            ? unsettled(target, state)
            : `ECS marked the deployment of ${target} ${state.status ?? 'completed'} while its tasks kept stopping and being replaced`;
        const ecs =
          state.phase === 'settling' || state.phase === 'succeeded'
            ? ` ${completedBy}${opts.circuitBreakerRollback ? '; the circuit breaker does not act on a completed deployment, so nothing was rolled back' : ''}.`
            : opts.circuitBreakerRollback
              ? ''
              : ' The service has no circuit breaker with rollback: nothing was rolled back.';
        return `The deployment of ${target} failed: tasks of ${target} stopped on their own${stopped ? ` (${stopped})` : ''}.${ecs}${serving}`;
      }
      return `The deployment of ${target} failed${ecsReason}${tail}${serving}`;
  }
}

/** `ECS marked the deployment of web:2 COMPLETED, but the service has not settled on it (0/2 running, 2 pending)`. */
function unsettled(target: string, state: RolloutState): string {
  const counts = formatCounts(state.counts);
  return `ECS marked the deployment of ${target} ${state.status ?? 'completed'}, but the service has not settled on it${counts ? ` (${counts})` : ''}`;
}

/** The deploy's status from how following the rollout ended. */
export function statusOf(followed: FollowResult): DeployStatus {
  if (followed.unreadable) return 'unknown';
  const { state } = followed;
  if (followed.endedOnCrash) return 'failed';
  if (followed.timedOut) return 'timed-out';
  switch (state.phase) {
    case 'succeeded':
    case 'traffic-shifted':
      return 'succeeded';
    case 'rolled-back':
    case 'rolling-back':
      return 'rolled-back';
    case 'failed':
      return 'failed';
    default:
      return 'in-progress';
  }
}
