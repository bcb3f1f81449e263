/**
 * A service's first deployment and the circuit breaker. A deploy started right after
 * CreateService, while the first deployment is still IN_PROGRESS (waitUntilServicesStable has
 * already returned: it ignores rolloutState), is rolled back to the first deployment once that
 * one completes; a service whose first deployment fails has nothing to roll back to and stalls,
 * as ECS documents ("the circuit breaker does not launch new tasks and the deployment is
 * stalled"). Time scale 10: the 40 s settle window is 4 s of wall-clock time, a wide margin for
 * the deploy to start before the first deployment completes.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
  type Service,
} from '@aws-sdk/client-ecs';
import { eventually, startHarness, type Harness } from './support';

const WORKER = [
  'node',
  '-e',
  'setInterval(() => {}, 1000); process.on("SIGTERM", () => process.exit(0));',
];
const CRASH = ['node', '-e', 'process.exit(1);'];

let h: Harness;
let image: string;

async function describe1(name: string): Promise<Service> {
  const out = await h.ecs.send(new DescribeServicesCommand({ cluster: 'first', services: [name] }));
  return out.services![0];
}

async function register(family: string, command: string[]): Promise<string> {
  const out = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [{ name: 'worker', image, essential: true, command }],
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

async function createService(name: string, taskDefinition: string): Promise<void> {
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'first',
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
}

beforeAll(async () => {
  h = await startHarness({ timeScale: 10 });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'first' }));
  image = await h.pushApp('first', 'v1');
});

afterAll(async () => {
  await h?.close();
});

test('a crashing deploy started before the first deployment completed is rolled back to it once it completes', async () => {
  const good = await register('early', WORKER);
  await createService('early', good);
  await waitUntilServicesStable(
    { client: h.ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { cluster: 'first', services: ['early'] },
  );
  const first = await describe1('early');
  // The waiter is satisfied by the counts; the deployment is still settling.
  expect(first.deployments![0].rolloutState).toBe('IN_PROGRESS');
  const firstRevision = first.currentServiceRevisions![0].arn;

  const broken = await register('early', CRASH);
  await h.ecs.send(
    new UpdateServiceCommand({ cluster: 'first', service: 'early', taskDefinition: broken }),
  );
  const failedId = (await describe1('early')).deployments![0].id!;
  const svc = await eventually(async () => {
    const s = await describe1('early');
    return s.deployments!.length === 1 &&
      s.deployments![0].id !== failedId &&
      s.deployments![0].rolloutState === 'COMPLETED' &&
      s.runningCount === 2
      ? s
      : undefined;
  }, 'the rollback to the first deployment');
  expect(svc.taskDefinition).toBe(good);
  expect(svc.events!.map((e) => e.message)).toContain(
    `(service early) (deployment ${failedId}) deployment failed: tasks failed to start.`,
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
    deploymentCircuitBreaker: { status: 'TRIGGERED' },
    rollback: {
      reason: 'ECS deployment circuit breaker: tasks failed to start.',
      serviceRevisionArn: firstRevision,
    },
  });
});

test('a service whose first deployment crashes has nothing to roll back to: the deployment fails and stalls without launching more tasks', async () => {
  const broken = await register('doomed', CRASH);
  await createService('doomed', broken);
  const svc = await eventually(async () => {
    const s = await describe1('doomed');
    return s.deployments![0].rolloutState === 'FAILED' &&
      s.runningCount === 0 &&
      s.pendingCount === 0
      ? s
      : undefined;
  }, 'the first deployment to fail');
  expect(svc.deployments).toHaveLength(1);
  expect(svc.deployments![0]).toMatchObject({
    status: 'PRIMARY',
    taskDefinition: broken,
    rolloutState: 'FAILED',
    rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
  });
  const failed = svc.deployments![0].failedTasks!;
  expect(failed).toBeGreaterThanOrEqual(3);
  const sds = (
    await h.ecs.send(new ListServiceDeploymentsCommand({ cluster: 'first', service: 'doomed' }))
  ).serviceDeployments!;
  expect(sds).toHaveLength(1);
  expect(sds[0]).toMatchObject({
    status: 'STOPPED',
    statusReason:
      'ECS deployment circuit breaker: tasks failed to start. No completed service revision to roll back to.',
  });
});

test('while the failed deploy waits for the first deployment (ROLLBACK_REQUESTED), a newer deploy supersedes it and completes', async () => {
  const good = await register('waiting', WORKER);
  await createService('waiting', good);
  await eventually(async () => (await describe1('waiting')).runningCount === 2, 'two tasks');
  const broken = await register('waiting', CRASH);
  await h.ecs.send(
    new UpdateServiceCommand({ cluster: 'first', service: 'waiting', taskDefinition: broken }),
  );
  const failedSd = (await describe1('waiting')).currentServiceDeployment!;
  const waiting = await eventually(async () => {
    const sd = (
      await h.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [failedSd] }))
    ).serviceDeployments![0];
    return sd.status !== 'IN_PROGRESS' ? sd : undefined;
  }, 'the circuit breaker');
  expect(waiting).toMatchObject({
    status: 'ROLLBACK_REQUESTED',
    statusReason: 'ECS deployment circuit breaker: tasks failed to start.',
  });
  const failed = await describe1('waiting');
  expect(failed.deployments![0]).toMatchObject({
    status: 'PRIMARY',
    rolloutState: 'FAILED',
    rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
  });
  expect(failed.deployments![1]).toMatchObject({ status: 'ACTIVE', rolloutState: 'IN_PROGRESS' });

  const fixed = await register('waiting', WORKER);
  await h.ecs.send(
    new UpdateServiceCommand({ cluster: 'first', service: 'waiting', taskDefinition: fixed }),
  );
  const svc = await eventually(async () => {
    const s = await describe1('waiting');
    return s.deployments!.length === 1 && s.deployments![0].rolloutState === 'COMPLETED'
      ? s
      : undefined;
  }, 'the newer deploy to complete');
  expect(svc.taskDefinition).toBe(fixed);
  const superseded = (
    await h.ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [failedSd] }))
  ).serviceDeployments![0];
  expect(superseded).toMatchObject({
    status: 'STOPPED',
    statusReason: 'Service deployment superseded by a newer service deployment',
  });
});
