// Found by running a task whose image could not be pulled: the reason said ECS's long
// CannotPullContainerError twice, once for the container and once as the stopped reason.
import { describeFailure, type TaskOutcome } from '../../../packages/ecs/src/run-task/explain';

const PULL =
  'CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref placeholder: not found';

const outcome = (o: Partial<TaskOutcome>): TaskOutcome => ({
  taskArn: 'arn:aws:ecs:us-east-1:000000000000:task/jobs/e064',
  taskId: 'e064',
  lastStatus: 'STOPPED',
  failedContainers: [],
  lastLines: [],
  ...o,
});

test.each([
  {
    name: 'a container reason equal to the stopped reason is said once',
    o: outcome({
      stopCode: 'TaskFailedToStart',
      stoppedReason: PULL,
      failedContainers: [{ name: 'job', reason: PULL }],
    }),
    says: `Task e064 essential container \`job\` did not run; stopped: TaskFailedToStart: ${PULL}.`,
  },
  {
    name: 'a container reason of its own is kept next to the stopped reason',
    o: outcome({
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      failedContainers: [
        {
          name: 'job',
          exitCode: 137,
          reason: 'OutOfMemoryError: Container killed due to memory usage',
        },
      ],
    }),
    says: 'Task e064 essential container `job` exited with code 137 (OutOfMemoryError: Container killed due to memory usage); stopped: EssentialContainerExited: Essential container in task exited.',
  },
])('$name', ({ o, says }) => {
  expect(describeFailure(o)).toBe(says);
});
