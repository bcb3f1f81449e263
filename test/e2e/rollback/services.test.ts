/**
 * rollback of several services in one step, with the committed bundles against local-aws: every
 * target is resolved before anything changes (a commit one service lacks fails naming it), then
 * each service goes back to its own previous revision, with one `services` output and summary.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  RegisterTaskDefinitionCommand,
  waitUntilServicesStable,
} from '@aws-sdk/client-ecs';
import { startFakeGitHub, type FakeGitHub } from '../../support/fake-github';
import { runAction, type ActionRun } from '../../support/run-action';
import { startHarness, type Harness } from '../local-aws/support';

let h: Harness;
let gh: FakeGitHub;
const SHA = {
  zero: '0000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  one: '1111111bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  two: '2222222ccccccccccccccccccccccccccccccccc',
};

function env(sha: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: h.aws.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...gh.env({ GITHUB_SHA: sha }),
  };
}

async function deploy(service: string, sha: string, tag: string): Promise<void> {
  const run = await runAction('ecs-deploy', {
    env: env(sha),
    inputs: {
      cluster: 'rel',
      service,
      'container-images': `app=${await h.pushApp(service, tag)}`,
    },
  });
  expect(run.error).toBeUndefined();
  expect(run.outputs.status).toBe('succeeded');
}

function rollback(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction('rollback', {
    env: env(SHA.two),
    inputs: { cluster: 'rel', service: 'api\nworker', timeout: '3m', ...inputs },
  });
}

async function running(): Promise<string[]> {
  const out = await h.ecs.send(
    new DescribeServicesCommand({ cluster: 'rel', services: ['api', 'worker'] }),
  );
  return out.services!.map((s) => s.taskDefinition!.split('/').pop()!);
}

beforeAll(async () => {
  gh = await startFakeGitHub();
  h = await startHarness({ timeScale: 30 });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'rel' }));
  for (const service of ['api', 'worker']) {
    const td = await h.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: service,
        containerDefinitions: [
          {
            name: 'app',
            image: await h.pushApp(service, 'v0'),
            essential: true,
            portMappings: [{ containerPort: 8080 }],
          },
        ],
      }),
    );
    await h.ecs.send(
      new CreateServiceCommand({
        cluster: 'rel',
        serviceName: service,
        taskDefinition: td.taskDefinition!.taskDefinitionArn,
        desiredCount: 1,
      }),
    );
  }
  await waitUntilServicesStable(
    { client: h.ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { cluster: 'rel', services: ['api', 'worker'] },
  );
  // api:2 (zero), api:3 (one), api:4 (two); worker:2 (one), worker:3 (two).
  await deploy('api', SHA.zero, 'v1');
  await deploy('api', SHA.one, 'v2');
  await deploy('worker', SHA.one, 'v2');
  await deploy('api', SHA.two, 'v3');
  await deploy('worker', SHA.two, 'v3');
  expect(await running()).toEqual(['api:4', 'worker:3']);
});

afterAll(async () => {
  await h?.close();
  await gh?.close();
});

test('one `to` that a service lacks fails before any service is changed, naming that service', async () => {
  const run = await rollback({ to: SHA.zero });
  expect(run.code).not.toBe(0);
  expect(run.error).toContain('Input `to`: service `worker`:');
  expect(run.error).toContain(`tagged with commit \`${SHA.zero}\``);
  expect(run.error).toContain('Nothing was rolled back.');
  expect(await running()).toEqual(['api:4', 'worker:3']);
});

test('rollback of two services to previous takes each to its own previous revision, with one services output and summary', async () => {
  const run = await rollback({ reason: 'worker broke' });
  expect(run.error).toBeUndefined();
  expect(run.code).toBe(0);
  expect(run.outputs.status).toBe('succeeded');
  expect(run.outputs.reason).toBe(
    'Rolled back api from api:4 to api:3, worker from worker:3 to worker:2 (worker broke).',
  );
  const rows = JSON.parse(run.outputs.services) as Record<string, Record<string, string>>;
  expect(
    Object.entries(rows).map(([service, r]) => [
      service,
      r.status,
      r['task-definition-arn'],
      r['previous-task-definition-arn'],
    ]),
  ).toEqual([
    [
      'api',
      'succeeded',
      expect.stringMatching(/task-definition\/api:3$/),
      expect.stringMatching(/api:4$/),
    ],
    [
      'worker',
      'succeeded',
      expect.stringMatching(/task-definition\/worker:2$/),
      expect.stringMatching(/worker:3$/),
    ],
  ]);
  expect(run.summary).toContain('Rollback of api, worker');
  expect(run.summary).toMatch(/\| api \| succeeded \| api:4 \| api:3 \| update-service \|/);
  expect(run.summary).toMatch(
    /\| worker \| succeeded \| worker:3 \| worker:2 \| update-service \|/,
  );
  expect(run.stdout).toContain('[worker] Rolling back worker from worker:3 to worker:2');
  expect(await running()).toEqual(['api:3', 'worker:2']);
});
