import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  waitUntilServicesStable,
} from '@aws-sdk/client-ecs';
import { CreateLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { startFakeGitHub, type FakeGitHub } from '../../support/fake-github';
import { runAction, type ActionRun } from '../../support/run-action';
import {
  createForwardListener,
  createTargetGroup,
  httpGet,
  startHarness,
  type Harness,
} from '../local-aws/support';

let h: Harness;
let gh: FakeGitHub;
let listenerPort: number;
const images: Record<string, string> = {};
const SHA = {
  v1: '1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  v1b: '2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  v2: '3333333ccccccccccccccccccccccccccccccccc',
  v3: '4444444ddddddddddddddddddddddddddddddddd',
};

function env(sha = SHA.v1): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: h.aws.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...gh.env({ GITHUB_SHA: sha }),
  };
}

function deploy(sha: string, image: string, greeting: string): Promise<ActionRun> {
  return runAction('ecs-deploy', {
    env: env(sha),
    inputs: {
      cluster: 'apps',
      service: 'shop',
      'container-images': `web=${image}`,
      'environment-variables': `web.GREETING=${greeting}`,
    },
  });
}

function rollback(to: string, extra: Record<string, string> = {}): Promise<ActionRun> {
  return runAction('rollback', {
    env: env(SHA.v3),
    inputs: { cluster: 'apps', service: 'shop', to, ...extra },
  });
}

async function revisionCount(): Promise<number> {
  const out = await h.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'shop' }));
  return out.taskDefinitionArns!.length;
}

async function running(): Promise<string> {
  const out = await h.ecs.send(
    new DescribeServicesCommand({ cluster: 'apps', services: ['shop'] }),
  );
  return out.services![0].taskDefinition!.split('/').pop()!;
}

beforeAll(async () => {
  gh = await startFakeGitHub();
  h = await startHarness({ timeScale: 30 });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'apps' }));
  const lb = await h.elb.send(
    new CreateLoadBalancerCommand({ Name: 'shop', Subnets: ['subnet-1'] }),
  );
  const tgArn = await createTargetGroup(h, 'shop-tg', { VpcId: 'vpc-1' });
  listenerPort = await createForwardListener(h, lb.LoadBalancers![0].LoadBalancerArn, tgArn);
  for (const tag of ['v0', 'v1', 'v3', 'v4']) images[tag] = await h.pushApp('shop', tag);
  images.v2 = await h.pushApp('shop', 'v2', { broken: true });
  const td = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'shop',
      containerDefinitions: [
        { name: 'web', image: images.v0, essential: true, portMappings: [{ containerPort: 8080 }] },
      ],
    }),
  );
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'apps',
      serviceName: 'shop',
      taskDefinition: td.taskDefinition!.taskDefinitionArn,
      desiredCount: 1,
      loadBalancers: [{ targetGroupArn: tgArn, containerName: 'web', containerPort: 8080 }],
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    }),
  );
  await waitUntilServicesStable(
    { client: h.ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { cluster: 'apps', services: ['shop'] },
  );
  // shop:2 (v1, good), shop:3 (v1 with another greeting, good), shop:4 (v2, broken: rolled back to shop:3).
  expect((await deploy(SHA.v1, images.v1, 'one')).outputs.status).toBe('succeeded');
  expect((await deploy(SHA.v1b, images.v1, 'one-b')).outputs.status).toBe('succeeded');
  expect((await deploy(SHA.v2, images.v2, 'two')).outputs.status).toBe('rolled-back');
  expect(await running()).toBe('shop:3');
});

afterAll(async () => {
  await h?.close();
  await gh?.close();
});

test('after ECS rolled the failed deploy back, `to: previous` is a no-op instead of going further back', async () => {
  const run = await rollback('previous');
  expect(run.code).toBe(0);
  expect(run.outputs).toMatchObject({
    status: 'unchanged',
    'to-task-definition-arn': expect.stringMatching(/shop:3$/),
  });
  expect(run.stdout).toContain(
    'ECS already rolled back the latest deployment (shop:4, ROLLBACK_SUCCESSFUL)',
  );
  expect(await running()).toBe('shop:3');
});

