import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  waitUntilServicesStable,
} from '@aws-sdk/client-ecs';
import { CreateLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeGitHub, type FakeGitHub } from '../../support/fake-github';
import { runAction } from '../../support/run-action';
import {
  createForwardListener,
  createTargetGroup,
  httpGet,
  startHarness,
  type Harness,
} from '../local-aws/support';

let h: Harness;
let gh: FakeGitHub;
let work: string;
let listenerPort: number;
let tgArn: string;
let v1Image: string;
let brokenImage: string;

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
/** A worker process that stays up until SIGTERM. */
const STAYS_UP = [
  'node',
  '-e',
  "setInterval(() => {}, 1000); process.on('SIGTERM', () => process.exit(0))",
];

function workerDefinitionFile(name: string, command: string[]): string {
  writeFileSync(
    join(work, name),
    JSON.stringify({
      family: 'worker',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        { name: 'work', image: 'placeholder', essential: true, command, stopTimeout: 2 },
      ],
    }),
  );
  return name;
}

async function workerRevision(name: string): Promise<string | undefined> {
  const out = await h.ecs.send(new DescribeServicesCommand({ cluster: 'apps', services: [name] }));
  return out.services![0].taskDefinition;
}

/**
 * Creates a worker service `name` (no load balancer, no container health check, 2 tasks that
 * stay up) and waits until it is stable; `breaker`: circuit breaker with rollback.
 */
async function createWorker(name: string, breaker: boolean): Promise<void> {
  const worker = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'worker',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        { name: 'work', image: v1Image, essential: true, command: STAYS_UP, stopTimeout: 2 },
      ],
    }),
  );
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'apps',
      serviceName: name,
      taskDefinition: worker.taskDefinition!.taskDefinitionArn,
      desiredCount: 2,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
      deploymentConfiguration: {
        minimumHealthyPercent: 100,
        maximumPercent: 200,
        deploymentCircuitBreaker: { enable: breaker, rollback: breaker },
      },
    }),
  );
  await waitUntilServicesStable(
    { client: h.ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { cluster: 'apps', services: [name] },
  );
}

function taskDefinitionFile(name: string, extra: Record<string, unknown> = {}): string {
  const path = join(work, name);
  writeFileSync(
    path,
    JSON.stringify({
      family: 'shop',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      // Fields a newer AWS CLI prints that the bundled SDK may not know, and read-only ones.
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/shop:99',
      revision: 99,
      status: 'ACTIVE',
      someFutureSetting: { enabled: true },
      containerDefinitions: [
        {
          name: 'web',
          image: 'placeholder',
          essential: true,
          portMappings: [{ containerPort: 8080 }],
          environment: [{ name: 'GREETING', value: 'from-ecs' }],
          ...extra,
        },
      ],
    }),
  );
  return name;
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: h.aws.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...gh.env({ GITHUB_SHA: SHA }),
    ...extra,
  };
}

async function service(): Promise<{ taskDefinition?: string; runningCount?: number }> {
  const out = await h.ecs.send(
    new DescribeServicesCommand({ cluster: 'apps', services: ['shop'] }),
  );
  return out.services![0];
}

async function revisionCount(): Promise<number> {
  const out = await h.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'shop' }));
  return out.taskDefinitionArns!.length;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'shipkit-ecs-deploy-'));
  gh = await startFakeGitHub();
  h = await startHarness({ timeScale: 30 });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'apps' }));
  const lb = await h.elb.send(
    new CreateLoadBalancerCommand({ Name: 'shop', Subnets: ['subnet-1', 'subnet-2'] }),
  );
  tgArn = await createTargetGroup(h, 'shop-tg', {
    VpcId: 'vpc-1',
    Matcher: { HttpCode: '200' },
  });
  listenerPort = await createForwardListener(h, lb.LoadBalancers![0].LoadBalancerArn, tgArn);
  const v0 = await h.pushApp('shop', 'v0');
  v1Image = await h.pushApp('shop', 'v1');
  brokenImage = await h.pushApp('shop', 'v2-broken', { broken: true });
  const td = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'shop',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        {
          name: 'web',
          image: v0,
          essential: true,
          portMappings: [{ containerPort: 8080 }],
          environment: [{ name: 'GREETING', value: 'from-ecs' }],
        },
      ],
    }),
  );
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'apps',
      serviceName: 'shop',
      taskDefinition: td.taskDefinition!.taskDefinitionArn,
      desiredCount: 2,
      launchType: 'FARGATE',
      // An awsvpc service needs its network configuration, as on AWS.
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1', 'subnet-2'] } },
      loadBalancers: [{ targetGroupArn: tgArn, containerName: 'web', containerPort: 8080 }],
      deploymentConfiguration: {
        minimumHealthyPercent: 100,
        maximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
      },
    }),
  );
  await waitUntilServicesStable(
    { client: h.ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { cluster: 'apps', services: ['shop'] },
  );
});

