import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  CreateServiceCommandInput,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { parse } from 'yaml';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';

// The step of the example deploy workflow that prepares the migration task, run in bash with
// the AWS CLI and jq (as on GitHub's runners) against local-aws: it picks the revision the
// `deploy: false` step registered and the service's network, which run-task's `task-definition`
// and `network-configuration` take, and the revision(s) the deploy then deploys as they are.
const ROOT = join(__dirname, '..', '..', '..');
const TOOLS_MISSING =
  'this suite runs the AWS CLI (`aws`) and `jq`: install them (Debian: `apt-get install awscli jq`)';
const tools = ['aws', 'jq'].every(
  (c) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status === 0,
);

interface Step {
  id?: string;
  run?: string;
}
const steps = (
  parse(readFileSync(join(ROOT, 'workflows-examples', 'deploy.yml'), 'utf8')) as {
    jobs: Record<string, { steps: Step[] }>;
  }
).jobs.deploy.steps;
const setup = steps.find((s) => s.id === 'migrate-setup')!;

let aws: LocalAws;
let ecs: ECSClient;
let dir: string;
let revision: string;

beforeAll(async () => {
  aws = await startLocalAws();
  dir = mkdtempSync(join(tmpdir(), 'shipkit-migrate-step-'));
  ecs = new ECSClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ecs.send(new CreateClusterCommand({ clusterName: 'app-staging' }));
  const td = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'app',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'app', image: 'app:1', essential: true }],
    }),
  );
  revision = td.taskDefinition!.taskDefinitionArn!;
  const services: [string, CreateServiceCommandInput['networkConfiguration']][] = [
    [
      'api',
      {
        awsvpcConfiguration: {
          subnets: ['subnet-a', 'subnet-b'],
          securityGroups: ['sg-1'],
          assignPublicIp: 'DISABLED',
        },
      },
    ],
    ['worker', { awsvpcConfiguration: { subnets: ['subnet-c'], assignPublicIp: 'ENABLED' } }],
  ];
  for (const [serviceName, networkConfiguration] of services)
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'app-staging',
        serviceName,
        taskDefinition: revision,
        desiredCount: 0,
        networkConfiguration,
      }),
    );
});

afterAll(async () => {
  ecs?.destroy();
  await aws?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const exec = promisify(execFile);

/**
 * Runs the step's script as the runner would and returns its outputs (asynchronously: local-aws
 * answers the AWS CLI from this process).
 */
async function runSetup(env: Record<string, string>): Promise<Record<string, string>> {
  const output = join(dir, 'output');
  rmSync(output, { force: true });
  const run = await exec('bash', ['-e', '-c', setup.run!], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      GITHUB_OUTPUT: output,
      RUNNER_TEMP: dir,
      AWS_CONFIG_FILE: join(dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
      AWS_ENDPOINT_URL: aws.endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      CLUSTER: 'app-staging',
      ...env,
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.stderr).toBe('');
  const outputs: Record<string, string> = {};
  const lines = readFileSync(output, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([\w-]+)<<(.+)$/.exec(lines[i]);
    const single = /^([\w-]+)=(.*)$/.exec(lines[i]);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2], i + 1);
      outputs[heredoc[1]] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (single) outputs[single[1]] = single[2];
  }
  return outputs;
}

test('one service: the migration runs the registered revision in the service network; the deploy takes that revision', async () => {
  if (!tools) throw new Error(TOOLS_MISSING);
  const out = await runSetup({ SERVICE: 'api', SEVERAL: 'false', REGISTERED: revision });
  expect(out['task-definition']).toBe(revision);
  expect(out['deploy-task-definition']).toBe(revision);
  expect(out.network.split('\n')).toEqual([
    'subnets=subnet-a,subnet-b',
    'security-groups=sg-1',
    'assign-public-ip=false',
  ]);
});

test('several services: the migration runs its service registered revision; the deploy takes every service revision', async () => {
  if (!tools) throw new Error(TOOLS_MISSING);
  const registered = {
    api: { status: 'registered', 'task-definition-arn': `${revision.slice(0, -2)}:7` },
    worker: { status: 'registered', 'task-definition-arn': `${revision.slice(0, -2)}:8` },
  };
  const out = await runSetup({
    SERVICE: 'worker',
    SEVERAL: 'true',
    REGISTERED_SERVICES: JSON.stringify(registered),
  });
  expect(out['task-definition']).toBe(registered.worker['task-definition-arn']);
  expect(out['deploy-task-definition'].split('\n')).toEqual([
    `api=${registered.api['task-definition-arn']}`,
    `worker=${registered.worker['task-definition-arn']}`,
  ]);
  // No security groups on that service: none given.
  expect(out.network.split('\n')).toEqual(['subnets=subnet-c', 'assign-public-ip=true']);
});
