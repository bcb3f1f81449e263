import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  waitUntilServicesStable,
} from '@aws-sdk/client-ecs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeGitHub, type FakeGitHub } from '../../support/fake-github';
import { runAction } from '../../support/run-action';
import { startHarness, type Harness } from '../local-aws/support';

let h: Harness;
let gh: FakeGitHub;
let work: string;
let v0Image: string;
let v1Image: string;

const SHA = 'b1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
/** A process that stays up until SIGTERM. */
const STAYS_UP = [
  'node',
  '-e',
  "setInterval(() => {}, 1000); process.on('SIGTERM', () => process.exit(0))",
];

function env(): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: h.aws.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...gh.env({ GITHUB_SHA: SHA }),
  };
}

/**
 * Creates service `name` (family `name`, one container `container` running `image`, 2 tasks
 * that stay up, no load balancer, circuit breaker with rollback) and waits until it is stable.
 */
async function createService(name: string, container: string, image: string): Promise<string> {
  const td = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: name,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        { name: container, image, essential: true, command: STAYS_UP, stopTimeout: 2 },
      ],
    }),
  );
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'apps',
      serviceName: name,
      taskDefinition: td.taskDefinition!.taskDefinitionArn,
      desiredCount: 2,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
      deploymentConfiguration: {
        minimumHealthyPercent: 100,
        maximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
      },
    }),
  );
  await waitUntilServicesStable(
    { client: h.ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { cluster: 'apps', services: [name] },
  );
  return td.taskDefinition!.taskDefinitionArn!;
}

async function revision(name: string): Promise<string | undefined> {
  const out = await h.ecs.send(new DescribeServicesCommand({ cluster: 'apps', services: [name] }));
  return out.services![0].taskDefinition;
}

async function revisionCount(family: string): Promise<number> {
  const out = await h.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family }));
  return out.taskDefinitionArns!.filter((a) => a.includes(`/${family}:`)).length;
}

function crashingDefinition(file: string, family: string, container: string): string {
  writeFileSync(
    join(work, file),
    JSON.stringify({
      family,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        {
          name: container,
          image: 'placeholder',
          essential: true,
          command: ['node', '-e', 'process.exit(1)'],
          stopTimeout: 2,
        },
      ],
    }),
  );
  return file;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'shipkit-release-'));
  gh = await startFakeGitHub();
  h = await startHarness({ timeScale: 30 });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'apps' }));
  v0Image = await h.pushApp('shop', 'v0');
  v1Image = await h.pushApp('shop', 'v1');
});

