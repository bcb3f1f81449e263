import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  waitUntilServicesStable,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import { CreateLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { stringify } from 'yaml';
import {
  runWorkflow,
  type JobResult,
  type WorkflowRun,
} from '../../../packages/workflow/src/runner';
import {
  ensureBuildah,
  privateStorageEnv,
  removePrivateStorage,
} from '../build-and-push/sample-image';
import {
  createForwardListener,
  createTargetGroup,
  startHarness,
  type Harness,
} from '../local-aws/support';

// The example reusable deploy workflow, called the way deploy-staging.yml calls it, run by the
// local runner with the committed bundles against local-aws: one service with a migration
// (register → migrate → deploy, one registration), and an API + worker released together.
const ROOT = join(__dirname, '..', '..', '..');
const SAMPLE = join(ROOT, 'test', 'fixtures', 'sample-image');
/** A worker: no port, stays up until SIGTERM. */
const WORKER_CMD = `CMD ["node", "-e", "setInterval(() => {}, 1000); process.on('SIGTERM', () => process.exit(0))"]`;

let h: Harness;
let dir: string;
let runs = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shipkit-deploy-workflow-'));
  h = await startHarness({ timeScale: 30 });
});

afterAll(async () => {
  await h?.close();
  if (dir) removePrivateStorage(dir);
});

/** Writes a caller of deploy.yml with these inputs beside a copy of it; returns its path. */
function caller(inputs: Record<string, string>): string {
  const wf = join(dir, `workflows-${++runs}`);
  mkdirSync(wf, { recursive: true });
  copyFileSync(join(ROOT, 'workflows-examples', 'deploy.yml'), join(wf, 'deploy.yml'));
  writeFileSync(
    join(wf, 'caller.yml'),
    stringify({
      name: 'caller',
      on: { push: { branches: ['main'] } },
      permissions: {},
      jobs: {
        deploy: {
          uses: './.github/workflows/deploy.yml',
          permissions: { contents: 'read', 'id-token': 'write' },
          with: inputs,
        },
      },
    }),
  );
  return join(wf, 'caller.yml');
}

async function run(
  inputs: Record<string, string>,
  opts: { workspace?: string; env?: Record<string, string> } = {},
): Promise<JobResult> {
  const result: WorkflowRun = await runWorkflow(caller(inputs), {
    root: ROOT,
    workspace: opts.workspace,
    event: 'push',
    vars: { AWS_REGION: 'us-east-1', AWS_ROLE_ARN: 'arn:aws:iam::000000000000:role/deploy' },
    awsEnv: {
      AWS_ENDPOINT_URL: h.aws.endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    env: opts.env,
    outDir: join(dir, `run-${runs}`),
  });
  const job = result.jobs[0];
  if (job.error) throw new Error(job.error);
  return job.called!.jobs[0];
}

/** Step name: outcome (and the error of a failed step), in order, skipped steps left out. */
function outcomes(job: JobResult): string[] {
  return job.steps
    .filter((s) => s.stage === 'main' && s.outcome !== 'skipped' && !s.name.startsWith('actions/'))
    .map((s) => `${s.name}: ${s.outcome}`);
}

function step(job: JobResult, id: string): JobResult['steps'][number] {
  return job.steps.find((s) => s.id === id && s.stage === 'main')!;
}

async function revisions(family: string): Promise<string[]> {
  const out = await h.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family }));
  return out.taskDefinitionArns!.filter((a) => a.includes(`/${family}:`));
}

async function running(cluster: string, service: string): Promise<string> {
  const out = await h.ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  return out.services![0].taskDefinition!;
}

async function stable(cluster: string, services: string[]): Promise<void> {
  await waitUntilServicesStable(
    { client: h.ecs, maxWaitTime: 120, minDelay: 1, maxDelay: 1 },
    { cluster, services },
  );
}

