// Found by driving run-task by hand: mistakes found while resolving what to run (an unknown
// family, a container the definition lacks, an awsvpc definition with no subnets, an unknown
// cluster) failed without naming the input, two of them as raw AWS errors.
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../actions/run-task/src/main';
import { runInProcess } from '../rollback/in-process-run';
import { FakeClock, FakeEcs, FakeLogs, stoppedWith } from '../run-task/fakes';

const definition: TaskDefinition = {
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/migrate:4',
  family: 'migrate',
  revision: 4,
  containerDefinitions: [{ name: 'job', image: 'registry.example/jobs:v4', essential: true }],
};

/** An error as the AWS SDK throws it. */
function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: 400, requestId: 'req-1' },
  });
}

type Setup = (ecs: FakeEcs) => void;

test.each<{ name: string; inputs: Record<string, string>; setup: Setup; says: string }>([
  {
    name: 'an unknown task definition family names `task-definition`',
    inputs: { 'task-definition': 'nosuch' },
    setup: (ecs) => {
      ecs.describeTaskDefinition = async () => {
        ecs.calls.push('DescribeTaskDefinition');
        throw awsError('ClientException', 'Unable to describe task definition.');
      };
    },
    says: 'Invalid configuration: Input `task-definition`: `nosuch` is not a registered task definition (ECS: Unable to describe task definition.).',
  },
  {
    name: 'a container the definition lacks names `container`',
    inputs: { 'task-definition': 'migrate:4', container: 'web' },
    setup: () => undefined,
    says: 'Invalid configuration: Input `container`: Task definition `migrate:4` has no container `web` (it has `job`).',
  },
  {
    name: 'an awsvpc definition without subnets names `network-configuration`',
    inputs: { 'task-definition': 'migrate:4' },
    setup: (ecs) => {
      ecs.taskDefinition = { ...definition, networkMode: 'awsvpc' };
    },
    says: "Invalid configuration: Input `network-configuration` needs `subnets=…` (or set `service` to use that service's network): Task definition `migrate:4` uses the awsvpc network mode",
  },
  {
    name: 'an unknown cluster names `cluster`',
    inputs: { service: 'web' },
    setup: (ecs) => {
      ecs.describeServices = async () => {
        ecs.calls.push('DescribeServices');
        throw awsError('ClusterNotFoundException', 'Cluster not found.');
      };
    },
    says: 'Invalid configuration: Input `cluster`: cluster `jobs` was not found (',
  },
])('$name, and starts no task', async ({ inputs, setup, says }) => {
  const ecs = new FakeEcs([() => stoppedWith(0)]);
  ecs.taskDefinition = { ...definition };
  setup(ecs);
  const result = await runInProcess(
    () => run({ ecs, logs: () => new FakeLogs(), clock: new FakeClock() }),
    { cluster: 'jobs', ...inputs },
    { AWS_REGION: 'us-east-1', GITHUB_REPOSITORY: 'acme/shop', GITHUB_RUN_ID: '7' },
  );
  expect(result.exitCode).toBe(1);
  expect(result.errors).toHaveLength(1);
  expect(result.errors[0]).toContain(says);
  expect(ecs.calls).not.toContain('RunTask');
});

test.each<{ name: string; inputs: Record<string, string>; says: string }>([
  {
    name: 'an awsvpc definition file without subnets',
    inputs: {},
    says: "Input `network-configuration` needs `subnets=…` (or set `service` to use that service's network): Task definition `job.json` uses the awsvpc network mode",
  },
  {
    name: 'a container the definition file lacks',
    inputs: { container: 'web', 'network-configuration': 'subnets=subnet-a' },
    says: 'Input `container`: Task definition `job` has no container `web` (it has `job`).',
  },
  {
    name: 'a container-images line for a container the definition file lacks',
    inputs: {
      'container-images': 'web=registry.example/jobs:v5',
      'network-configuration': 'subnets=subnet-a',
    },
    says: 'Input `container-images` names container `web`, which task definition file `job.json` does not have (it has `job`).',
  },
])('$name fails naming the input before the file is registered', async ({ inputs, says }) => {
  const dir = mkdtempSync(join(tmpdir(), 'run-task-file-'));
  writeFileSync(
    join(dir, 'job.json'),
    JSON.stringify({
      family: 'job',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      containerDefinitions: [{ name: 'job', image: 'registry.example/jobs:v4', essential: true }],
    }),
  );
  const ecs = new FakeEcs([() => stoppedWith(0)]);
  const registered: unknown[] = [];
  ecs.registerTaskDefinition = async (input: unknown) => {
    registered.push(input);
    throw new Error('registered');
  };
  try {
    const result = await runInProcess(
      () => run({ ecs, logs: () => new FakeLogs(), clock: new FakeClock() }),
      { cluster: 'jobs', 'task-definition': 'job.json', ...inputs },
      {
        AWS_REGION: 'us-east-1',
        GITHUB_REPOSITORY: 'acme/shop',
        GITHUB_RUN_ID: '7',
        GITHUB_WORKSPACE: dir,
      },
    );
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toContain(`Invalid configuration: ${says}`);
    expect(registered).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
