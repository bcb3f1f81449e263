import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListServiceDeploymentsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
  type Service,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { eventually, freePort, httpGet, startHarness, type Harness } from './support';

let h: Harness;
let tgArn: string;
let listenerPort: number;

async function describe1(name: string): Promise<Service> {
  const out = await h.ecs.send(new DescribeServicesCommand({ cluster: 'apps', services: [name] }));
  return out.services![0];
}

async function register(family: string, image: string): Promise<string> {
  const out = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        {
          name: 'web',
          image,
          essential: true,
          portMappings: [{ containerPort: 8080 }],
          environment: [{ name: 'GREETING', value: 'from-ecs' }],
        },
      ],
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

beforeAll(async () => {
  h = await startHarness({ timeScale: 30 });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'apps' }));
  const lb = await h.elb.send(
    new CreateLoadBalancerCommand({ Name: 'web', Subnets: ['subnet-1', 'subnet-2'] }),
  );
  const tg = await h.elb.send(
    new CreateTargetGroupCommand({
      Name: 'web-tg',
      Protocol: 'HTTP',
      Port: 8080,
      VpcId: 'vpc-1',
      TargetType: 'ip',
      HealthCheckPath: '/health',
      HealthCheckIntervalSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
      Matcher: { HttpCode: '200' },
    }),
  );
  tgArn = tg.TargetGroups![0].TargetGroupArn!;
  await h.elb.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: tgArn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '5' }],
    }),
  );
  listenerPort = await freePort();
  await h.elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: lb.LoadBalancers![0].LoadBalancerArn,
      Protocol: 'HTTP',
      Port: listenerPort,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: tgArn }],
    }),
  );
});

afterAll(async () => {
  await h?.close();
});

test('a service rolls from v1 to v2 and waitUntilServicesStable succeeds; tasks are real processes behind the listener', async () => {
  const v1 = await register('web', await h.pushApp('web', 'v1'));
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'apps',
      serviceName: 'web',
      taskDefinition: v1,
      desiredCount: 2,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
      loadBalancers: [{ targetGroupArn: tgArn, containerName: 'web', containerPort: 8080 }],
      deploymentConfiguration: {
        minimumHealthyPercent: 100,
        maximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
      },
    }),
  );
  await waitUntilServicesStable(
    { client: h.ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { cluster: 'apps', services: ['web'] },
  );
  expect((await httpGet(`http://127.0.0.1:${listenerPort}/`)).body).toBe('v1 from-ecs');

  const v2 = await register('web', await h.pushApp('web', 'v2'));
  await h.ecs.send(
    new UpdateServiceCommand({ cluster: 'apps', service: 'web', taskDefinition: v2 }),
  );
  const during = await describe1('web');
  expect(during.deployments!.map((d) => d.status)).toEqual(['PRIMARY', 'ACTIVE']);
  expect(during.deployments![0]).toMatchObject({ taskDefinition: v2, rolloutState: 'IN_PROGRESS' });
  await waitUntilServicesStable(
    { client: h.ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { cluster: 'apps', services: ['web'] },
  );

  const svc = await describe1('web');
  expect(svc).toMatchObject({ taskDefinition: v2, runningCount: 2, desiredCount: 2 });
  expect(svc.deployments).toHaveLength(1);
  expect(svc.deployments![0]).toMatchObject({
    status: 'PRIMARY',
    rolloutState: 'COMPLETED',
    runningCount: 2,
    failedTasks: 0,
  });
  expect(svc.events![0].message).toBe('(service web) has reached a steady state.');
  expect(
    svc.events!.some((e) =>
      /^\(service web\) has started 2 tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$/.test(
        e.message!,
      ),
    ),
  ).toBe(true);
  expect(
    svc.events!.some(
      (e) =>
        e.message === `(service web) (deployment ${svc.deployments![0].id}) deployment completed.`,
    ),
  ).toBe(true);
  expect(svc.currentServiceRevisions).toHaveLength(1);

  const sds = await h.ecs.send(
    new ListServiceDeploymentsCommand({ cluster: 'apps', service: 'web' }),
  );
  expect(sds.serviceDeployments!.map((s) => s.status)).toEqual(['SUCCESSFUL', 'SUCCESSFUL']);
  expect(sds.serviceDeployments![0].serviceDeploymentArn).toBe(svc.currentServiceDeployment);

  const arns = (await h.ecs.send(new ListTasksCommand({ cluster: 'apps', serviceName: 'web' })))
    .taskArns!;
  const tasks = (await h.ecs.send(new DescribeTasksCommand({ cluster: 'apps', tasks: arns })))
    .tasks!;
  expect(tasks).toHaveLength(2);
  for (const t of tasks) {
    expect(t).toMatchObject({ lastStatus: 'RUNNING', taskDefinitionArn: v2, group: 'service:web' });
    const binding = t.containers![0].networkBindings![0];
    expect(binding.containerPort).toBe(8080);
    expect((await httpGet(`http://127.0.0.1:${binding.hostPort}/`)).body).toBe('v2 from-ecs');
  }
  const health = await h.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }));
  expect(
    health
      .TargetHealthDescriptions!.filter((d) => d.TargetHealth!.State === 'healthy')
      .map((d) => d.Target!.Port)
      .sort(),
  ).toEqual(tasks.map((t) => t.containers![0].networkBindings![0].hostPort).sort());
  expect((await httpGet(`http://127.0.0.1:${listenerPort}/`)).body).toBe('v2 from-ecs');
});

