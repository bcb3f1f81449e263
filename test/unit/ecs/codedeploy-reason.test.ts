import { codeDeployReason } from '../../../packages/ecs/src/codedeploy/rollout';
import type { StoppedTask } from '../../../packages/ecs/src/stopped-tasks';

const crashed: StoppedTask = {
  taskId: 'a1',
  stopCode: 'EssentialContainerExited',
  stoppedReason: 'Essential container in task exited',
  containers: [{ name: 'web', exitCode: 3 }],
};
const scaledIn: StoppedTask = {
  taskId: 'b2',
  stopCode: 'ServiceSchedulerInitiated',
  stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1)',
  containers: [{ name: 'web', exitCode: 0 }],
};
const base = {
  deploymentId: 'd-1',
  target: 'web:2',
  previous: 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1',
  state: { phase: 'failed' as const, counts: {}, final: true },
  timeoutMs: 600_000,
};

test.each([
  {
    name: 'rolled back: the error, the failed event, the tasks that stopped on their own, blue again',
    status: 'rolled-back' as const,
    facts: {
      status: 'Failed',
      error: 'ECS_UPDATE_ERROR: 3 tasks stopped',
      lifecycleEvents: [{ name: 'Install', status: 'Failed', message: 'green failed' }],
    },
    stopped: [scaledIn, crashed, { ...crashed, taskId: 'a2' }],
    reason:
      'CodeDeploy deployment d-1 of web:2 failed and CodeDeploy rolled it back (ECS_UPDATE_ERROR: 3 tasks stopped). Lifecycle event Install failed (green failed). 2 tasks stopped: Essential container in task exited (web: exit code 3) ×2. Production traffic is back on web:1.',
  },
  {
    name: 'stopped by request without rollback: failed with the error',
    status: 'failed' as const,
    facts: { status: 'Stopped', error: 'MANUAL_STOP: stopped', lifecycleEvents: [] },
    stopped: [scaledIn],
    reason:
      'CodeDeploy deployment d-1 of web:2 was stopped (MANUAL_STOP: stopped). 1 task stopped: Scaling activity initiated by (deployment ecs-svc/1) (web: exit code 0).',
  },
  {
    name: 'rolled back on failed health checks: those tasks, not the ones scaled in',
    status: 'rolled-back' as const,
    facts: { status: 'Failed', error: 'ECS_UPDATE_ERROR: unhealthy', lifecycleEvents: [] },
    stopped: [
      scaledIn,
      {
        taskId: 'c3',
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason: 'Task failed ELB health checks in (target-group green)',
        containers: [],
      },
    ],
    reason:
      'CodeDeploy deployment d-1 of web:2 failed and CodeDeploy rolled it back (ECS_UPDATE_ERROR: unhealthy). 1 task stopped: Task failed ELB health checks in (target-group green). Production traffic is back on web:1.',
  },
  {
    name: 'ready: test traffic on green, production on blue',
    status: 'ready' as const,
    facts: { status: 'Ready', lifecycleEvents: [] },
    stopped: [],
    reason:
      'CodeDeploy deployment d-1 of web:2 is Ready: test traffic is on green (web:2) and production traffic on blue (web:1), waiting for a go-ahead (ContinueDeployment).',
  },
])('$name', ({ status, facts, stopped, reason }) => {
  expect(codeDeployReason({ ...base, status, facts, stoppedTasks: stopped })).toBe(reason);
});
