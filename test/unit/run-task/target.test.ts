import { ConfigurationError } from '../../../packages/kit/src/errors';
import { loadTaskDefinitionJson } from '../../../packages/ecs/src/task-definition';
import {
  logStreamConsoleUrl,
  resolveRunTarget,
  type RunRequest,
} from '../../../packages/ecs/src/run-task/target';
import { FakeEcs } from './fakes';

const AWSVPC_TD = {
  taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/api:7',
  family: 'api',
  revision: 7,
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  containerDefinitions: [
    { name: 'sidecar', essential: false },
    {
      name: 'web',
      essential: true,
      logConfiguration: {
        logDriver: 'awslogs',
        options: { 'awslogs-group': '/ecs/api', 'awslogs-stream-prefix': 'api' },
      },
    },
  ],
};

const SERVICE = {
  serviceName: 'api',
  status: 'ACTIVE',
  taskDefinition: AWSVPC_TD.taskDefinitionArn,
  capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
  platformVersion: '1.4.0',
  networkConfiguration: {
    awsvpcConfiguration: {
      subnets: ['subnet-a', 'subnet-b'],
      securityGroups: ['sg-1'],
      assignPublicIp: 'DISABLED',
    },
  },
};

function request(extra: Partial<RunRequest> = {}): RunRequest {
  return {
    cluster: 'prod',
    source: { kind: 'service', service: 'api' },
    environment: new Map(),
    count: 1,
    startedBy: 'shipkit/7',
    tags: new Map(),
    ...extra,
  };
}

function ecs(): FakeEcs {
  const e = new FakeEcs([]);
  e.service = SERVICE;
  e.taskDefinition = AWSVPC_TD;
  return e;
}

test("a service's task definition, capacity providers and network are used", async () => {
  const t = await resolveRunTarget(ecs(), request(), 'eu-west-1');
  expect(t.taskDefinition).toBe('api:7');
  expect(t.service).toBe('api');
  expect(t.container).toBe('web');
  expect(t.awslogs).toEqual({ group: '/ecs/api', region: 'eu-west-1', streamPrefix: 'api' });
  expect(t.input).toEqual({
    cluster: 'prod',
    taskDefinition: AWSVPC_TD.taskDefinitionArn,
    count: 1,
    startedBy: 'shipkit/7',
    capacityProviderStrategy: SERVICE.capacityProviderStrategy,
    platformVersion: '1.4.0',
    networkConfiguration: SERVICE.networkConfiguration,
  });
});

test('network overrides replace the service values one by one; overrides go to the container', async () => {
  const t = await resolveRunTarget(
    ecs(),
    request({
      network: { securityGroups: ['sg-migrate'], assignPublicIp: true },
      command: ['npx', 'prisma', 'migrate', 'deploy'],
      environment: new Map([['LOG_LEVEL', 'debug']]),
      tags: new Map([['job', 'migrate']]),
    }),
    'eu-west-1',
  );
  expect(t.input.networkConfiguration).toEqual({
    awsvpcConfiguration: {
      subnets: ['subnet-a', 'subnet-b'],
      securityGroups: ['sg-migrate'],
      assignPublicIp: 'ENABLED',
    },
  });
  expect(t.input.overrides).toEqual({
    containerOverrides: [
      {
        name: 'web',
        command: ['npx', 'prisma', 'migrate', 'deploy'],
        environment: [{ name: 'LOG_LEVEL', value: 'debug' }],
      },
    ],
  });
  expect(t.input.tags).toEqual([{ key: 'job', value: 'migrate' }]);
});

test.each([
  [
    'an awsvpc definition without subnets',
    request({ source: { kind: 'reference', reference: 'api:7' } }),
    'uses the awsvpc network mode, which needs subnets',
  ],
  [
    'an unknown container',
    request({ container: 'worker' }),
    'Task definition `api:7` has no container `worker` (it has `sidecar`, `web`).',
  ],
])('%s is a configuration error before RunTask', async (_name, req, message) => {
  const e = ecs();
  const error = await resolveRunTarget(e, req, 'eu-west-1').catch((x: unknown) => x);
  expect(error).toBeInstanceOf(ConfigurationError);
  expect((error as Error).message).toContain(message);
  expect(e.calls).not.toContain('RunTask');
});

test('a FARGATE-only definition run without a service gets launch type FARGATE', async () => {
  const t = await resolveRunTarget(
    ecs(),
    request({
      source: { kind: 'reference', reference: 'api' },
      network: { subnets: ['subnet-x'] },
    }),
    'eu-west-1',
  );
  expect(t.input.launchType).toBe('FARGATE');
  expect(t.input.networkConfiguration).toEqual({
    awsvpcConfiguration: {
      subnets: ['subnet-x'],
      securityGroups: undefined,
      assignPublicIp: undefined,
    },
  });
});

test('the console address encodes the group and stream the way the console does', () => {
  expect(logStreamConsoleUrl('eu-west-1', '/ecs/api', 'api/web/abc')).toBe(
    'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fecs$252Fapi/log-events/api$252Fweb$252Fabc',
  );
});

test('a task definition file is rendered with the images, registered, and that revision is run', async () => {
  const e = ecs();
  const definition = loadTaskDefinitionJson(
    {
      family: 'migrate',
      containerDefinitions: [{ name: 'job', image: 'placeholder', essential: true }],
    },
    'file `td.json`',
  );
  const t = await resolveRunTarget(
    e,
    request({
      source: {
        kind: 'file',
        path: 'td.json',
        definition,
        images: new Map([['job', 'registry/app@sha256:' + 'a'.repeat(64)]]),
      },
    }),
    'eu-west-1',
  );
  expect(e.registered).toEqual([
    {
      family: 'migrate',
      containerDefinitions: [
        { name: 'job', image: 'registry/app@sha256:' + 'a'.repeat(64), essential: true },
      ],
      tags: undefined,
    },
  ]);
  expect(e.calls).not.toContain('DescribeTaskDefinition');
  expect(t.registered).toBe(true);
  expect(t.taskDefinition).toBe('migrate:1');
  expect(t.input.taskDefinition).toBe(
    'arn:aws:ecs:us-east-1:000000000000:task-definition/migrate:1',
  );
});
