/**
 * Found by driving the committed bundles by hand against local-aws: a release cancelled with
 * SIGTERM mid-rollout said nothing of the services it left rolling out; the rollback of several
 * services put its reasons (the `reason` input, AWS's words) into the summary's table unescaped.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  waitUntilServicesStable,
} from '@aws-sdk/client-ecs';
import { runAction } from '../../support/run-action';
import { eventually, startHarness, type Harness } from '../local-aws/support';

let h: Harness;
const SERVICES = ['api', 'worker'];

function env(): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: h.aws.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
}

async function running(): Promise<string[]> {
  const out = await h.ecs.send(new DescribeServicesCommand({ cluster: 'rel', services: SERVICES }));
  return out.services!.map((s) => s.taskDefinition!.split('/').pop()!);
}

/** Stable, and every service deployment ended: the next step reads a settled history. */
async function stable(): Promise<void> {
  await waitUntilServicesStable(
    { client: h.ecs, maxWaitTime: 120, minDelay: 1, maxDelay: 1 },
    { cluster: 'rel', services: SERVICES },
  );
  for (const service of SERVICES)
    await eventually(async () => {
      const out = await h.ecs.send(new ListServiceDeploymentsCommand({ cluster: 'rel', service }));
      return (out.serviceDeployments ?? []).every(
        (d) => !['PENDING', 'IN_PROGRESS'].includes(d.status ?? ''),
      );
    }, `the service deployments of ${service} to end`);
}

beforeAll(async () => {
  h = await startHarness({ timeScale: 30 });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'rel' }));
  for (const service of SERVICES) {
    const td = await h.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: service,
        containerDefinitions: [
          {
            name: 'app',
            image: await h.pushApp(service, 'v1'),
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
  await stable();
}, 120_000);

afterAll(async () => {
  await h?.close();
});

test('a release cancelled with SIGTERM mid-rollout names the services left rolling out, sets `services` and writes the summary', async () => {
  const images: string[] = [];
  for (const service of SERVICES) images.push(`${service}/app=${await h.pushApp(service, 'v2')}`);
  const run = await runAction('ecs-deploy', {
    env: env(),
    inputs: { cluster: 'rel', service: SERVICES.join('\n'), 'container-images': images.join('\n') },
    onStart: (child) => {
      let seen = '';
      let sent = false;
      child.stdout?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        // Both services updated: cancel while their rollouts are followed.
        if (!sent && SERVICES.every((s) => seen.includes(`[${s}] Following the rollout`))) {
          sent = true;
          child.kill('SIGTERM');
        }
      });
    },
  });
  expect(run.code).toBe(1);
  expect(run.error).toBe(
    'Cancelled: the workflow was cancelled (SIGTERM) while following the release: api (api:1 → api:2), worker (worker:1 → worker:2) go on rolling out in ECS, no longer followed and not rolled back.',
  );
  const services = JSON.parse(run.outputs.services) as Record<string, { status: string }>;
  expect(Object.entries(services).map(([name, s]) => [name, s.status])).toEqual([
    ['api', 'in-progress'],
    ['worker', 'in-progress'],
  ]);
  expect(run.summary.split('\n')[0]).toBe('### ⚠️ ECS release of api, worker: cancelled');
  expect(run.summary).toContain('| api | `in-progress` | api:1 → api:2 |');
  // What the message says: the rollouts went on in ECS.
  await stable();
  expect(await running()).toEqual(['api:2', 'worker:2']);
}, 120_000);

test('the summary of a rollback of several services escapes the reasons in its table', async () => {
  await stable();
  const run = await runAction('rollback', {
    env: env(),
    inputs: {
      cluster: 'rel',
      service: SERVICES.join('\n'),
      reason: 'gate failed <img src=x onerror=alert(1)> | see run',
      timeout: '3m',
    },
  });
  expect(run.error).toBeUndefined();
  expect(run.outputs.status).toBe('succeeded');
  expect(await running()).toEqual(['api:1', 'worker:1']);
  expect(run.summary).not.toContain('<img');
  const rows = run.summary.split('\n').filter((l) => /^\| (api|worker) \|/.test(l));
  expect(rows).toHaveLength(2);
  for (const row of rows) {
    expect(row).toContain('gate failed &lt;img src=x onerror=alert(1)&gt; \\| see run');
    // Seven cells: the escaped `|` does not split the row.
    expect(row.split(/(?<!\\)\|/).length - 2).toBe(7);
  }
}, 120_000);

test('ecs-deploy of one service cancelled with SIGTERM mid-rollout says the deployment goes on in ECS, unfollowed', async () => {
  await stable();
  const image = await h.pushApp('api', 'v3');
  const run = await runAction('ecs-deploy', {
    env: env(),
    inputs: { cluster: 'rel', service: 'api', 'container-images': `app=${image}` },
    onStart: (child) => {
      let seen = '';
      let sent = false;
      child.stdout?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (!sent && seen.includes('Started the deployment of')) {
          sent = true;
          child.kill('SIGTERM');
        }
      });
    },
  });
  expect(run.code).toBe(1);
  expect(run.error).toBe('Cancelled: the workflow was cancelled (SIGTERM)');
  expect(run.stdout).toMatch(
    /::warning::Cancelled: The deployment of api:\d+ to api \(from api:1\) goes on in ECS, no longer followed and not rolled back\./,
  );
  const services = JSON.parse(run.outputs.services) as Record<string, { status: string }>;
  expect(services.api.status).toBe('in-progress');
  await stable();
}, 120_000);