test('a new image failing its health check trips the circuit breaker and rolls back to the last completed revision', async () => {
  const before = await describe1('web');
  const broken = await register('web', await h.pushApp('web', 'v3-broken', { broken: true }));
  await h.ecs.send(
    new UpdateServiceCommand({ cluster: 'apps', service: 'web', taskDefinition: broken }),
  );
  const failedId = (await describe1('web')).deployments![0].id!;

  const svc = await eventually(
    async () => {
      const s = await describe1('web');
      return s.deployments!.length === 1 &&
        s.deployments![0].rolloutState === 'COMPLETED' &&
        s.taskDefinition === before.taskDefinition
        ? s
        : undefined;
    },
    'the rollback to complete',
    90_000,
  );
  expect(svc.deployments![0].rolloutStateReason).toBe(
    `ECS deployment ${svc.deployments![0].id} completed.`,
  );
  const messages = svc.events!.map((e) => e.message);
  expect(messages).toContain(
    `(service web) (deployment ${failedId}) deployment failed: tasks failed to start.`,
  );
  expect(
    messages.some((m) =>
      /is unhealthy in \(target-group .+\) due to \(reason Health checks failed with these codes: \[500\]\)/.test(
        m!,
      ),
    ),
  ).toBe(true);

  const sd = (
    await h.ecs.send(
      new DescribeServiceDeploymentsCommand({
        serviceDeploymentArns: [svc.currentServiceDeployment!],
      }),
    )
  ).serviceDeployments![0];
  expect(sd).toMatchObject({
    status: 'ROLLBACK_SUCCESSFUL',
    deploymentCircuitBreaker: { status: 'TRIGGERED', threshold: 3 },
    rollback: {
      reason: 'ECS deployment circuit breaker: tasks failed to start.',
      serviceRevisionArn: before.currentServiceRevisions![0].arn,
    },
  });
  expect(sd.deploymentCircuitBreaker!.failureCount).toBeGreaterThanOrEqual(3);

  const stopped = await h.ecs.send(
    new ListTasksCommand({ cluster: 'apps', serviceName: 'web', desiredStatus: 'STOPPED' }),
  );
  const described = (
    await h.ecs.send(
      new DescribeTasksCommand({ cluster: 'apps', tasks: stopped.taskArns!.slice(0, 100) }),
    )
  ).tasks!;
  const failedTask = described.find((t) => t.taskDefinitionArn === broken)!;
  expect(failedTask.stoppedReason).toBe(`Task failed ELB health checks in (target-group ${tgArn})`);
  expect(failedTask.lastStatus).toBe('STOPPED');
  expect((await httpGet(`http://127.0.0.1:${listenerPort}/`)).body).toBe('v2 from-ecs');
});

test('an image that cannot be pulled stops its task with CannotPullContainerError', async () => {
  const missing = await register('web', `${h.aws.registryHost}/web:does-not-exist`);
  await h.ecs.send(
    new UpdateServiceCommand({ cluster: 'apps', service: 'web', taskDefinition: missing }),
  );
  const task = await eventually(async () => {
    const arns = (
      await h.ecs.send(
        new ListTasksCommand({ cluster: 'apps', serviceName: 'web', desiredStatus: 'STOPPED' }),
      )
    ).taskArns!;
    const tasks = (await h.ecs.send(new DescribeTasksCommand({ cluster: 'apps', tasks: arns })))
      .tasks!;
    return tasks.find((t) => t.taskDefinitionArn === missing && t.lastStatus === 'STOPPED');
  }, 'a stopped task of the missing image');
  expect(task.stopCode).toBe('TaskFailedToStart');
  expect(task.stoppedReason).toMatch(/^CannotPullContainerError: /);
  expect(task.containers![0].reason).toMatch(/^CannotPullContainerError: /);
  await eventually(async () => (await describe1('web')).deployments!.length === 1, 'the rollback');
});

test('an awsvpc service without networkConfiguration is refused with the error ECS gives', async () => {
  const td = await register('vpc-only', await h.pushApp('web', 'v1'));
  await expect(
    h.ecs.send(
      new CreateServiceCommand({
        cluster: 'apps',
        serviceName: 'no-network',
        taskDefinition: td,
        desiredCount: 1,
        launchType: 'FARGATE',
      }),
    ),
  ).rejects.toMatchObject({
    name: 'InvalidParameterException',
    message: "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
  });
  const described = await h.ecs.send(
    new DescribeServicesCommand({ cluster: 'apps', services: ['no-network'] }),
  );
  expect(described.failures).toEqual([expect.objectContaining({ reason: 'MISSING' })]);
});
