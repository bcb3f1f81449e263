/**
 * Services without health signals (no target group, no container health check): a new task
 * counts only after it stayed RUNNING for ECS's 40-second settle window, a task that exits
 * before its deployment completes trips the circuit breaker, and old tasks drain over their
 * stop timeout. Time scale 30: the settle window is 40 s / 30 ≈ 1.3 s of wall-clock time.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import { eventually, startHarness, type Harness } from './support';

const TIME_SCALE = 30;
/** ECS waits 40 s after RUNNING before a task without health checks counts as healthy. */
const SETTLE_MS = 40_000 / TIME_SCALE;

/** Commands run with the test image (its `node` is the host's). */
const WORKER = [
  'node',
  '-e',
  'setInterval(() => {}, 1000); process.on("SIGTERM", () => process.exit(0));',
];
const CRASH_AT_ONCE = ['node', '-e', 'console.error("boom"); process.exit(1);'];
const CRASH_AFTER_300MS = ['node', '-e', 'setTimeout(() => process.exit(1), 300);'];
/** Ignores SIGTERM: only the SIGKILL after the stop timeout ends it. */
const STUBBORN_WORKER = [
  'node',
  '-e',
  'setInterval(() => {}, 1000); process.on("SIGTERM", () => {});',
];

let h: Harness;
let image: string;

async function describe1(name: string): Promise<Service> {
  const out = await h.ecs.send(
    new DescribeServicesCommand({ cluster: 'workers', services: [name] }),
  );
  return out.services![0];
}

async function register(
  family: string,
  command: string[],
  extra: { stopTimeout?: number } = {},
): Promise<string> {
  const out = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [{ name: 'worker', image, essential: true, command, ...extra }],
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

async function tasksOf(service: string, desiredStatus: 'RUNNING' | 'STOPPED'): Promise<Task[]> {
  const arns = (
    await h.ecs.send(
      new ListTasksCommand({ cluster: 'workers', serviceName: service, desiredStatus }),
    )
  ).taskArns!;
  if (!arns.length) return [];
  return (await h.ecs.send(new DescribeTasksCommand({ cluster: 'workers', tasks: arns }))).tasks!;
}

/** Creates a 2-task rolling service (circuit breaker with rollback) and waits for COMPLETED. */
async function createCompletedService(name: string, taskDefinition: string): Promise<Service> {
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'workers',
      serviceName: name,
      taskDefinition,
      desiredCount: 2,
      deploymentConfiguration: {
        minimumHealthyPercent: 100,
        maximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
      },
    }),
  );
  return eventually(async () => {
    const s = await describe1(name);
    return s.deployments!.length === 1 &&
      s.deployments![0].rolloutState === 'COMPLETED' &&
      s.runningCount === 2
      ? s
      : undefined;
  }, `${name} to complete its first deployment`);
}

beforeAll(async () => {
  h = await startHarness({ timeScale: TIME_SCALE });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'workers' }));
  image = await h.pushApp('worker', 'v1');
});

afterAll(async () => {
  await h?.close();
});

test('a worker that stays up completes only after its tasks stayed RUNNING for the settle window, and old and new tasks overlap', async () => {
  const v1 = await register('steady', WORKER);
  await createCompletedService('steady', v1);
  const v2 = await register('steady', WORKER);
  await h.ecs.send(
    new UpdateServiceCommand({ cluster: 'workers', service: 'steady', taskDefinition: v2 }),
  );
  const failedOrDone = await eventually(async () => {
    const s = await describe1('steady');
    return s.deployments!.length === 1 && s.deployments![0].rolloutState !== 'IN_PROGRESS'
      ? s
      : undefined;
  }, 'the v2 deployment to end');
  expect(failedOrDone).toMatchObject({ taskDefinition: v2, runningCount: 2, pendingCount: 0 });
  const primary = failedOrDone.deployments![0];
  expect(primary).toMatchObject({
    rolloutState: 'COMPLETED',
    rolloutStateReason: `ECS deployment ${primary.id} completed.`,
    failedTasks: 0,
  });
  const completedAt = failedOrDone.events!.find(
    (e) => e.message === `(service steady) (deployment ${primary.id}) deployment completed.`,
  )!.createdAt!;
  const running = await tasksOf('steady', 'RUNNING');
  expect(running.map((t) => t.taskDefinitionArn)).toEqual([v2, v2]);
  const lastStarted = Math.max(...running.map((t) => t.startedAt!.getTime()));
  expect(completedAt.getTime() - lastStarted).toBeGreaterThanOrEqual(SETTLE_MS);
  // An old task was told to stop only once a new one had settled: old and new ran side by side.
  const firstStarted = Math.min(...running.map((t) => t.startedAt!.getTime()));
  const old = (await tasksOf('steady', 'STOPPED')).filter((t) => t.taskDefinitionArn === v1);
  expect(old).toHaveLength(2);
  for (const t of old) {
    expect(t.stoppingAt!.getTime()).toBeGreaterThanOrEqual(firstStarted + SETTLE_MS);
    expect(t.stoppedReason).toBe(`Scaling activity initiated by (deployment ${primary.id})`);
    expect(t.containers![0].exitCode).toBe(0);
  }
});

