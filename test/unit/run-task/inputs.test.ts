import { InputParser } from '../../../packages/kit/src/inputs';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import { getInputs } from '../../../actions/run-task/src/inputs';

function read(inputs: Record<string, string>) {
  return getInputs(new InputParser((name) => inputs[name] ?? ''));
}

const saved = { ...process.env };
beforeEach(() => {
  process.env.AWS_REGION = 'eu-west-1';
  process.env.GITHUB_RUN_ID = '991';
});
afterEach(() => {
  process.env = { ...saved };
});

test('defaults: one task, 30 minutes, started by shipkit/<run id>', () => {
  expect(read({ 'task-definition': 'migrate:3' })).toEqual({
    cluster: undefined,
    source: { kind: 'reference', reference: 'migrate:3' },
    container: undefined,
    command: undefined,
    environment: new Map(),
    count: 1,
    timeoutMs: 1_800_000,
    network: undefined,
    startedBy: 'shipkit/991',
    tags: new Map(),
    region: 'eu-west-1',
  });
});

test('every input read into its typed form', () => {
  const inputs = read({
    cluster: 'prod',
    service: 'api',
    container: 'web',
    command: 'npx prisma migrate deploy',
    'environment-variables': 'LOG_LEVEL=debug\nDRY_RUN=false',
    count: '2',
    timeout: '1h',
    'network-configuration': 'subnets=subnet-a, subnet-b\nassign-public-ip=false',
    'started-by': 'nightly/crawl',
    tags: 'job=crawl',
  });
  expect(inputs).toMatchObject({
    cluster: 'prod',
    source: { kind: 'service', service: 'api' },
    container: 'web',
    command: ['npx', 'prisma', 'migrate', 'deploy'],
    environment: new Map([
      ['LOG_LEVEL', 'debug'],
      ['DRY_RUN', 'false'],
    ]),
    count: 2,
    timeoutMs: 3_600_000,
    network: {
      subnets: ['subnet-a', 'subnet-b'],
      securityGroups: undefined,
      assignPublicIp: false,
    },
    startedBy: 'nightly/crawl',
    tags: new Map([['job', 'crawl']]),
  });
});

test.each([
  [
    {},
    'Input `task-definition` (a family, `family:revision`, an ARN or a `.json` file) or `service` is required.',
  ],
  [
    { service: 'a', 'task-definition': 'b' },
    'Inputs `service` and `task-definition` are exclusive',
  ],
  [{ 'task-definition': 'migrate:x' }, 'Input `task-definition` must be a task definition family'],
  [{ 'task-definition': 'm', command: "echo 'x" }, 'Input `command` must be a command whose'],
  [
    { 'task-definition': 'm', command: '["a", 1]' },
    'Input `command` must be a JSON array of strings',
  ],
  [
    { 'task-definition': 'm', 'environment-variables': '1X=a' },
    'Input `environment-variables` must be one `NAME=value` per line',
  ],
  [{ 'task-definition': 'm', count: '0' }, 'Input `count` must be a whole number from 1 to 10'],
  [{ 'task-definition': 'm', timeout: '7h' }, 'Input `timeout` must be a duration'],
  [
    { 'task-definition': 'm', 'network-configuration': 'vpc=vpc-1' },
    'Input `network-configuration` must be one `subnets|security-groups|assign-public-ip=value` per line',
  ],
  [
    { 'task-definition': 'm', 'network-configuration': 'assign-public-ip=yes' },
    '`assign-public-ip=true` or `assign-public-ip=false`',
  ],
  [
    { 'task-definition': 'm', 'started-by': 'has space' },
    'Input `started-by` must be at most 128 letters',
  ],
  [
    { 'task-definition': 'm', tags: 'aws:x=1' },
    'Input `tags` must be tags whose keys do not start with `aws:`',
  ],
])('%j is refused naming the input', (inputs, message) => {
  const error = (() => {
    try {
      read(inputs as Record<string, string>);
    } catch (e) {
      return e;
    }
  })();
  expect(error).toBeInstanceOf(ConfigurationError);
  expect((error as Error).message).toContain(message);
});

test('no region is a configuration error', () => {
  delete process.env.AWS_REGION;
  delete process.env.AWS_DEFAULT_REGION;
  expect(() => read({ 'task-definition': 'm' })).toThrow('No AWS region');
});