afterAll(async () => {
  await h?.close();
  await gh?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('v1 deploys rolling and succeeds: outputs, tags, summary and GitHub Deployment statuses', async () => {
  const run = await runAction('ecs-deploy', {
    cwd: work,
    env: env(),
    inputs: {
      cluster: 'apps',
      service: 'shop',
      'task-definition': taskDefinitionFile('task-definition.json'),
      'container-images': `web=${v1Image}`,
      'environment-variables': 'web.LOG_LEVEL=info',
      environment: 'production',
      'environment-url': 'https://shop.example',
      'github-token': gh.token,
    },
  });
  expect(run.error).toBeUndefined();
  expect(run.code).toBe(0);
  expect(run.outputs).toMatchObject({
    status: 'succeeded',
    'task-definition-arn': expect.stringMatching(/task-definition\/shop:2$/),
    'previous-task-definition-arn': expect.stringMatching(/task-definition\/shop:1$/),
    'service-deployment-arn': expect.stringMatching(
      /^arn:aws:ecs:us-east-1:000000000000:service-deployment\//,
    ),
    'github-deployment-id': '1001',
  });
  expect(run.outputs.reason).toMatch(/shop:2 is deployed and stable \(2\/2 running\)/);
  expect(run.stdout).toContain('someFutureSetting');
  expect(run.masked).toContain(gh.token);

  const svc = await service();
  expect(svc.taskDefinition).toBe(run.outputs['task-definition-arn']);
  expect((await httpGet(`http://127.0.0.1:${listenerPort}/`)).body).toBe('v1 from-ecs');
  const td = await h.ecs.send(
    new DescribeTaskDefinitionCommand({
      taskDefinition: run.outputs['task-definition-arn'],
      include: ['TAGS'],
    }),
  );
  expect(td.tags).toEqual(
    expect.arrayContaining([
      { key: 'shipkit:git-sha', value: SHA },
      { key: 'shipkit:workflow-run', value: 'octo/shop/actions/runs/4242' },
      { key: 'shipkit:image:web', value: v1Image },
    ]),
  );
  expect(td.taskDefinition!.containerDefinitions![0].environment).toEqual(
    expect.arrayContaining([{ name: 'LOG_LEVEL', value: 'info' }]),
  );

  expect(gh.deployments).toHaveLength(1);
  expect(gh.deployments[0]).toMatchObject({ ref: SHA, environment: 'production', task: 'deploy' });
  expect(gh.deployments[0].statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
  expect(gh.deployments[0].statuses[1]).toMatchObject({
    environment_url: 'https://shop.example',
    log_url: 'https://github.example/octo/shop/actions/runs/4242',
  });

  expect(run.summary).toContain('✅ ECS deploy of shop: deployed');
  expect(run.summary).toMatch(/web image: .*shop:v0 → .*shop:v1/);
  expect(run.summary).toContain('web env LOG_LEVEL: added (info)');
});

test('deploying the same thing again registers nothing and reports `unchanged`', async () => {
  // Whatever the service runs now, with the image it runs: this test needs no earlier one.
  const running = (await service()).taskDefinition!;
  const td = await h.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: running }));
  const image = td.taskDefinition!.containerDefinitions![0].image!;
  const before = await revisionCount();
  const run = await runAction('ecs-deploy', {
    cwd: work,
    env: env(),
    inputs: {
      cluster: 'apps',
      service: 'shop',
      'task-definition': 'current',
      'container-images': `web=${image}`,
    },
  });
  expect(run.code).toBe(0);
  expect(run.outputs.status).toBe('unchanged');
  expect(run.outputs.reason).toBe(
    `The rendered task definition equals the running revision ${running.split('/').pop()}; nothing to deploy.`,
  );
  expect(await revisionCount()).toBe(before);
});

