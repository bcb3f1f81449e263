import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { runWorkflow } from '../../../packages/workflow/src/runner';
import { eventually, freePort, startHarness, type Harness } from '../local-aws/support';

// The example rollback workflow, run by the local runner with the real bundles against
// local-aws: a service on v2 goes back to v1 and passes the health gate afterwards.
const ROOT = join(__dirname, '..', '..', '..');
let h: Harness;
let out: string;
let port: number;
let v1Arn: string;

async function register(image: string, family = 'app'): Promise<string> {
  const td = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [{ name: family, image, portMappings: [{ containerPort: 8080 }] }],
    }),
  );
  return td.taskDefinition!.taskDefinitionArn!;
}

async function stable(services = ['app']): Promise<void> {
  await waitUntilServicesStable(
    { client: h.ecs, maxWaitTime: 90, minDelay: 1, maxDelay: 1 },
    { cluster: 'app-staging', services },
  );
}

/** Waits until ECS marks the service's one deployment COMPLETED (a revision rollback can return to). */
async function completed(service: string): Promise<void> {
  await eventually(async () => {
    const svc = await h.ecs.send(
      new DescribeServicesCommand({ cluster: 'app-staging', services: [service] }),
    );
    const deployments = svc.services![0].deployments ?? [];
    return deployments.length === 1 && deployments[0].rolloutState === 'COMPLETED';
  }, `${service}'s deployment to complete`);
}

async function runningRevision(service: string): Promise<string> {
  const svc = await h.ecs.send(
    new DescribeServicesCommand({ cluster: 'app-staging', services: [service] }),
  );
  return svc.services![0].taskDefinition!;
}

function rollbackWorkflow(vars: Record<string, string>): ReturnType<typeof runWorkflow> {
  return runWorkflow(join(ROOT, 'workflows-examples', 'rollback.yml'), {
    root: ROOT,
    event: 'workflow_dispatch',
    inputs: { environment: 'staging', reason: 'v2 misbehaves' },
    vars: { ECS_CLUSTER: 'app-staging', URL: `http://127.0.0.1:${port}`, ...vars },
    awsEnv: {
      AWS_ENDPOINT_URL: h.aws.endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    outDir: out,
  });
}

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'shipkit-rollback-workflow-'));
  h = await startHarness({ timeScale: 30 });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'app-staging' }));
  const lb = (
    await h.elb.send(new CreateLoadBalancerCommand({ Name: 'app', Subnets: ['subnet-1'] }))
  ).LoadBalancers![0];
  const tg = (
    await h.elb.send(
      new CreateTargetGroupCommand({
        Name: 'app',
        Protocol: 'HTTP',
        Port: 8080,
        TargetType: 'ip',
        HealthCheckPath: '/health',
        HealthCheckIntervalSeconds: 5,
        HealthyThresholdCount: 2,
      }),
    )
  ).TargetGroups![0].TargetGroupArn!;
  port = await freePort();
  await h.elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: lb.LoadBalancerArn,
      Protocol: 'HTTP',
      Port: port,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: tg }],
    }),
  );
  v1Arn = await register(await h.pushApp('app-staging', 'v1'));
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'app-staging',
      serviceName: 'app',
      taskDefinition: v1Arn,
      desiredCount: 1,
      loadBalancers: [{ targetGroupArn: tg, containerName: 'app', containerPort: 8080 }],
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    }),
  );
  await stable();
  const v2Arn = await register(await h.pushApp('app-staging', 'v2'));
  await h.ecs.send(
    new UpdateServiceCommand({ cluster: 'app-staging', service: 'app', taskDefinition: v2Arn }),
  );
  await stable();
});

afterAll(async () => {
  await h?.close();
  rmSync(out, { recursive: true, force: true });
});

test('rollback.yml takes the environment back to the previous revision and gates it', async () => {
  const run = await rollbackWorkflow({ ECS_SERVICE: 'app' });
  const job = run.jobs[0];
  expect(job.steps.map((s) => `${s.name}: ${s.outcome}${s.error ? ` (${s.error})` : ''}`)).toEqual([
    'AWS credentials (OIDC, no stored keys): success',
    'Roll back: success',
    'Health gate: success',
    'Record the result: success',
  ]);
  expect(job.steps[1].outputs).toMatchObject({
    'to-task-definition-arn': v1Arn,
    method: 'update-service',
  });
  expect(await runningRevision('app')).toBe(v1Arn);
  expect(job.summary).toContain('Rollback of staging');
  expect(job.summary).toMatch(/\| app \| app:2 \| app:1 \| succeeded \|/);
});

test('rollback.yml with ECS_SERVICES takes every service of a release back to its own previous revision', async () => {
  // The API goes to v2 again and a worker (no load balancer) goes from v1 to v2.
  const workerV1 = await register(await h.pushApp('worker-staging', 'v1'), 'worker');
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'app-staging',
      serviceName: 'worker',
      taskDefinition: workerV1,
      desiredCount: 1,
    }),
  );
  await completed('worker');
  const workerV2 = await register(await h.pushApp('worker-staging', 'v2'), 'worker');
  const appV2 = await register(await h.pushApp('app-staging', 'v2'));
  await h.ecs.send(
    new UpdateServiceCommand({
      cluster: 'app-staging',
      service: 'worker',
      taskDefinition: workerV2,
    }),
  );
  await h.ecs.send(
    new UpdateServiceCommand({ cluster: 'app-staging', service: 'app', taskDefinition: appV2 }),
  );
  await Promise.all([completed('app'), completed('worker')]);

  const run = await rollbackWorkflow({ ECS_SERVICES: 'app\nworker\n' });
  const job = run.jobs[0];
  expect(job.steps.map((s) => `${s.name}: ${s.outcome}${s.error ? ` (${s.error})` : ''}`)).toEqual([
    'AWS credentials (OIDC, no stored keys): success',
    'Roll back: success',
    'Health gate: success',
    'Record the result: success',
  ]);
  expect(await runningRevision('app')).toBe(v1Arn);
  expect(await runningRevision('worker')).toBe(workerV1);
  const services = JSON.parse(job.steps[1].outputs.services) as Record<string, { status: string }>;
  expect(Object.keys(services)).toEqual(['app', 'worker']);
  expect(job.summary).toMatch(/\| app \| app:3 \| app:1 \| succeeded \|/);
  expect(job.summary).toMatch(/\| worker \| worker:2 \| worker:1 \| succeeded \|/);
});
