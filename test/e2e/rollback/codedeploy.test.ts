/**
 * rollback on a service with the CODE_DEPLOY deployment controller, with the committed bundle
 * against local-aws: a deployment under way is stopped with automatic rollback and production
 * traffic returns to blue; after one, `to: previous` deploys the previous revision through
 * CodeDeploy; an unknown application fails before anything changes, naming the input.
 */
import { ListDeploymentsCommand, type CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { ListTaskDefinitionsCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAction, type ActionRun } from '../../support/run-action';
import {
  codeDeployClient,
  createCanaryConfig,
  createStack,
  deploy,
  deployment,
  registerWeb,
  service,
  until,
  version,
  weights,
  type Stack,
} from '../local-aws/codedeploy-support';
import { eventually, startHarness, type Harness } from '../local-aws/support';

let h: Harness;
let cd: CodeDeployClient;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'shipkit-cd-rollback-'));
  h = await startHarness({ timeScale: 30 });
  cd = codeDeployClient(h);
  // The canary share stays an AWS hour (2 minutes here): the deployment is still under way when
  // the rollback stops it.
  await createCanaryConfig(cd, 'Canary10Percent60Minutes', 10, 60);
});

afterAll(async () => {
  cd?.destroy();
  await h?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function rollbackStep(s: Stack, inputs: Record<string, string> = {}): Promise<ActionRun> {
  return runAction('rollback', {
    cwd: work,
    env: {
      AWS_ENDPOINT_URL: h.aws.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    inputs: { cluster: s.cluster, service: s.service, timeout: '3m', ...inputs },
  });
}

async function deploymentIds(s: Stack): Promise<string[]> {
  return (
    await cd.send(
      new ListDeploymentsCommand({ applicationName: s.app, deploymentGroupName: s.group }),
    )
  ).deployments!;
}

test('rollback stops an in-flight CodeDeploy deployment and production is back on blue', async () => {
  const s = await createStack(h, cd, 'cdstop', await h.pushApp('cdstop', 'v1'));
  const td2 = await registerWeb(h, 'cdstop', await h.pushApp('cdstop', 'v2'));
  const id = await deploy(cd, s, td2, { deploymentConfigName: 'Canary10Percent60Minutes' });
  await eventually(
    async () => (await weights(h, s.prodListener))[s.greenTg] === 10,
    'the canary share on green',
  );

  const run = await rollbackStep(s, { reason: 'gate failed' });
  expect(run.error).toBeUndefined();
  expect(run.code).toBe(0);
  expect(run.outputs.status).toBe('succeeded');
  expect(run.outputs.method).toBe('stop-deployment');
  expect(run.outputs['from-task-definition-arn']).toBe(td2);
  expect(run.outputs['to-task-definition-arn']).toMatch(/task-definition\/cdstop:1$/);
  const info = await deployment(cd, id);
  expect(info.status).toBe('Stopped');
  const rollbackId = info.rollbackInfo!.rollbackDeploymentId!;
  expect(run.outputs['codedeploy-deployment-id']).toBe(rollbackId);
  expect(run.stdout).toContain(`Stopping CodeDeploy deployment ${id} of cdstop:2`);
  expect(run.outputs.reason).toContain(`Stopped CodeDeploy deployment ${id} of cdstop:2`);
  expect(run.outputs.reason).toContain(`production traffic is back on cdstop:1`);
  expect(run.outputs.reason).toContain(`rollback deployment ${rollbackId}`);
  expect(run.summary).toContain(id);
  expect(run.summary).toContain(rollbackId);
  expect(await weights(h, s.prodListener)).toEqual({ [s.blueTg]: 100, [s.greenTg]: 0 });
  expect(await version(s.prodPort)).toBe('v1');
  const back =
    /Production traffic is back on blue \(cdstop:1\) (\S+) after the rollback started/.exec(
      run.stdout,
    );
  expect(back).not.toBeNull();
  console.log(`CodeDeploy stop: production back on blue ${back![1]} after the call`);
});

test('rollback of a deployment waiting in Ready (test traffic on green) stops it and the test listener is back on blue', async () => {
  const s = await createStack(h, cd, 'cdready', await h.pushApp('cdready', 'v1'), {
    blueGreenDeploymentConfiguration: {
      terminateBlueInstancesOnDeploymentSuccess: {
        action: 'TERMINATE',
        terminationWaitTimeInMinutes: 0,
      },
      deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 600 },
    },
  });
  const td2 = await registerWeb(h, 'cdready', await h.pushApp('cdready', 'v2'));
  const id = await deploy(cd, s, td2);
  await until(cd, id, 'Ready');
  expect(await version(s.testPort)).toBe('v2');

  const run = await rollbackStep(s, { 'wait-until': 'traffic-shifted' });
  expect(run.error).toBeUndefined();
  expect(run.outputs.status).toBe('succeeded');
  expect(run.outputs.method).toBe('stop-deployment');
  expect(run.outputs.reason).toContain(`Stopped CodeDeploy deployment ${id} of cdready:2`);
  expect((await deployment(cd, id)).status).toBe('Stopped');
  expect(await version(s.testPort)).toBe('v1');
  expect(await version(s.prodPort)).toBe('v1');
});

test('rollback to previous on a CodeDeploy service deploys the previous revision through CodeDeploy', async () => {
  const s = await createStack(h, cd, 'cdprev', await h.pushApp('cdprev', 'v1'));
  const td2 = await registerWeb(h, 'cdprev', await h.pushApp('cdprev', 'v2'));
  await until(cd, await deploy(cd, s, td2), 'Succeeded');
  const td3 = await registerWeb(h, 'cdprev', await h.pushApp('cdprev', 'v3'));
  await until(cd, await deploy(cd, s, td3), 'Succeeded');
  expect(await version(s.prodPort)).toBe('v3');

  const run = await rollbackStep(s);
  expect(run.error).toBeUndefined();
  expect(run.outputs.status).toBe('succeeded');
  expect(run.outputs.method).toBe('codedeploy-deployment');
  expect(run.outputs['from-task-definition-arn']).toBe(td3);
  expect(run.outputs['to-task-definition-arn']).toBe(td2);
  const id = run.outputs['codedeploy-deployment-id'];
  expect(id).toMatch(/^d-/);
  expect(run.outputs.reason).toBe(
    `Rolled back cdprev from cdprev:3 to cdprev:2 through CodeDeploy deployment ${id}.`,
  );
  expect((await deployment(cd, id)).status).toBe('Succeeded');
  expect(await version(s.prodPort)).toBe('v2');
  const svc = await service(h, s);
  expect(svc.taskSets).toHaveLength(1);
  expect(svc.taskSets![0].taskDefinition).toBe(td2);

  // Rolling back again does not ping-pong back to cdprev:3.
  const again = await rollbackStep(s);
  expect(again.error).toBeUndefined();
  expect(again.outputs.status).toBe('unchanged');
  expect(again.outputs.reason).toContain('already rolled back from cdprev:3 to cdprev:2');
  expect(await version(s.prodPort)).toBe('v2');
});

test("CodeDeploy's history: a revision whose deployment failed is never `previous`, and `to` an image tag deploys the revision that ran it", async () => {
  const s = await createStack(h, cd, 'cdhist', await h.pushApp('cdhist', 'v1'));
  const td2 = await registerWeb(h, 'cdhist', await h.pushApp('cdhist', 'v2'));
  await until(cd, await deploy(cd, s, td2), 'Succeeded');
  const crash = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'cdhist',
      containerDefinitions: [
        {
          name: 'web',
          image: await h.pushApp('cdhist', 'v3'),
          command: ['node', '-e', 'process.exit(3)'],
          portMappings: [{ containerPort: 8080 }],
        },
      ],
    }),
  );
  const failed = await deploy(cd, s, crash.taskDefinition!.taskDefinitionArn!);
  await until(cd, failed, 'Failed');
  await eventually(
    async () => (await service(h, s)).taskSets?.length === 1,
    'the green task set of the failed deployment to be gone',
  );

  // CodeDeploy already rolled the failed deployment back: rolling back again is a no-op.
  const noop = await rollbackStep(s);
  expect(noop.error).toBeUndefined();
  expect(noop.outputs.status).toBe('unchanged');
  expect(noop.outputs.reason).toContain(
    'CodeDeploy already rolled back the latest deployment (cdhist:3',
  );

  const td4 = await registerWeb(h, 'cdhist', await h.pushApp('cdhist', 'v4'));
  await until(cd, await deploy(cd, s, td4), 'Succeeded');
  const back = await rollbackStep(s);
  expect(back.error).toBeUndefined();
  expect(back.outputs['to-task-definition-arn']).toBe(td2);
  expect(await version(s.prodPort)).toBe('v2');

  const byImage = await rollbackStep(s, { to: 'v1' });
  expect(byImage.error).toBeUndefined();
  expect(byImage.outputs.status).toBe('succeeded');
  expect(byImage.outputs.method).toBe('codedeploy-deployment');
  expect(byImage.outputs['to-task-definition-arn']).toMatch(/task-definition\/cdhist:1$/);
  expect(await version(s.prodPort)).toBe('v1');
});

test('an unknown CodeDeploy application fails before anything changes, naming the input', async () => {
  const s = await createStack(h, cd, 'cdnoapp', await h.pushApp('cdnoapp', 'v1'));
  const before = await deploymentIds(s);
  const revisions = async (): Promise<number> =>
    (await h.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'cdnoapp' })))
      .taskDefinitionArns!.length;
  const count = await revisions();
  const run = await rollbackStep(s, { 'codedeploy-application': 'NoSuchApp', to: 'v0' });
  expect(run.code).not.toBe(0);
  expect(run.error).toContain('Input `codedeploy-application` (`NoSuchApp`)');
  expect(run.error).toContain('does not exist');
  expect(await deploymentIds(s)).toEqual(before);
  expect(await revisions()).toBe(count);
});