test('deploy: false registers the revision, sets its ARN and leaves the service and GitHub alone', async () => {
  const running = (await service()).taskDefinition!;
  const before = await revisionCount();
  const requests = gh.requests.length;
  const run = await runAction('ecs-deploy', {
    cwd: work,
    env: env(),
    inputs: {
      cluster: 'apps',
      service: 'shop',
      'container-images': `web=${brokenImage}`,
      environment: 'production',
      'github-token': gh.token,
      deploy: 'false',
    },
  });
  expect(run.error).toBeUndefined();
  expect(run.code).toBe(0);
  expect(run.outputs.status).toBe('registered');
  expect(await revisionCount()).toBe(before + 1);
  const registered = run.outputs['task-definition-arn'];
  expect(registered).toMatch(/:task-definition\/shop:\d+$/);
  expect(registered).not.toBe(running);
  const td = await h.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: registered }));
  expect(td.taskDefinition!.containerDefinitions![0].image).toBe(brokenImage);
  expect((await service()).taskDefinition).toBe(running);
  expect(run.outputs.reason).toBe(
    `Registered ${registered.split('/').pop()}; shop was not updated and still runs ${running.split('/').pop()}.`,
  );
  expect(gh.requests.length).toBe(requests);
});

test('a revision registered with deploy: false is deployed by its ARN, with no new revision registered', async () => {
  await createWorker('worker-by-arn', true);
  const running = await workerRevision('worker-by-arn');
  const registered = await runAction('ecs-deploy', {
    cwd: work,
    env: env(),
    inputs: {
      cluster: 'apps',
      service: 'worker-by-arn',
      'task-definition': workerDefinitionFile('worker-by-arn.json', STAYS_UP),
      'container-images': `work=${v1Image}`,
      'environment-variables': 'work.QUEUE=orders',
      deploy: 'false',
    },
  });
  expect(registered.error).toBeUndefined();
  expect(registered.outputs.status).toBe('registered');
  const arn = registered.outputs['task-definition-arn'];
  expect(await workerRevision('worker-by-arn')).toBe(running);
  const listed = async (): Promise<number> =>
    (await h.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'worker' })))
      .taskDefinitionArns!.length;
  const before = await listed();

  const run = await runAction('ecs-deploy', {
    cwd: work,
    env: env(),
    inputs: { cluster: 'apps', service: 'worker-by-arn', 'task-definition': arn },
  });
  expect(run.error).toBeUndefined();
  expect(run.outputs).toMatchObject({
    status: 'succeeded',
    'task-definition-arn': arn,
    'previous-task-definition-arn': running,
  });
  expect(await listed()).toBe(before);
  expect(await workerRevision('worker-by-arn')).toBe(arn);
});

test('an unknown registered revision fails naming `task-definition` and changes nothing', async () => {
  const running = (await service()).taskDefinition!;
  const before = await revisionCount();
  const run = await runAction('ecs-deploy', {
    cwd: work,
    env: env(),
    inputs: { cluster: 'apps', service: 'shop', 'task-definition': 'shop:999' },
  });
  expect(run.code).toBe(1);
  expect(run.error).toBe(
    'Invalid configuration: Input `task-definition`: task definition `shop:999` was not found (DescribeTaskDefinition refused it).',
  );
  expect(await revisionCount()).toBe(before);
  expect((await service()).taskDefinition).toBe(running);
});

test('dry run prints the changes and the calls, and registers nothing', async () => {
  const before = await revisionCount();
  const run = await runAction('ecs-deploy', {
    cwd: work,
    env: env(),
    inputs: {
      cluster: 'apps',
      service: 'shop',
      'container-images': `web=${brokenImage}`,
      'dry-run': 'true',
    },
  });
  expect(run.code).toBe(0);
  expect(run.outputs.status).toBe('dry-run');
  // What would change is in the log, not only in the summary.
  expect(run.stdout).toMatch(/^Would change from shop:\d+:$/m);
  expect(run.stdout).toMatch(/^ {2}web image: \S+ → \S+broken\S*$/m);
  expect(run.stdout).toMatch(/RegisterTaskDefinition family=shop/);
  expect(run.stdout).toMatch(/UpdateService apps\/shop/);
  expect(await revisionCount()).toBe(before);
});

