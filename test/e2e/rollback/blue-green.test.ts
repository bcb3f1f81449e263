import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  RegisterTaskDefinitionCommand,
  waitUntilServicesStable,
} from '@aws-sdk/client-ecs';
import { CreateLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { startFakeGitHub, type FakeGitHub } from '../../support/fake-github';
import { runAction } from '../../support/run-action';
import {
  createBlueGreenListener,
  createTargetGroup,
  httpGet,
  startHarness,
  type Harness,
} from '../local-aws/support';

let h: Harness;
let gh: FakeGitHub;
let prodPort: number;
let v3Image: string;

function env(): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: h.aws.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...gh.env(),
  };
}

beforeAll(async () => {
  gh = await startFakeGitHub();
  h = await startHarness({ timeScale: 30 });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'bg' }));
  const lb = (
    await h.elb.send(new CreateLoadBalancerCommand({ Name: 'shop', Subnets: ['subnet-1'] }))
  ).LoadBalancers![0];
  const blueTg = await createTargetGroup(h, 'shop-blue');
  const greenTg = await createTargetGroup(h, 'shop-green');
  const { port, ruleArn: prodRule } = await createBlueGreenListener(
    h,
    lb.LoadBalancerArn,
    blueTg,
    greenTg,
  );
  prodPort = port;
  const blue = await h.pushApp('shop', 'blue');
  v3Image = await h.pushApp('shop', 'v3');
  const td = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'shop',
      containerDefinitions: [
        {
          name: 'web',
          image: blue,
          portMappings: [{ containerPort: 8080 }],
          environment: [{ name: 'GREETING', value: 'ok' }],
        },
      ],
    }),
  );
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'bg',
      serviceName: 'shop',
      taskDefinition: td.taskDefinition!.taskDefinitionArn,
      desiredCount: 1,
      loadBalancers: [
        {
          targetGroupArn: blueTg,
          containerName: 'web',
          containerPort: 8080,
          advancedConfiguration: {
            alternateTargetGroupArn: greenTg,
            productionListenerRule: prodRule,
            roleArn: 'arn:aws:iam::000000000000:role/ecs-bg',
          },
        },
      ],
      deploymentConfiguration: {
        strategy: 'ROLLING',
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
  await gh?.close();
});

test('blue/green v3 bad, caught by health-gate during the bake; rollback stops the deployment and traffic is back on blue', async () => {
  expect((await httpGet(`http://127.0.0.1:${prodPort}/`)).body).toBe('blue ok');
  // v3 passes its target health check but answers the wrong thing: only the gate can tell.
  const deployed = await runAction('ecs-deploy', {
    env: env(),
    inputs: {
      cluster: 'bg',
      service: 'shop',
      'container-images': `web=${v3Image}`,
      'environment-variables': 'web.GREETING=oops',
      strategy: 'blue-green',
      'bake-time': '10m',
      'wait-until': 'traffic-shifted',
    },
  });
  expect(deployed.error).toBeUndefined();
  expect(deployed.outputs.status).toBe('succeeded');
  expect(deployed.outputs.reason).toMatch(/Production traffic is on shop:2; the bake has begun/);
  expect(deployed.stdout).toMatch(/^stage: BAKE_TIME/m);
  expect(deployed.summary).toContain('#### Timeline');
  expect((await httpGet(`http://127.0.0.1:${prodPort}/`)).body).toBe('v3 oops');

  const gate = await runAction('health-gate', {
    env: env(),
    inputs: {
      url: `http://127.0.0.1:${prodPort}/`,
      'expect-body': ' ok',
      interval: '250ms',
      'unhealthy-threshold': '2',
      timeout: '10s',
    },
  });
  expect(gate.code).toBe(1);

  const rolled = await runAction('rollback', {
    env: env(),
    inputs: {
      cluster: 'bg',
      service: 'shop',
      reason: 'health gate failed',
      'wait-until': 'traffic-shifted',
      environment: 'production',
      'github-token': gh.token,
    },
  });
  expect(rolled.error).toBeUndefined();
  expect(rolled.outputs).toMatchObject({
    method: 'stop-deployment',
    status: 'succeeded',
    'from-task-definition-arn': expect.stringMatching(/shop:2$/),
    'to-task-definition-arn': expect.stringMatching(/shop:1$/),
  });
  expect((await httpGet(`http://127.0.0.1:${prodPort}/`)).body).toBe('blue ok');
  expect(gh.deployments[gh.deployments.length - 1].statuses.map((s) => s.state)).toEqual([
    'in_progress',
    'success',
  ]);

  const svc = (await h.ecs.send(new DescribeServicesCommand({ cluster: 'bg', services: ['shop'] })))
    .services![0];
  const sd = (
    await h.ecs.send(
      new DescribeServiceDeploymentsCommand({
        serviceDeploymentArns: [svc.currentServiceDeployment!],
      }),
    )
  ).serviceDeployments![0];
  expect(sd.status).toMatch(/^ROLLBACK_/);

  const again = await runAction('rollback', {
    env: env(),
    inputs: { cluster: 'bg', service: 'shop' },
  });
  expect(again.code).toBe(0);
  expect(again.outputs.status).toBe('unchanged');
});

test('during a blue/green bake, rollback to the revision traffic came from stops the deployment; another revision is refused before any change', async () => {
  const deployed = await runAction('ecs-deploy', {
    env: env(),
    inputs: {
      cluster: 'bg',
      service: 'shop',
      'container-images': `web=${v3Image}`,
      'environment-variables': 'web.GREETING=again',
      strategy: 'blue-green',
      'bake-time': '10m',
      'wait-until': 'traffic-shifted',
    },
  });
  expect(deployed.error).toBeUndefined();
  expect((await httpGet(`http://127.0.0.1:${prodPort}/`)).body).toBe('v3 again');
  const newRevision = deployed.outputs['task-definition-arn'];
  const blueRevision = deployed.outputs['previous-task-definition-arn'];
  expect(blueRevision).toMatch(/shop:1$/);

  const refused = await runAction('rollback', {
    env: env(),
    inputs: { cluster: 'bg', service: 'shop', to: 'shop:2' },
  });
  expect(refused.code).toBe(1);
  expect(refused.error).toMatch(
    /deployment .* is still in progress on shop, and `shop:2` is not the revision it started from \(shop:1\)\. Nothing was changed/,
  );
  const during = (
    await h.ecs.send(new DescribeServicesCommand({ cluster: 'bg', services: ['shop'] }))
  ).services![0];
  expect(during.taskDefinition).toBe(newRevision);
  expect((await httpGet(`http://127.0.0.1:${prodPort}/`)).body).toBe('v3 again');

  const rolled = await runAction('rollback', {
    env: env(),
    inputs: { cluster: 'bg', service: 'shop', to: 'shop:1', 'wait-until': 'traffic-shifted' },
  });
  expect(rolled.error).toBeUndefined();
  expect(rolled.outputs).toMatchObject({
    method: 'stop-deployment',
    status: 'succeeded',
    'to-task-definition-arn': blueRevision,
  });
  expect((await httpGet(`http://127.0.0.1:${prodPort}/`)).body).toBe('blue ok');
});