/** Creates service `name` (1 task, circuit breaker with rollback), behind a load balancer on a free port when asked; returns its revision and base URL. */
async function service(
  cluster: string,
  name: string,
  definition: RegisterTaskDefinitionCommandInput,
  behindLoadBalancer: boolean,
  healthCheckPath = '/health',
): Promise<{ url?: string; arn: string }> {
  const td = await h.ecs.send(new RegisterTaskDefinitionCommand(definition));
  const arn = td.taskDefinition!.taskDefinitionArn!;
  let url: string | undefined;
  let loadBalancers: { targetGroupArn: string; containerName: string; containerPort: number }[] =
    [];
  if (behindLoadBalancer) {
    const tg = await createTargetGroup(h, `${cluster}-${name}`, {
      HealthCheckPath: healthCheckPath,
    });
    const lb = await h.elb.send(
      new CreateLoadBalancerCommand({ Name: `${cluster}-${name}`, Subnets: ['subnet-1'] }),
    );
    const port = await createForwardListener(h, lb.LoadBalancers![0].LoadBalancerArn, tg);
    url = `http://127.0.0.1:${port}`;
    loadBalancers = [{ targetGroupArn: tg, containerName: name, containerPort: 8080 }];
  }
  await h.ecs.send(
    new CreateServiceCommand({
      cluster,
      serviceName: name,
      taskDefinition: arn,
      desiredCount: 1,
      loadBalancers,
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    }),
  );
  await stable(cluster, [name]);
  return { url, arn };
}

/** Tasks of the cluster that no service runs (a migration left behind), still running. */
async function leftRunningTasks(cluster: string): Promise<string[]> {
  const running = await h.ecs.send(new ListTasksCommand({ cluster, desiredStatus: 'RUNNING' }));
  if (!running.taskArns?.length) return [];
  const tasks = await h.ecs.send(new DescribeTasksCommand({ cluster, tasks: running.taskArns }));
  return tasks.tasks!.filter((t) => !t.group?.startsWith('service:')).map((t) => t.taskArn!);
}

test('one service with a migration: the revision is registered once, migrated with, then deployed as it is', async () => {
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'one' }));
  const v1 = await h.pushApp('app', 'v1');
  const v2 = await h.pushApp('app', 'v2');
  const { url, arn: v1Arn } = await service(
    'one',
    'app',
    {
      family: 'app',
      containerDefinitions: [{ name: 'app', image: v1, portMappings: [{ containerPort: 8080 }] }],
    },
    true,
  );
  const job = await run({
    environment: 'staging',
    cluster: 'one',
    service: 'app',
    container: 'app',
    repository: 'app',
    'promote-from': v2,
    url: url!,
    'migrate-command': `node -e "console.log('migrated to v2')"`,
    'gate-observe': '0s',
    'gate-timeout': '60s',
  });
  expect(outcomes(job)).toEqual([
    'AWS credentials (OIDC, no stored keys): success',
    'Plan the release: success',
    'Build once, or promote the tested image by digest: success',
    'Register the new revision: success',
    'Prepare the migration task: success',
    'Migrate the database: success',
    'Deploy to ECS: success',
    'Health gate: success',
  ]);
  const registered = step(job, 'register').outputs['task-definition-arn'];
  expect(step(job, 'register').outputs.status).toBe('registered');
  expect(readFileSync(step(job, 'migrate').log, 'utf8')).toContain('migrated to v2');
  // The migration ran the registered revision; the deploy registered nothing more.
  const migrated = step(job, 'migrate').outputs['task-arns'];
  const task = await h.ecs.send(new DescribeTasksCommand({ cluster: 'one', tasks: [migrated] }));
  expect(task.tasks![0].taskDefinitionArn).toBe(registered);
  expect(step(job, 'deploy').outputs).toMatchObject({
    status: 'succeeded',
    'task-definition-arn': registered,
    'previous-task-definition-arn': v1Arn,
  });
  expect(await revisions('app')).toEqual([v1Arn, registered]);
  expect(await running('one', 'app')).toBe(registered);
  expect(await leftRunningTasks('one')).toEqual([]);
});