test.each([
  [
    'fails its health check',
    () => ({ 'container-images': `web=${brokenImage}` }),
    /Task failed ELB health checks in \(target-group /,
  ],
  [
    'exits at start',
    () => ({
      'task-definition': taskDefinitionFile('exits.json', {
        command: ['node', '-e', "console.error('no DATABASE_URL'); process.exit(3)"],
      }),
      'container-images': `web=${v1Image}`,
    }),
    /Essential container in task exited \(web: exit code 3/,
  ],
])(
  'a v2 that %s: the circuit breaker rolls back, the action fails with the stopped reason, the service ends on v1',
  async (_what, inputs, reason) => {
    const before = (await service()).taskDefinition;
    const statuses = gh.deployments.length;
    const run = await runAction('ecs-deploy', {
      cwd: work,
      env: env(),
      inputs: {
        cluster: 'apps',
        service: 'shop',
        environment: 'production',
        'github-token': gh.token,
        ...inputs(),
      },
    });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('rolled-back');
    expect(run.error).toMatch(reason);
    expect(run.error).toMatch(
      /was rolled back \(ECS deployment circuit breaker: tasks failed to start\)/,
    );
    expect(run.error).toContain('The service is back on shop:2.');
    expect(run.outputs.reason).toBe(run.error);
    expect(run.summary).toContain('❌ ECS deploy of shop: rolled back');
    expect(run.summary).toContain('#### Stopped tasks');
    expect((await service()).taskDefinition).toBe(before);
    expect((await httpGet(`http://127.0.0.1:${listenerPort}/`)).body).toBe('v1 from-ecs');
    expect(gh.deployments).toHaveLength(statuses + 1);
    expect(gh.deployments[statuses].statuses.map((s) => s.state)).toEqual([
      'in_progress',
      'failure',
    ]);
  },
);

test.each([
  [
    'an unknown container',
    { 'container-images': 'api=reg.example.com/api:v1' },
    'Input `container-images` names container `api`, which task definition file `task-definition.json` does not have (it has `web`).',
  ],
  [
    'a malformed image',
    { 'container-images': 'web=Reg/Web::v1' },
    'Input `container-images` must be one `container=image` per line',
  ],
  [
    'a missing task definition file',
    { 'task-definition': 'deploy/missing.json' },
    'Input `task-definition`: file `deploy/missing.json` was not found in the workspace',
  ],
  [
    'an unknown container in an environment variable',
    { 'environment-variables': 'worker.X=1' },
    'Input `environment-variables` names container `worker`',
  ],
])('%s is a clear error before anything is registered', async (_what, inputs, message) => {
  const before = await revisionCount();
  const requests = gh.requests.length;
  const run = await runAction('ecs-deploy', {
    cwd: work,
    env: env(),
    inputs: {
      cluster: 'apps',
      service: 'shop',
      'task-definition': taskDefinitionFile('task-definition.json'),
      'container-images': `web=${v1Image}`,
      environment: 'production',
      'github-token': gh.token,
      ...inputs,
    },
  });
  expect(run.code).toBe(1);
  expect(run.error).toContain(`Invalid configuration: ${message}`);
  expect(await revisionCount()).toBe(before);
  expect(gh.requests.length).toBe(requests);
});

test('with half of the ECS calls throttled, the deploy still completes', async () => {
  h.aws.addFault({ kind: 'throttle', service: 'ecs', rate: 0.5 });
  try {
    const run = await runAction('ecs-deploy', {
      cwd: work,
      env: env(),
      inputs: {
        cluster: 'apps',
        service: 'shop',
        'container-images': `web=${v1Image}`,
        'environment-variables': 'web.LOG_LEVEL=debug',
      },
    });
    expect(run.error).toBeUndefined();
    expect(run.outputs.status).toBe('succeeded');
  } finally {
    h.aws.clearFaults();
  }
  expect((await httpGet(`http://127.0.0.1:${listenerPort}/`)).body).toBe('v1 from-ecs');
});

test('SIGTERM while following the rollout: the GitHub Deployment is marked `error` and the action exits cancelled', async () => {
  const count = gh.deployments.length;
  const run = await runAction('ecs-deploy', {
    cwd: work,
    env: env(),
    inputs: {
      cluster: 'apps',
      service: 'shop',
      'container-images': `web=${v1Image}`,
      'environment-variables': 'web.LOG_LEVEL=warn',
      environment: 'production',
      'github-token': gh.token,
    },
    onStart: (child) => {
      child.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('Started the deployment')) child.kill('SIGTERM');
      });
    },
  });
  expect(run.code).toBe(1);
  expect(run.error).toBe('Cancelled: the workflow was cancelled (SIGTERM)');
  expect(gh.deployments).toHaveLength(count + 1);
  expect(gh.deployments[count].statuses.map((s) => s.state)).toEqual(['in_progress', 'error']);
  expect(run.outputs['task-definition-arn']).toMatch(/task-definition\/shop:\d+$/);
});

