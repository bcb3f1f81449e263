import { getInputs, phrased } from '../../../actions/ecs-deploy/src/inputs';
import { InputParser } from '../../../packages/kit/src/inputs';
import { deploy } from '../../../packages/ecs/src/deploy';
import type { DeployLog } from '../../../packages/ecs/src/service';
import { FakeClock, FakeEcs, rolling, service, TD1 } from '../ecs/fake-ecs';

const ARN = 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:7';

function inputs(values: Record<string, string>): ReturnType<typeof getInputs> {
  return getInputs(new InputParser((name) => values[name] ?? ''));
}

const savedRegion = process.env.AWS_REGION;
beforeAll(() => {
  process.env.AWS_REGION = 'us-east-1';
});
afterAll(() => {
  if (savedRegion === undefined) delete process.env.AWS_REGION;
  else process.env.AWS_REGION = savedRegion;
});

test.each([ARN, 'web:7', 'arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/my_app-2:12'])(
  'task-definition %s is read as a registered revision, needing no images',
  (value) => {
    const read = inputs({ service: 'web', 'task-definition': value });
    expect(read.taskDefinition).toEqual({ kind: 'registered', reference: value });
  },
);

test.each([
  [{ 'container-images': 'web=registry.example/web:v2' }, 'container-images'],
  [{ 'environment-variables': 'web.LOG_LEVEL=info' }, 'environment-variables'],
])(
  'a registered revision with %p is refused naming both inputs',
  (extra: Record<string, string>, input: string) => {
    expect(() => inputs({ service: 'web', 'task-definition': 'web:7', ...extra })).toThrow(
      `Inputs \`task-definition\` and \`${input}\` are exclusive`,
    );
  },
);

test('deploy: false with a registered revision is refused: there is nothing to register', () => {
  expect(() => inputs({ service: 'web', 'task-definition': 'web:7', deploy: 'false' })).toThrow(
    /Input `deploy` is `false`, but `task-definition` names a revision already registered/,
  );
});

test('a file path that is not `family:revision` is still read as a file', () => {
  expect(() => inputs({ service: 'web', 'task-definition': 'web.json' })).toThrow(
    /Input `task-definition`: file `web.json` was not found/,
  );
});

function quietLog(): DeployLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(m),
    debug: () => undefined,
    warning: (m) => lines.push(m),
    group: (_n, fn) => fn(),
  };
}

function deployRegistered(ecs: FakeEcs, clock: FakeClock, reference: string) {
  return deploy({
    api: ecs.api,
    cluster: 'apps',
    service: 'web',
    source: { kind: 'registered', reference },
    images: new Map(),
    environment: new Map(),
    waitUntil: 'stable',
    timeoutMs: 10 * 60_000,
    dryRun: false,
    provenance: {},
    log: quietLog(),
    clock,
  });
}

test('a registered revision is deployed as it is: described first, never registered', async () => {
  const clock = new FakeClock();
  const ecs = new FakeEcs(clock, () => ({
    service: service([rolling(ARN, 'COMPLETED', 2, 2, { status: 'PRIMARY' })]),
  }));
  const result = await deployRegistered(ecs, clock, ARN);
  expect(result.status).toBe('succeeded');
  expect(result.taskDefinitionArn).toBe(ARN);
  expect(result.previousTaskDefinitionArn).toBe(TD1);
  expect(ecs.count('RegisterTaskDefinition')).toBe(0);
  const update = ecs.calls.find((c) => c.op === 'UpdateService');
  expect(ecs.calls.findIndex((c) => c.op === 'DescribeTaskDefinition')).toBeLessThan(
    ecs.calls.indexOf(update!),
  );
});

test('an unknown registered revision fails before any change, naming `task-definition`', async () => {
  const clock = new FakeClock();
  const ecs = new FakeEcs(clock, () => ({ service: service([]) }));
  const api = ecs.api;
  const refused = Object.assign(new Error('Unable to describe task definition.'), {
    name: 'ClientException',
  });
  const describe = api.describeTaskDefinition;
  api.describeTaskDefinition = async (input) => {
    if (input.taskDefinition === 'web:99') throw refused;
    return describe(input);
  };
  const error = await deploy({
    api,
    cluster: 'apps',
    service: 'web',
    source: { kind: 'registered', reference: 'web:99' },
    images: new Map(),
    environment: new Map(),
    waitUntil: 'stable',
    timeoutMs: 60_000,
    dryRun: false,
    provenance: {},
    log: quietLog(),
    clock,
  }).catch((e: unknown) => e);
  expect((phrased(error) as Error).message).toBe(
    'Input `task-definition`: task definition `web:99` was not found (DescribeTaskDefinition refused it).',
  );
  expect(ecs.count('UpdateService') + ecs.count('RegisterTaskDefinition')).toBe(0);
});

test('the revision the service already runs is `unchanged`', async () => {
  const clock = new FakeClock();
  const ecs = new FakeEcs(clock, () => ({ service: service([]) }));
  const result = await deployRegistered(ecs, clock, TD1);
  expect(result.status).toBe('unchanged');
  expect(result.reason).toBe('The service already runs web:1; nothing to deploy.');
  expect(ecs.count('UpdateService')).toBe(0);
});