test('on-demand rollback to v1 by commit SHA records a GitHub Deployment of that commit; a second one is a no-op', async () => {
  const run = await rollback(SHA.v1.slice(0, 7), {
    environment: 'production',
    'github-token': gh.token,
    reason: 'checkout errors',
  });
  expect(run.error).toBeUndefined();
  expect(run.outputs).toMatchObject({
    status: 'succeeded',
    method: 'update-service',
    'from-task-definition-arn': expect.stringMatching(/shop:3$/),
    'to-task-definition-arn': expect.stringMatching(/shop:2$/),
  });
  expect(await running()).toBe('shop:2');
  expect((await httpGet(`http://127.0.0.1:${listenerPort}/`)).body).toBe('v1 one');
  const recorded = gh.deployments[gh.deployments.length - 1];
  expect(recorded).toMatchObject({
    ref: SHA.v1,
    environment: 'production',
    task: 'deploy:rollback',
  });
  expect(recorded.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
  expect(run.summary).toContain('✅ Rollback of shop: rolled back');
  expect(run.summary).toContain('checkout errors');

  const again = await rollback(SHA.v1);
  expect(again.code).toBe(0);
  expect(again.outputs.status).toBe('unchanged');
  expect(again.stdout).toContain('The service already runs shop:2');
});

test('`to: previous` right after a rollback does not ping-pong back to the revision rolled back from', async () => {
  const run = await rollback('previous');
  expect(run.code).toBe(0);
  expect(run.outputs.status).toBe('unchanged');
  expect(run.stdout).toContain('already rolled back from shop:3 to shop:2');
  expect(await running()).toBe('shop:2');
});

test('`to: previous` after a new good deploy never picks the failed revision nor the one rolled back from', async () => {
  expect((await deploy(SHA.v3, images.v3, 'three')).outputs.status).toBe('succeeded');
  expect(await running()).toBe('shop:5');
  const run = await rollback('previous');
  expect(run.error).toBeUndefined();
  expect(run.outputs).toMatchObject({
    status: 'succeeded',
    'to-task-definition-arn': expect.stringMatching(/shop:2$/),
  });
  expect(await running()).toBe('shop:2');
});

test('rolling back to an image tag takes the revision that ran it; an unknown commit is a clear error', async () => {
  const byImage = await rollback('v3');
  expect(byImage.outputs).toMatchObject({
    status: 'succeeded',
    'to-task-definition-arn': expect.stringMatching(/shop:5$/),
  });
  const unknown = await rollback('deadbee');
  expect(unknown.code).toBe(1);
  expect(unknown.error).toBe(
    'Invalid configuration: Input `to`: no revision of `shop` is tagged with commit `deadbee` or runs an image tagged `deadbee` (searched 5 revisions).',
  );
  expect(await running()).toBe('shop:5');
});

test.each(['Previous', 'prev', 'previos', 'last'])(
  '`to: %s` is refused as a near-miss of `previous`, with the accepted forms, before anything changes',
  async (to) => {
    const before = await running();
    const revisions = await revisionCount();
    const run = await rollback(to);
    expect(run.code).toBe(1);
    expect(run.error).toBe(
      `Invalid configuration: Input \`to\`: \`${to}\` looks like a misspelling of \`previous\`, so it is not taken for an image tag. Give \`previous\` (in lower case), a task definition ARN, \`family:revision\`, a commit SHA (7 to 40 hex digits), an image tag or an image digest (\`sha256:\` and 64 hex digits).`,
    );
    expect(await running()).toBe(before);
    expect(await revisionCount()).toBe(revisions);
  },
);

test('an image tag that is not in the repository is refused before anything is registered', async () => {
  const before = await running();
  const revisions = await revisionCount();
  const run = await rollback('v9');
  expect(run.code).toBe(1);
  expect(run.error).toMatch(
    /^Invalid configuration: Input `to`: no revision of `shop` runs an image tagged `v9`, and `.*\/shop:v9` is not in its repository; nothing was registered\.$/,
  );
  expect(await running()).toBe(before);
  expect(await revisionCount()).toBe(revisions);
});

test('an image tag in the repository that no revision ran: registered from the running revision and rolled out', async () => {
  const revisions = await revisionCount();
  const run = await rollback('v4');
  expect(run.error).toBeUndefined();
  expect(run.outputs.status).toBe('succeeded');
  expect(await revisionCount()).toBe(revisions + 1);
  expect((await httpGet(`http://127.0.0.1:${listenerPort}/`)).body).toMatch(/^v4 /);
});

test('a rollback that ECS undoes does not mark the revision it started from: `to: previous` later names it, with a true sentence', async () => {
  const start = await running();
  // The broken revision (v2): the rollback's own deployment fails and ECS rolls it back.
  const failed = await rollback('shop:4');
  expect(failed.code).toBe(1);
  expect(failed.outputs.status).toBe('failed');
  expect(failed.error).toMatch(/^The rollback to shop:4 failed/);
  expect(failed.error).toContain(`ECS undid it: the service is back on ${start}`);
  expect(await running()).toBe(start);

  expect((await deploy(SHA.v3, images.v3, 'three-b')).outputs.status).toBe('succeeded');
  const next = await running();
  const back = await rollback('previous');
  expect(back.error).toBeUndefined();
  expect(back.outputs['to-task-definition-arn']).toMatch(new RegExp(`${start}$`));
  expect(back.stdout).toContain(
    `Rolling back shop from ${next} to ${start}: ${start} is the newest revision that completed a deployment before ${next}`,
  );
  expect(await running()).toBe(start);
});

test('a `reason` with planted runner commands is printed as one line and escaped in the summary', async () => {
  const planted =
    'gate failed\n::set-output name=status::succeeded\n::add-mask::hunter2\n::warning ::pwned <b>x</b>';
  const run = await rollback('previous', { reason: planted });
  expect(['unchanged', 'succeeded']).toContain(run.outputs.status);
  expect(run.masked).not.toContain('hunter2');
  const lines = run.stdout.split(/\r?\n/);
  expect(lines.filter((l) => /^\s*::(set-output|add-mask::hunter2|warning)/.test(l))).toEqual([]);
  expect(lines).toContain(
    'Reason: gate failed ⏎ ::set-output name=status::succeeded ⏎ ::add-mask::hunter2 ⏎ ::warning ::pwned <b>x</b>',
  );
  expect(run.summary).not.toContain('<b>');
});