afterAll(async () => {
  await h?.close();
  await gh?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('a two-service release succeeds: both deployed, outputs per service, one GitHub Deployment, one summary row each', async () => {
  const apiBefore = await createService('ok-api', 'web', v0Image);
  const workerBefore = await createService('ok-worker', 'work', v0Image);
  const count = gh.deployments.length;
  const run = await runAction('ecs-deploy', {
    cwd: work,
    env: env(),
    inputs: {
      cluster: 'apps',
      service: 'ok-api\nok-worker',
      'container-images': `web=${v1Image}\nok-worker/work=${v1Image}`,
      'environment-variables': 'web.LOG_LEVEL=info',
      environment: 'production',
      'github-token': gh.token,
    },
  });
  expect(run.error).toBeUndefined();
  expect(run.code).toBe(0);
  expect(run.outputs.status).toBe('succeeded');
  expect(run.outputs['task-definition-arn']).toBe('');
  const services = JSON.parse(run.outputs.services);
  expect(services['ok-api']).toMatchObject({
    status: 'succeeded',
    'task-definition-arn': expect.stringMatching(/task-definition\/ok-api:2$/),
    'previous-task-definition-arn': apiBefore,
  });
  expect(services['ok-worker']).toMatchObject({
    status: 'succeeded',
    'task-definition-arn': expect.stringMatching(/task-definition\/ok-worker:2$/),
    'previous-task-definition-arn': workerBefore,
  });
  expect(await revision('ok-api')).toBe(services['ok-api']['task-definition-arn']);
  expect(await revision('ok-worker')).toBe(services['ok-worker']['task-definition-arn']);
  const td = await h.ecs.send(
    new DescribeTaskDefinitionCommand({
      taskDefinition: services['ok-api']['task-definition-arn'],
    }),
  );
  expect(td.taskDefinition!.containerDefinitions![0]).toMatchObject({
    image: v1Image,
    environment: [{ name: 'LOG_LEVEL', value: 'info' }],
  });
  expect(run.stdout).toMatch(/^\[ok-api\] /m);
  expect(run.stdout).toMatch(/^\[ok-worker\] /m);

  expect(gh.deployments).toHaveLength(count + 1);
  expect(gh.deployments[count].payload).toEqual({
    services: ['ok-api', 'ok-worker'],
    cluster: 'apps',
  });
  expect(gh.deployments[count].statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
  expect(run.summary).toContain('✅ ECS release of ok-api, ok-worker: released');
  expect(run.summary).toMatch(/\| ok-api \| `succeeded` \| ok-api:1 → ok-api:2 \|/);
  expect(run.summary).toMatch(/\| ok-worker \| `succeeded` \| ok-worker:1 → ok-worker:2 \|/);
});

test('the same release with a crashing worker fails, names the worker, and leaves both services on their previous revisions', async () => {
  const apiBefore = await createService('bad-api', 'web', v0Image);
  const workerBefore = await createService('bad-worker', 'work', v0Image);
  const run = await runAction('ecs-deploy', {
    cwd: work,
    env: env(),
    inputs: {
      cluster: 'apps',
      service: 'bad-api\nbad-worker',
      'task-definition': `bad-worker=${crashingDefinition('bad-worker.json', 'bad-worker', 'work')}`,
      'container-images': `web=${v1Image}\nwork=${v1Image}`,
    },
  });
  expect(run.code).toBe(1);
  expect(run.outputs.status).toBe('rolled-back');
  expect(run.outputs.reason).toMatch(/^bad-worker failed: /);
  expect(run.outputs.reason).toMatch(/Essential container in task exited \(work: exit code 1\)/);
  expect(run.outputs.reason).toContain('Rolled back bad-api to bad-api:1.');
  expect(run.error).toBe(run.outputs.reason);
  const services = JSON.parse(run.outputs.services);
  expect(services['bad-api'].status).toBe('rolled-back');
  expect(services['bad-worker'].status).toBe('rolled-back');
  expect(await revision('bad-api')).toBe(apiBefore);
  expect(await revision('bad-worker')).toBe(workerBefore);
  expect(run.summary).toContain('❌ ECS release of bad-api, bad-worker: rolled back');
});

test("a release where only one service's image changed leaves the other's revision untouched", async () => {
  await createService('one-api', 'web', v0Image);
  const workerBefore = await createService('one-worker', 'work', v0Image);
  const run = await runAction('ecs-deploy', {
    cwd: work,
    env: env(),
    inputs: {
      cluster: 'apps',
      service: 'one-api\none-worker',
      'container-images': `web=${v1Image}\nwork=${v0Image}`,
    },
  });
  expect(run.error).toBeUndefined();
  expect(run.outputs.status).toBe('succeeded');
  const services = JSON.parse(run.outputs.services);
  expect(services['one-api'].status).toBe('succeeded');
  expect(services['one-worker']).toMatchObject({
    status: 'unchanged',
    'task-definition-arn': workerBefore,
  });
  expect(await revision('one-worker')).toBe(workerBefore);
  expect(await revisionCount('one-worker')).toBe(1);
  expect(run.outputs.reason).toMatch(/Unchanged: one-worker\.$/);
});

test.each([
  [
    'an unknown service',
    (img: string) => `web=${img}\nbilling/work=${img}`,
    /^Invalid configuration: Input `container-images`, line `billing\/work=\S+`: `billing` is not one of the services in `service`/,
  ],
  [
    'an unknown container',
    (img: string) => `web=${img}\ndb=${img}`,
    /^Invalid configuration: Input `container-images`, line `db=\S+`: no service of the release has a container `db`/,
  ],
])(
  'a bad line in container-images naming %s fails before anything is registered',
  async (_what, images, message) => {
    if (!(await revisionCount('line-api'))) {
      await createService('line-api', 'web', v0Image);
      await createService('line-worker', 'work', v0Image);
    }
    const run = await runAction('ecs-deploy', {
      cwd: work,
      env: env(),
      inputs: {
        cluster: 'apps',
        service: 'line-api\nline-worker',
        'container-images': images(v1Image),
      },
    });
    expect(run.code).toBe(1);
    expect(run.error).toMatch(message);
    expect(await revisionCount('line-api')).toBe(1);
    expect(await revisionCount('line-worker')).toBe(1);
  },
);
