import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Clock } from '../../../packages/local-aws/src/clock';
import { FaultInjector } from '../../../packages/local-aws/src/faults';
import {
  TaskRunner,
  type AwslogsSink,
  type TaskRunnerEvents,
} from '../../../packages/local-aws/src/ecs/task-runner';
import type { Task, TaskDefinition } from '../../../packages/local-aws/src/ecs/model';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a StopTask that arrives while a container is being spawned stops that container too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'local-aws-stop-race-'));
  const clock = new Clock(1);
  const runner = new TaskRunner(
    clock,
    {
      materialize: () =>
        Promise.resolve({ rootfs: dir, digest: `sha256:${'0'.repeat(64)}`, config: {} }),
    },
    new FaultInjector({
      stopTask: () => undefined,
      withholdFargateCapacity: () => undefined,
      withheldFargateCapacity: () => [],
      restoreFargateCapacity: () => undefined,
    }),
    join(dir, 'logs'),
  );
  const taskArn = 'arn:aws:ecs:eu-west-1:000000000000:task/race/0123456789abcdef0123456789abcdef';
  const task = {
    taskArn,
    desiredStatus: 'RUNNING',
    lastStatus: 'PROVISIONING',
    containers: [{ name: 'job', networkBindings: [], healthStatus: 'UNKNOWN' }],
  } as unknown as Task;
  const td = {
    containerDefinitions: [
      {
        name: 'job',
        image: 'job:1',
        essential: true,
        command: ['node', '-e', 'setInterval(() => undefined, 1000)'],
        logConfiguration: {
          logDriver: 'awslogs',
          options: { 'awslogs-group': '/ecs/job', 'awslogs-region': 'eu-west-1' },
        },
      },
    ],
  } as unknown as TaskDefinition;
  let stopped: Promise<void> | undefined;
  // The log stream is opened just before the process is spawned, in the same turn: a stop
  // queued from there runs after `spawn()` returned and before the process reports it started.
  const sink: AwslogsSink = {
    openStream: () => {
      queueMicrotask(() => {
        task.desiredStatus = 'STOPPED';
        stopped = runner.kill(task, 10_000);
      });
      return undefined;
    },
    put: () => undefined,
  };
  runner.setAwslogsSink(sink);
  const events: TaskRunnerEvents = {
    running: () => undefined,
    failedToStart: () => undefined,
    containerExited: () => undefined,
    healthChanged: () => undefined,
  };
  let pid: number | undefined;
  try {
    await runner.launch(task, td, events);
    pid = Number(task.containers[0].runtimeId?.split('-').pop());
    expect(pid).toBeGreaterThan(0);
    expect(stopped).toBeDefined();
    await stopped;
    expect(alive(pid)).toBe(false);
    expect(task.lastStatus).not.toBe('RUNNING');
  } finally {
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    await runner.killAll();
    clock.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
