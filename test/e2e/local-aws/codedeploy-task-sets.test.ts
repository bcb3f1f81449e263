/**
 * ECS task sets, the ECS side of CodeDeploy blue/green: services with the EXTERNAL controller
 * driven through CreateTaskSet, UpdateTaskSet, UpdateServicePrimaryTaskSet and DeleteTaskSet.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  CreateTaskSetCommand,
  DeleteTaskSetCommand,
  DescribeTaskSetsCommand,
  UpdateServicePrimaryTaskSetCommand,
  UpdateTaskSetCommand,
  type TaskSet,
} from '@aws-sdk/client-ecs';
import { CreateLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { registerWeb } from './codedeploy-support';
import {
  createForwardListener,
  createTargetGroup,
  eventually,
  startHarness,
  type Harness,
} from './support';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ timeScale: 30 });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'ts' }));
});

afterAll(async () => {
  await h?.close();
});

async function taskSets(service: string): Promise<TaskSet[]> {
  return (await h.ecs.send(new DescribeTaskSetsCommand({ cluster: 'ts', service }))).taskSets!;
}

test('an EXTERNAL service runs each task set at its scale, promotes and drains them', async () => {
  const lb = (
    await h.elb.send(new CreateLoadBalancerCommand({ Name: 'ext', Subnets: ['subnet-1'] }))
  ).LoadBalancers![0];
  const tg = await createTargetGroup(h, 'ext-a');
  await createForwardListener(h, lb.LoadBalancerArn, tg);
  const v1 = await registerWeb(h, 'ext', await h.pushApp('ext', 'v1'));
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'ts',
      serviceName: 'ext',
      taskDefinition: v1,
      desiredCount: 2,
      deploymentController: { type: 'EXTERNAL' },
    }),
  );
  expect(await taskSets('ext')).toEqual([]);

  const created = (
    await h.ecs.send(
      new CreateTaskSetCommand({
        cluster: 'ts',
        service: 'ext',
        taskDefinition: v1,
        externalId: 'first',
        loadBalancers: [{ targetGroupArn: tg, containerName: 'web', containerPort: 8080 }],
        scale: { value: 50, unit: 'PERCENT' },
      }),
    )
  ).taskSet!;
  expect(created).toMatchObject({
    status: 'PRIMARY',
    computedDesiredCount: 1,
    externalId: 'first',
    scale: { value: 50, unit: 'PERCENT' },
  });
  expect(created.id).toMatch(/^ecs-svc\/\d{19}$/);
  expect(created.taskSetArn).toContain(`task-set/ts/ext/${created.id}`);

  await h.ecs.send(
    new UpdateTaskSetCommand({
      cluster: 'ts',
      service: 'ext',
      taskSet: created.taskSetArn,
      scale: { value: 100, unit: 'PERCENT' },
    }),
  );
  await eventually(async () => {
    const [set] = await taskSets('ext');
    return (
      set.computedDesiredCount === 2 &&
      set.runningCount === 2 &&
      set.stabilityStatus === 'STEADY_STATE'
    );
  }, 'two running tasks in a steady task set');

  const second = (
    await h.ecs.send(
      new CreateTaskSetCommand({
        cluster: 'ts',
        service: 'ext',
        taskDefinition: v1,
        scale: { value: 0, unit: 'PERCENT' },
      }),
    )
  ).taskSet!;
  expect(second.status).toBe('ACTIVE');
  await h.ecs.send(
    new UpdateServicePrimaryTaskSetCommand({
      cluster: 'ts',
      service: 'ext',
      primaryTaskSet: second.id,
    }),
  );
  const statuses = Object.fromEntries((await taskSets('ext')).map((s) => [s.id, s.status]));
  expect(statuses).toEqual({ [created.id!]: 'ACTIVE', [second.id!]: 'PRIMARY' });

  await expect(
    h.ecs.send(new DeleteTaskSetCommand({ cluster: 'ts', service: 'ext', taskSet: created.id })),
  ).rejects.toThrow(expect.objectContaining({ name: 'InvalidParameterException' }));
  const deleted = (
    await h.ecs.send(
      new DeleteTaskSetCommand({ cluster: 'ts', service: 'ext', taskSet: created.id, force: true }),
    )
  ).taskSet!;
  expect(deleted.status).toBe('DRAINING');
  await eventually(
    async () => (await taskSets('ext')).length === 1,
    'the drained task set to disappear',
  );
  const missing = await h.ecs.send(
    new DescribeTaskSetsCommand({ cluster: 'ts', service: 'ext', taskSets: [created.taskSetArn!] }),
  );
  expect(missing.failures).toEqual([{ arn: created.taskSetArn, reason: 'MISSING' }]);
});

test('task sets are refused on a service with the ECS deployment controller', async () => {
  const v1 = await registerWeb(h, 'plain', await h.pushApp('plain', 'v1'));
  await h.ecs.send(
    new CreateServiceCommand({ cluster: 'ts', serviceName: 'plain', taskDefinition: v1 }),
  );
  await expect(
    h.ecs.send(new CreateTaskSetCommand({ cluster: 'ts', service: 'plain', taskDefinition: v1 })),
  ).rejects.toThrow(/EXTERNAL or CODE_DEPLOY deployment controller/);
});

test('a CODE_DEPLOY service needs a load balancer', async () => {
  const v1 = await registerWeb(h, 'nolb', await h.pushApp('nolb', 'v1'));
  await expect(
    h.ecs.send(
      new CreateServiceCommand({
        cluster: 'ts',
        serviceName: 'nolb',
        taskDefinition: v1,
        deploymentController: { type: 'CODE_DEPLOY' },
      }),
    ),
  ).rejects.toThrow(expect.objectContaining({ name: 'InvalidParameterException' }));
});