describe('an API and a worker released together', () => {
  let repo: string;
  let storage: Record<string, string>;
  let apiUrl: string;
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] })
      .toString()
      .trim();

  /**
   * The API and the worker contexts at `version`; `crash`: the worker's image exits 1 at start;
   * `unhealthy`: the API's `/health` answers 503 (its load balancer checks `/`, so the rollout
   * completes and only the gate sees it); `apiVersion`: the API's own version.
   */
  function writeContexts(
    worker: 'up' | 'crash',
    version: string,
    api = 'healthy',
    apiVersion = version,
  ): void {
    for (const name of ['api', 'worker']) {
      mkdirSync(join(repo, name), { recursive: true });
      copyFileSync(join(SAMPLE, 'server.js'), join(repo, name, 'server.js'));
    }
    writeFileSync(
      join(repo, 'api', 'Dockerfile'),
      readFileSync(join(SAMPLE, 'Dockerfile'), 'utf8')
        .replace('ARG APP_VERSION=dev', `ARG APP_VERSION=${apiVersion}`)
        .replace('ARG HEALTHY=true', `ARG HEALTHY=${api === 'healthy'}`),
    );
    writeFileSync(
      join(repo, 'worker', 'Dockerfile'),
      `# ${version}\nFROM scratch\nWORKDIR /app\nCOPY server.js /app/server.js\n${
        worker === 'crash' ? 'CMD ["node", "-e", "process.exit(1)"]' : WORKER_CMD
      }\n`,
    );
    git('add', '-A');
    git('commit', '-q', '--allow-empty', '-m', `${version} (worker ${worker})`);
  }

  const release = (extra: Record<string, string> = {}): Promise<JobResult> =>
    run(
      {
        ...extra,
        environment: 'staging',
        cluster: 'shop',
        service: 'api\nworker\n',
        images: 'api@shop/api=api\nworker@shop/worker=worker\n',
        'health-checks': `- url: ${apiUrl}/health\n  expect-json: status=healthy\n`,
        'gate-observe': '0s',
        'gate-timeout': '60s',
      },
      { workspace: repo, env: storage },
    );

  beforeAll(async () => {
    ensureBuildah();
    storage = privateStorageEnv(dir);
    repo = join(dir, 'checkout');
    mkdirSync(repo);
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 'dev@example.com');
    git('config', 'user.name', 'dev');
    await h.ecs.send(new CreateClusterCommand({ clusterName: 'shop' }));
    const placeholder = await h.pushApp('shop/api', 'v0');
    await h.pushApp('shop/worker', 'v0');
    const worker = placeholder.replace('shop/api:v0', 'shop/worker:v0');
    ({ url: apiUrl } = (await service(
      'shop',
      'api',
      {
        family: 'api',
        containerDefinitions: [
          { name: 'api', image: placeholder, portMappings: [{ containerPort: 8080 }] },
        ],
      },
      true,
      '/',
    )) as { url: string });
    await service(
      'shop',
      'worker',
      {
        family: 'worker',
        containerDefinitions: [
          {
            name: 'worker',
            image: worker,
            // No command: the image's own runs (PORT 0: the placeholder serves on any port).
            environment: [{ name: 'PORT', value: '0' }],
          },
        ],
      },
      false,
    );
  });

  test('the release builds both images, deploys both services and gates the API (the worker has no URL)', async () => {
    writeContexts('up', 'v1');
    const job = await release();
    expect(outcomes(job)).toEqual([
      'AWS credentials (OIDC, no stored keys): success',
      'Plan the release: success',
      'Build once, or promote the tested image by digest: success',
      'Deploy to ECS: success',
      'Health gate: success',
    ]);
    const services = JSON.parse(step(job, 'deploy').outputs.services) as Record<
      string,
      { status: string; 'task-definition-arn': string }
    >;
    expect(Object.keys(services)).toEqual(['api', 'worker']);
    for (const name of ['api', 'worker']) {
      expect(services[name].status).toBe('succeeded');
      expect(await running('shop', name)).toBe(services[name]['task-definition-arn']);
    }
  });

  test('a crashing worker fails the release; the API and the worker are both back on their previous revisions', async () => {
    const before = { api: await running('shop', 'api'), worker: await running('shop', 'worker') };
    writeContexts('crash', 'v2');
    const job = await release();
    expect(job.result).toBe('failure');
    const deploy = step(job, 'deploy');
    expect(deploy.outcome).toBe('failure');
    expect(deploy.outputs.status).toBe('rolled-back');
    expect(deploy.outputs.reason).toMatch(/worker/);
    const services = JSON.parse(deploy.outputs.services) as Record<string, { status: string }>;
    expect(services.api.status).toBe('rolled-back');
    expect(services.worker.status).toBe('rolled-back');
    // ecs-deploy rolled both back itself: no service is left to roll back after it.
    expect(step(job, 'rollback-release').outcome).toBe('skipped');
    expect(step(job, 'gate').outcome).toBe('skipped');
    expect(await running('shop', 'api')).toBe(before.api);
    expect(await running('shop', 'worker')).toBe(before.worker);
  });

  test('an API that fails the gate: the release is rolled back, the API and the worker both to their previous revisions', async () => {
    const before = { api: await running('shop', 'api'), worker: await running('shop', 'worker') };
    writeContexts('up', 'v3', 'unhealthy');
    const job = await release();
    expect(job.result).toBe('failure');
    expect(outcomes(job)).toEqual([
      'AWS credentials (OIDC, no stored keys): success',
      'Plan the release: success',
      'Build once, or promote the tested image by digest: success',
      'Deploy to ECS: success',
      'Health gate: failure',
      'Find what the release changed: success',
      'Roll back the release: success',
    ]);
    const deployed = JSON.parse(step(job, 'deploy').outputs.services) as Record<
      string,
      { status: string; 'previous-task-definition-arn': string }
    >;
    expect(deployed.api).toMatchObject({
      status: 'succeeded',
      'previous-task-definition-arn': before.api,
    });
    expect(deployed.worker).toMatchObject({
      status: 'succeeded',
      'previous-task-definition-arn': before.worker,
    });
    expect(step(job, 'rollback-release').outputs.status).toBe('succeeded');
    expect(await running('shop', 'api')).toBe(before.api);
    expect(await running('shop', 'worker')).toBe(before.worker);
  });

  test('a release where only the worker changed promotes the API image without a rebuild and leaves its revision untouched', async () => {
    const before = { api: await running('shop', 'api'), worker: await running('shop', 'worker') };
    // The API's build inputs are those of v1 again, the revision it runs.
    writeContexts('up', 'v4', 'healthy', 'v1');
    const job = await release();
    expect(job.result).toBe('success');
    expect(readFileSync(step(job, 'image').log, 'utf8')).toMatch(
      /Unchanged \(built from \w+\) \S+shop\/api@/,
    );
    const deployed = JSON.parse(step(job, 'deploy').outputs.services) as Record<
      string,
      { status: string; 'task-definition-arn': string }
    >;
    expect(deployed.api.status).toBe('unchanged');
    expect(deployed.worker.status).toBe('succeeded');
    expect(await running('shop', 'api')).toBe(before.api);
    expect(await running('shop', 'worker')).toBe(deployed.worker['task-definition-arn']);
    expect(deployed.worker['task-definition-arn']).not.toBe(before.worker);
  });

  test('a release with a migration registers each service once, migrates in the API revision, and deploys both as registered', async () => {
    const before = {
      api: (await revisions('api')).length,
      worker: (await revisions('worker')).length,
    };
    writeContexts('up', 'v5');
    const job = await release({
      'migrate-command': `node -e "console.log('migrated for v5')"`,
      'migrate-service': 'api',
    });
    expect(outcomes(job)).toEqual([
      'AWS credentials (OIDC, no stored keys): success',
      'Plan the release: success',
      'Build once, or promote the tested image by digest: success',
      'Register the new revision: success',
      'Prepare the migration task: success',
      'Migrate the database: success',
      'Deploy to ECS: success',
      'Health gate: success',
    ]);
    const registered = JSON.parse(step(job, 'register').outputs.services) as Record<
      string,
      { status: string; 'task-definition-arn': string }
    >;
    expect(registered.api.status).toBe('registered');
    expect(registered.worker.status).toBe('registered');
    expect(readFileSync(step(job, 'migrate').log, 'utf8')).toContain('migrated for v5');
    const task = await h.ecs.send(
      new DescribeTasksCommand({
        cluster: 'shop',
        tasks: [step(job, 'migrate').outputs['task-arns']],
      }),
    );
    expect(task.tasks![0].taskDefinitionArn).toBe(registered.api['task-definition-arn']);
    const deployed = JSON.parse(step(job, 'deploy').outputs.services) as Record<
      string,
      { status: string; 'task-definition-arn': string }
    >;
    for (const name of ['api', 'worker'] as const) {
      expect(deployed[name]).toMatchObject({
        status: 'succeeded',
        'task-definition-arn': registered[name]['task-definition-arn'],
      });
      expect(await running('shop', name)).toBe(registered[name]['task-definition-arn']);
      // One new revision per service: the deploy registered nothing more.
      expect((await revisions(name)).length).toBe(before[name] + 1);
    }
    expect(await leftRunningTasks('shop')).toEqual([]);
  });

  test('a release promoted by promote-from lines deploys both tested images by digest, building nothing', async () => {
    // What staging tested: one image per service in staging's own repositories.
    await h.pushApp('shop/api-staging', 'api-tested');
    await h.pushApp('shop/worker-staging', 'worker-tested');
    const digestOf = async (repositoryName: string, imageTag: string): Promise<string> =>
      (await h.ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag }] })))
        .imageDetails![0].imageDigest!;
    const tested = {
      api: await digestOf('shop/api-staging', 'api-tested'),
      worker: await digestOf('shop/worker-staging', 'worker-tested'),
    };
    const job = await run(
      {
        environment: 'production',
        cluster: 'shop',
        service: 'api\nworker\n',
        'promote-from':
          'api@shop/api=shop/api-staging:api-tested\nworker@shop/worker=shop/worker-staging:worker-tested\n',
        'health-checks': `- url: ${apiUrl}/health\n`,
        'gate-observe': '0s',
        'gate-timeout': '60s',
      },
      { workspace: repo, env: storage },
    );
    expect(outcomes(job)).toEqual([
      'AWS credentials (OIDC, no stored keys): success',
      'Plan the release: success',
      'Build once, or promote the tested image by digest: success',
      'Deploy to ECS: success',
      'Health gate: success',
    ]);
    const log = readFileSync(step(job, 'image').log, 'utf8');
    expect(log).not.toMatch(/^STEP /m);
    const host = h.aws.registryHost;
    expect(step(job, 'image').outputs['container-images']).toBe(
      `api=${host}/shop/api@${tested.api}\nworker=${host}/shop/worker@${tested.worker}`,
    );
    const deployed = JSON.parse(step(job, 'deploy').outputs.services) as Record<
      string,
      { status: string; 'task-definition-arn': string }
    >;
    for (const name of ['api', 'worker'] as const) {
      expect(deployed[name].status).toBe('succeeded');
      expect(await running('shop', name)).toBe(deployed[name]['task-definition-arn']);
      const td = await h.ecs.send(
        new DescribeTaskDefinitionCommand({
          taskDefinition: deployed[name]['task-definition-arn'],
        }),
      );
      expect(td.taskDefinition!.containerDefinitions![0].image).toBe(
        `${host}/shop/${name}@${tested[name]}`,
      );
    }
  });
});