describe('a service without a load balancer (a worker)', () => {
  test('a worker whose tasks stay up completes, and the sentence states the true counts', async () => {
    await createWorker('worker-up', true);
    const run = await runAction('ecs-deploy', {
      cwd: work,
      env: env(),
      inputs: {
        cluster: 'apps',
        service: 'worker-up',
        'task-definition': workerDefinitionFile('worker-up.json', STAYS_UP),
        'container-images': `work=${v1Image}`,
        'environment-variables': 'work.QUEUE=orders',
      },
    });
    expect(run.error).toBeUndefined();
    expect(run.outputs.status).toBe('succeeded');
    expect(run.outputs.reason).toMatch(/^worker:\d+ is deployed and stable \(2\/2 running\)\.$/);
    expect(await workerRevision('worker-up')).toBe(run.outputs['task-definition-arn']);
  });

  test.each([
    ['exits 1 at once', 'crash-now', ['node', '-e', 'process.exit(1)']],
    [
      'exits 1 300 ms after start',
      'crash-later',
      ['node', '-e', 'setTimeout(() => process.exit(1), 300)'],
    ],
  ])(
    'an image that %s fails the deploy with the exit code in `reason` and the GitHub Deployment marked failure',
    async (_what, name, command) => {
      await createWorker(name, true);
      const before = await workerRevision(name);
      const count = gh.deployments.length;
      const run = await runAction('ecs-deploy', {
        cwd: work,
        env: env(),
        inputs: {
          cluster: 'apps',
          service: name,
          'task-definition': workerDefinitionFile(`${name}.json`, command),
          'container-images': `work=${v1Image}`,
          environment: 'production',
          'github-token': gh.token,
        },
      });
      expect(run.code).toBe(1);
      // The circuit breaker counts the crashes and ECS takes the service back.
      expect(run.outputs.status).toBe('rolled-back');
      expect(await workerRevision(name)).toBe(before);
      expect(run.outputs.reason).toMatch(/The service is back on worker:\d+\./);
      expect(run.outputs.reason).toMatch(
        /Essential container in task exited \(work: exit code 1\)/,
      );
      expect(run.outputs.reason).not.toMatch(/deployed and stable/);
      expect(run.error).toBe(run.outputs.reason);
      expect(gh.deployments).toHaveLength(count + 1);
      expect(gh.deployments[count].statuses.map((s) => s.state)).toEqual([
        'in_progress',
        'failure',
      ]);
    },
  );

  test('a stopped reason with planted runner commands cannot forge an output, a mask or an annotation', async () => {
    await createWorker('puller', false);
    h.aws.addFault({
      kind: 'fail-image-pull',
      image: v1Image,
      message:
        'CannotPullContainerError: denied\n::set-output name=status::succeeded\n::add-mask::hunter2\n::warning ::pwned <img src=x>',
    });
    try {
      const run = await runAction('ecs-deploy', {
        cwd: work,
        env: env(),
        inputs: {
          cluster: 'apps',
          service: 'puller',
          'task-definition': workerDefinitionFile('worker-pull.json', STAYS_UP),
          'container-images': `work=${v1Image}`,
          'environment-variables': 'work.PLANTED=1',
        },
      });
      expect(run.code).toBe(1);
      expect(['failed', 'rolled-back']).toContain(run.outputs.status);
      expect(run.outputs.reason).toContain('CannotPullContainerError: denied');
      expect(run.masked).not.toContain('hunter2');
      const lines = run.stdout.split(/\r?\n/);
      expect(lines.filter((l) => /^\s*::(set-output|add-mask::hunter2|warning)/.test(l))).toEqual(
        [],
      );
      expect(run.summary).not.toContain('<img');
      expect(run.summary.split('\n').filter((l) => /^\s*::/.test(l))).toEqual([]);
    } finally {
      h.aws.clearFaults();
    }
  });
});
