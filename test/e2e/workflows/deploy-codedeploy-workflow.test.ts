import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { CreateRepositoryCommand } from '@aws-sdk/client-ecr';
import { ModifyTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { runWorkflow } from '../../../packages/workflow/src/runner';
import { buildOciImage, ecrCredentials, pushOciImage } from '../../support/oci-image';
import {
  codeDeployClient,
  createStack,
  deployment,
  ecsTarget,
  version,
  weights,
  type Stack,
} from '../local-aws/codedeploy-support';
import { startHarness, type Harness } from '../local-aws/support';

// The example CodeDeploy workflow, run by the local runner with the committed bundles against
// local-aws: green is deployed behind the test listener only, gated there, and production
// traffic moves to it only when that gate passed.
const ROOT = join(__dirname, '..', '..', '..');
let h: Harness;
let cd: CodeDeployClient;
let out: string;

/** The app: `/` answers its version (the load balancer's check); `/health` 200, or 503 when sick. */
const SERVER_JS = `
const http = require('http');
const version = require('fs').readFileSync(__dirname + '/version.txt', 'utf8').trim();
const sick = version.endsWith('-sick');
http.createServer((req, res) => {
  if (req.url === '/health') { res.writeHead(sick ? 503 : 200); res.end(sick ? 'database unreachable' : 'ok'); return; }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(version);
}).listen(Number(process.env.PORT), '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

async function pushImage(repository: string, tag: string): Promise<string> {
  const { username, password } = await ecrCredentials(h.ecr);
  const image = buildOciImage({
    files: { 'app/server.js': SERVER_JS, 'app/version.txt': tag },
    config: { Cmd: ['node', '/app/server.js'], WorkingDir: '/app' },
  });
  const pushed = await pushOciImage(image, {
    registry: h.aws.endpoint,
    repository,
    tag,
    username,
    password,
  });
  return pushed.ref;
}

/**
 * A CODE_DEPLOY service on v1 whose group waits for the go-ahead; its target groups check `/`
 * (is the process up), so only the gate's `/health` tells a sick green from a good one.
 */
async function stack(name: string, waitForGoAhead = true): Promise<Stack> {
  await h.ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
  const s = await createStack(
    h,
    cd,
    name,
    await pushImage(name, 'v1'),
    waitForGoAhead
      ? {
          blueGreenDeploymentConfiguration: {
            terminateBlueInstancesOnDeploymentSuccess: {
              action: 'TERMINATE',
              terminationWaitTimeInMinutes: 0,
            },
            deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 600 },
          },
        }
      : {},
  );
  for (const tg of [s.blueTg, s.greenTg])
    await h.elb.send(new ModifyTargetGroupCommand({ TargetGroupArn: tg, HealthCheckPath: '/' }));
  return s;
}

function run(s: Stack, image: string): ReturnType<typeof runWorkflow> {
  return runWorkflow(join(ROOT, 'workflows-examples', 'deploy-codedeploy.yml'), {
    root: ROOT,
    event: 'workflow_dispatch',
    inputs: { image },
    vars: {
      AWS_REGION: 'us-east-1',
      ECS_CLUSTER: s.cluster,
      ECS_SERVICE: s.service,
      ECS_CONTAINER: 'web',
      URL: `http://127.0.0.1:${s.prodPort}`,
      TEST_URL: `http://127.0.0.1:${s.testPort}`,
      TEST_GATE_OBSERVE: '2s',
      TEST_GATE_TIMEOUT: '20s',
      PRODUCTION_GATE_OBSERVE: '2s',
      PRODUCTION_GATE_TIMEOUT: '20s',
    },
    awsEnv: {
      AWS_ENDPOINT_URL: h.aws.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    outDir: out,
  });
}

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'shipkit-codedeploy-workflow-'));
  h = await startHarness({ timeScale: 30 });
  cd = codeDeployClient(h);
});

