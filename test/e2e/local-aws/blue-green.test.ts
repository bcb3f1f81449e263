import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  RegisterTaskDefinitionCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
  type ServiceDeployment,
} from '@aws-sdk/client-ecs';
import {
  CreateLoadBalancerCommand,
  DescribeRulesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  createBlueGreenListener,
  createTargetGroup,
  eventually,
  httpGet,
  startHarness,
  type Harness,
} from './support';

let h: Harness;
let blueTg: string;
let greenTg: string;
let prodRule: string;
let testRule: string;
let prodPort: number;

async function register(image: string): Promise<string> {
  const out = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'shop',
      containerDefinitions: [{ name: 'web', image, portMappings: [{ containerPort: 8080 }] }],
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

async function sdOf(): Promise<ServiceDeployment> {
  const svc = (await h.ecs.send(new DescribeServicesCommand({ cluster: 'bg', services: ['shop'] })))
    .services![0];
  return (
    await h.ecs.send(
      new DescribeServiceDeploymentsCommand({
        serviceDeploymentArns: [svc.currentServiceDeployment!],
      }),
    )
  ).serviceDeployments![0];
}

beforeAll(async () => {
  h = await startHarness({ timeScale: 30 });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'bg' }));
  const lb = (
    await h.elb.send(new CreateLoadBalancerCommand({ Name: 'shop', Subnets: ['subnet-1'] }))
  ).LoadBalancers![0];
  blueTg = await createTargetGroup(h, 'shop-blue');
  greenTg = await createTargetGroup(h, 'shop-green');
  ({ port: prodPort, ruleArn: prodRule } = await createBlueGreenListener(
    h,
    lb.LoadBalancerArn,
    blueTg,
    greenTg,
  ));
  ({ ruleArn: testRule } = await createBlueGreenListener(h, lb.LoadBalancerArn, blueTg, greenTg));

  const v1 = await register(await h.pushApp('shop', 'blue-v1'));
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'bg',
      serviceName: 'shop',
      taskDefinition: v1,
      desiredCount: 2,
      loadBalancers: [
        {
          targetGroupArn: blueTg,
          containerName: 'web',
          containerPort: 8080,
          advancedConfiguration: {
            alternateTargetGroupArn: greenTg,
            productionListenerRule: prodRule,
            testListenerRule: testRule,
            roleArn: 'arn:aws:iam::000000000000:role/ecs-bg',
          },
        },
      ],
      deploymentConfiguration: {
        strategy: 'BLUE_GREEN',
        bakeTimeInMinutes: 1,
        deploymentCircuitBreaker: { enable: true, rollback: true },
      },
    }),
  );
  await waitUntilServicesStable(
    { client: h.ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { cluster: 'bg', services: ['shop'] },
  );
});

afterAll(async () => {
  await h?.close();
});

function weights(
  rules: {
    Actions?: {
      ForwardConfig?: { TargetGroups?: { TargetGroupArn?: string; Weight?: number }[] };
    }[];
  }[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of rules[0].Actions![0].ForwardConfig!.TargetGroups!)
    out[t.TargetGroupArn!] = t.Weight!;
  return out;
}

test('a blue/green update shifts test then production traffic, bakes and completes', async () => {
  expect((await httpGet(`http://127.0.0.1:${prodPort}/`)).body).toBe('blue-v1 hello');
  const v2 = await register(await h.pushApp('shop', 'green-v2'));
  await h.ecs.send(
    new UpdateServiceCommand({ cluster: 'bg', service: 'shop', taskDefinition: v2 }),
  );

  const stages = new Set<string>();
  await eventually(async () => {
    const sd = await sdOf();
    if (sd.lifecycleStage) stages.add(sd.lifecycleStage);
    return sd.lifecycleStage === 'BAKE_TIME';
  }, 'the bake stage');
  // While baking, production answers from green and blue still runs.
  expect((await httpGet(`http://127.0.0.1:${prodPort}/`)).body).toBe('green-v2 hello');
  expect(
    weights((await h.elb.send(new DescribeRulesCommand({ RuleArns: [prodRule] }))).Rules!),
  ).toEqual({ [blueTg]: 0, [greenTg]: 100 });
  const baking = (
    await h.ecs.send(new DescribeServicesCommand({ cluster: 'bg', services: ['shop'] }))
  ).services![0];
  expect(baking.deployments!.map((d) => d.status)).toEqual(['PRIMARY', 'ACTIVE']);
  expect(baking.runningCount).toBe(4);

  const done = await eventually(async () => {
    const sd = await sdOf();
    return sd.status === 'SUCCESSFUL' ? sd : undefined;
  }, 'the deployment to succeed');
  expect([...stages]).toEqual(expect.arrayContaining(['SCALE_UP', 'BAKE_TIME']));
  expect(done.targetServiceRevision).toMatchObject({
    requestedProductionTrafficWeight: 100,
    requestedTestTrafficWeight: 100,
  });
  const rev = (
    await h.ecs.send(
      new DescribeServiceRevisionsCommand({
        serviceRevisionArns: [done.targetServiceRevision!.arn!],
      }),
    )
  ).serviceRevisions![0];
  expect(rev.taskDefinition).toBe(v2);
  await waitUntilServicesStable(
    { client: h.ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { cluster: 'bg', services: ['shop'] },
  );
  expect((await httpGet(`http://127.0.0.1:${prodPort}/`)).body).toBe('green-v2 hello');
});

test('StopServiceDeployment with ROLLBACK during bake sends production traffic back to blue at once', async () => {
  const v3 = await register(await h.pushApp('shop', 'candidate-v3'));
  await h.ecs.send(
    new UpdateServiceCommand({ cluster: 'bg', service: 'shop', taskDefinition: v3 }),
  );
  const baking = await eventually(async () => {
    const sd = await sdOf();
    return sd.lifecycleStage === 'BAKE_TIME' ? sd : undefined;
  }, 'the bake stage');
  expect((await httpGet(`http://127.0.0.1:${prodPort}/`)).body).toBe('candidate-v3 hello');

  await h.ecs.send(
    new StopServiceDeploymentCommand({
      serviceDeploymentArn: baking.serviceDeploymentArn,
      stopType: 'ROLLBACK',
    }),
  );
  await eventually(
    async () => (await httpGet(`http://127.0.0.1:${prodPort}/`)).body === 'green-v2 hello',
    'traffic back on the previous revision',
    5_000,
  );
  const rolledBack = await eventually(async () => {
    const sd = await sdOf();
    return sd.status === 'ROLLBACK_SUCCESSFUL' ? sd : undefined;
  }, 'the rollback to finish');
  expect(rolledBack.rollback!.reason).toMatch(/StopServiceDeployment/);
  const svc = (await h.ecs.send(new DescribeServicesCommand({ cluster: 'bg', services: ['shop'] })))
    .services![0];
  expect(svc.taskDefinition).not.toBe(v3);
  for (let i = 0; i < 5; i++)
    expect((await httpGet(`http://127.0.0.1:${prodPort}/`)).body).toBe('green-v2 hello');
  await expect(
    h.ecs.send(
      new StopServiceDeploymentCommand({
        serviceDeploymentArn: baking.serviceDeploymentArn,
        stopType: 'ROLLBACK',
      }),
    ),
  ).rejects.toMatchObject({ name: 'ConflictException' });
});