test.each([
  ['exits with code 1 at once', 'crash-now', CRASH_AT_ONCE],
  ['exits with code 1 300 ms after start', 'crash-late', CRASH_AFTER_300MS],
])(
  'a release that %s trips the circuit breaker without a load balancer and the service rolls back to the previous task definition',
  async (_what, name, command) => {
    const good = await register(name, WORKER);
    const before = await createCompletedService(name, good);
    const broken = await register(name, command);
    await h.ecs.send(
      new UpdateServiceCommand({ cluster: 'workers', service: name, taskDefinition: broken }),
    );
    const failedId = (await describe1(name)).deployments![0].id!;

    const svc = await eventually(
      async () => {
        const s = await describe1(name);
        return s.deployments!.length === 1 &&
          s.deployments![0].rolloutState === 'COMPLETED' &&
          s.deployments![0].id !== failedId &&
          s.runningCount === 2
          ? s
          : undefined;
      },
      'the rollback to complete',
      60_000,
    );
    expect(svc.taskDefinition).toBe(good);
    const messages = svc.events!.map((e) => e.message);
    expect(messages).toContain(
      `(service ${name}) (deployment ${failedId}) deployment failed: tasks failed to start.`,
    );
    const sd = (
      await h.ecs.send(
        new DescribeServiceDeploymentsCommand({
          serviceDeploymentArns: [svc.currentServiceDeployment!],
        }),
      )
    ).serviceDeployments![0];
    expect(sd).toMatchObject({
      status: 'ROLLBACK_SUCCESSFUL',
      statusReason: 'ECS deployment circuit breaker: tasks failed to start.',
      deploymentCircuitBreaker: { status: 'TRIGGERED', threshold: 3 },
      rollback: {
        reason: 'ECS deployment circuit breaker: tasks failed to start.',
        serviceRevisionArn: before.currentServiceRevisions![0].arn,
      },
    });
    expect(sd.deploymentCircuitBreaker!.failureCount).toBeGreaterThanOrEqual(3);

    // Each task of the release crashed on its own, unless the rollback stopped it first.
    const stopped = (await tasksOf(name, 'STOPPED')).filter((t) => t.taskDefinitionArn === broken);
    const crashed = stopped.filter((t) => t.stopCode === 'EssentialContainerExited');
    expect(crashed.length).toBeGreaterThanOrEqual(3);
    for (const t of crashed) {
      expect(t).toMatchObject({
        lastStatus: 'STOPPED',
        stoppedReason: 'Essential container in task exited',
      });
      expect(t.containers![0].exitCode).toBe(1);
    }
    for (const t of stopped.filter((x) => !crashed.includes(x)))
      expect(t.stoppedReason).toMatch(
        /^Scaling activity initiated by \(deployment ecs-svc\/\d+\)$/,
      );
    // The tasks of the previous revision kept running throughout: they are adopted, not replaced.
    const running = await tasksOf(name, 'RUNNING');
    expect(running.map((t) => t.taskDefinitionArn)).toEqual([good, good]);
  },
);

test('with the circuit breaker but no rollback, the crashing deployment stays FAILED with ECS reason and launches no more tasks', async () => {
  const good = await register('no-rollback', WORKER);
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'workers',
      serviceName: 'no-rollback',
      taskDefinition: good,
      desiredCount: 2,
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: false } },
    }),
  );
  await eventually(
    async () => (await describe1('no-rollback')).deployments![0].rolloutState === 'COMPLETED',
    'the first deployment',
  );
  const broken = await register('no-rollback', CRASH_AFTER_300MS);
  await h.ecs.send(
    new UpdateServiceCommand({
      cluster: 'workers',
      service: 'no-rollback',
      taskDefinition: broken,
    }),
  );
  const svc = await eventually(async () => {
    const s = await describe1('no-rollback');
    return s.deployments![0].rolloutState === 'FAILED' &&
      s.deployments![0].runningCount === 0 &&
      s.pendingCount === 0
      ? s
      : undefined;
  }, 'the deployment to fail');
  expect(svc.deployments![0]).toMatchObject({
    status: 'PRIMARY',
    taskDefinition: broken,
    rolloutState: 'FAILED',
    rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
    runningCount: 0,
  });
  expect(svc.deployments![0].failedTasks).toBeGreaterThanOrEqual(3);
  expect(svc.deployments![1]).toMatchObject({
    status: 'ACTIVE',
    taskDefinition: good,
    runningCount: 2,
  });
});

test('an old task that ignores SIGTERM is killed after its stopTimeout (exit code 137)', async () => {
  const v1 = await register('stubborn', STUBBORN_WORKER, { stopTimeout: 2 });
  await createCompletedService('stubborn', v1);
  const v2 = await register('stubborn', WORKER);
  await h.ecs.send(
    new UpdateServiceCommand({ cluster: 'workers', service: 'stubborn', taskDefinition: v2 }),
  );
  const old = await eventually(async () => {
    const stopped = (await tasksOf('stubborn', 'STOPPED')).filter(
      (t) => t.taskDefinitionArn === v1 && t.lastStatus === 'STOPPED',
    );
    return stopped.length === 2 ? stopped : undefined;
  }, 'the old tasks to stop');
  for (const t of old) {
    expect(t.containers![0].exitCode).toBe(137);
    expect(t.stoppedAt!.getTime() - t.stoppingAt!.getTime()).toBeGreaterThanOrEqual(
      2000 / TIME_SCALE,
    );
  }
});