afterAll(async () => {
  cd?.destroy();
  await h?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

test('deploy-codedeploy.yml: a good green passes the test-listener gate, gets production traffic and passes the production gate', async () => {
  const s = await stack('cdflow');
  const result = await run(s, await pushImage('cdflow', 'v2'));
  const job = result.jobs[0];
  expect(
    job.steps.map((st) => `${st.name}: ${st.outcome}${st.error ? ` (${st.error})` : ''}`),
  ).toEqual([
    'AWS credentials (OIDC, no stored keys): success',
    'Deploy green (test listener only): success',
    'Health gate on the test listener: success',
    'Move production traffic to green: success',
    'Health gate on production: success',
    'Roll back: skipped',
  ]);
  const [, deploy, , go] = job.steps;
  expect(deploy.outputs.status).toBe('ready');
  expect(go.outputs.status).toBe('succeeded');
  expect(go.outputs['codedeploy-deployment-id']).toBe(deploy.outputs['codedeploy-deployment-id']);
  expect(await version(s.prodPort)).toBe('v2');
  expect(await weights(h, s.prodListener)).toEqual({ [s.blueTg]: 0, [s.greenTg]: 100 });
});

test('deploy-codedeploy.yml: a green whose /health answers 503 fails at the test-listener gate before any production traffic moves', async () => {
  const s = await stack('cdsickflow');
  const result = await run(s, await pushImage('cdsickflow', 'v2-sick'));
  const job = result.jobs[0];
  expect(job.result).toBe('failure');
  const outcome = (name: string): string => job.steps.find((st) => st.name === name)!.outcome;
  expect(outcome('Deploy green (test listener only)')).toBe('success');
  expect(outcome('Health gate on the test listener')).toBe('failure');
  expect(job.steps.find((st) => st.id === 'test-gate')!.outputs.reason).toMatch(/503/);
  expect(outcome('Move production traffic to green')).toBe('skipped');
  expect(outcome('Health gate on production')).toBe('skipped');
  // The rollback step stops the deployment waiting in Ready, with CodeDeploy's rollback.
  expect(outcome('Roll back')).toBe('success');
  const rolledBack = job.steps.find((st) => st.id === 'rollback')!.outputs;
  expect(rolledBack.status).toBe('succeeded');
  expect(rolledBack.method).toBe('stop-deployment');

  const id = job.steps.find((st) => st.id === 'deploy')!.outputs['codedeploy-deployment-id'];
  // No go-ahead was sent: production traffic never left blue.
  const events = (await ecsTarget(cd, s, id)).lifecycleEvents!;
  const allow = events.find((e) => e.lifecycleEventName === 'AllowTraffic')!;
  expect(['Pending', 'Skipped']).toContain(allow.status);
  expect((await deployment(cd, id)).status).not.toBe('Succeeded');
  const prod = await weights(h, s.prodListener);
  expect(prod[s.greenTg] ?? 0).toBe(0);
  expect(prod[s.blueTg]).toBeGreaterThan(0);
  expect(await version(s.prodPort)).toBe('v1');
});

test('deploy.yml, unchanged, deploys a CodeDeploy service: the promoted image goes out through CodeDeploy and passes the gate', async () => {
  // A group that reroutes production traffic as soon as green is ready: deploy.yml sends no go-ahead.
  const s = await stack('cdplain', false);
  await h.ecr.send(new CreateRepositoryCommand({ repositoryName: 'cdplain-staging' }));
  const tested = await pushImage('cdplain-staging', 'v2');
  const dir = join(out, 'caller');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(ROOT, 'workflows-examples', 'deploy.yml'), join(dir, 'deploy.yml'));
  writeFileSync(
    join(dir, 'deploy-caller.yml'),
    [
      'on: workflow_dispatch',
      'permissions: {}',
      'jobs:',
      '  deploy:',
      '    uses: ./.github/workflows/deploy.yml',
      '    permissions: { contents: read, id-token: write }',
      '    with:',
      '      environment: production',
      `      cluster: ${s.cluster}`,
      `      service: ${s.service}`,
      '      container: web',
      `      repository: ${s.service}`,
      `      url: http://127.0.0.1:${s.prodPort}`,
      `      promote-from: ${tested}`,
      '      gate-observe: 2s',
      '      gate-timeout: 20s',
    ].join('\n'),
  );
  const result = await runWorkflow(join(dir, 'deploy-caller.yml'), {
    root: ROOT,
    event: 'workflow_dispatch',
    vars: { AWS_REGION: 'us-east-1' },
    awsEnv: {
      AWS_ENDPOINT_URL: h.aws.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    outDir: join(out, 'caller-run'),
  });
  const job = result.jobs[0].called!.jobs[0];
  expect(
    job.steps
      .filter((st) => ['image', 'deploy', 'gate', 'rollback'].includes(st.id))
      .map((st) => `${st.id}: ${st.outcome}${st.error ? ` (${st.error})` : ''}`),
  ).toEqual(['image: success', 'deploy: success', 'gate: success', 'rollback: skipped']);
  const deploy = job.steps.find((st) => st.id === 'deploy')!;
  expect(deploy.outputs.status).toBe('succeeded');
  expect(deploy.outputs['codedeploy-deployment-id']).toMatch(/^d-[A-Z0-9]{9}$/);
  expect(await version(s.prodPort)).toBe('v2');
});
