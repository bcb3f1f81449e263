/**
 * ecs-deploy on a service with the CODE_DEPLOY deployment controller, with the committed bundle
 * against local-aws: the deployment goes through CodeDeploy, is followed to its end (or to
 * `Ready` with `wait-until: test-traffic`), and a green that cannot start is explained.
 */
import { type CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { ListTaskDefinitionsCommand } from '@aws-sdk/client-ecs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAction, type ActionRun } from '../../support/run-action';
import { startFakeGitHub, type FakeGitHub } from '../../support/fake-github';
import {
  codeDeployClient,
  createCanaryConfig,
  createStack,
  deployment,
  service,
  version,
  weights,
  type Stack,
} from '../local-aws/codedeploy-support';
import { startHarness, type Harness } from '../local-aws/support';

let h: Harness;
let cd: CodeDeployClient;
let work: string;
let gh: FakeGitHub;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'shipkit-codedeploy-'));
  gh = await startFakeGitHub();
  h = await startHarness({ timeScale: 30 });
  cd = codeDeployClient(h);
  // The canary share stays 3 AWS minutes (6 s at this time scale): longer than a look's interval.
  await createCanaryConfig(cd, 'Canary10Percent3Minutes', 10, 3);
});

afterAll(async () => {
  cd?.destroy();
  await h?.close();
  await gh?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function deployStep(s: Stack, inputs: Record<string, string>): Promise<ActionRun> {
  return runAction('ecs-deploy', {
    cwd: work,
    env: {
      AWS_ENDPOINT_URL: h.aws.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      ...gh.env(),
    },
    inputs: { cluster: s.cluster, service: s.service, timeout: '3m', ...inputs },
  });
}

async function revisions(family: string): Promise<number> {
  const out = await h.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family }));
  return out.taskDefinitionArns!.length;
}

test('an all-at-once CodeDeploy deployment succeeds: production serves green, blue is gone, events and traffic are logged', async () => {
  const s = await createStack(h, cd, 'cdok', await h.pushApp('cdok', 'v1'));
  const run = await deployStep(s, { 'container-images': `web=${await h.pushApp('cdok', 'v2')}` });
  expect(run.error).toBeUndefined();
  expect(run.code).toBe(0);
  expect(run.outputs.status).toBe('succeeded');
  const id = run.outputs['codedeploy-deployment-id'];
  expect(id).toMatch(/^d-/);
  expect(run.outputs['task-definition-arn']).toMatch(/task-definition\/cdok:2$/);
  expect(run.outputs.reason).toContain(`CodeDeploy deployment ${id} of cdok:2 succeeded`);
  expect(run.stdout).toMatch(/lifecycle event Install: Succeeded \(\d/);
  expect(run.stdout).toMatch(/lifecycle event AllowTraffic: Succeeded/);
  expect(run.stdout).toContain('traffic: 100% → green');
  expect(run.stdout).toContain(`codedeploy/deployments/${id}?region=us-east-1`);
  expect(run.summary).toContain('CodeDeploy lifecycle events');
  expect((await deployment(cd, id)).status).toBe('Succeeded');
  expect(await version(s.prodPort)).toBe('v2');
  const svc = await service(h, s);
  expect(svc.taskSets).toHaveLength(1);
  expect(svc.taskSets![0]).toMatchObject({
    status: 'PRIMARY',
    taskDefinition: run.outputs['task-definition-arn'],
  });
});

test('a canary deployment (codedeploy-config) shows the traffic split as it shifts and ends with production on green and blue gone', async () => {
  const s = await createStack(h, cd, 'cdcanary', await h.pushApp('cdcanary', 'v1'));
  const run = await deployStep(s, {
    'container-images': `web=${await h.pushApp('cdcanary', 'v2')}`,
    'codedeploy-config': 'Canary10Percent3Minutes',
  });
  expect(run.error).toBeUndefined();
  expect(run.outputs.status).toBe('succeeded');
  expect(run.stdout).toContain('configuration Canary10Percent3Minutes');
  const shares = [...run.stdout.matchAll(/traffic: (\d+)% → green/g)].map((m) => Number(m[1]));
  expect(shares).toEqual([10, 100]);
  expect((await deployment(cd, run.outputs['codedeploy-deployment-id'])).deploymentConfigName).toBe(
    'Canary10Percent3Minutes',
  );
  expect(await version(s.prodPort)).toBe('v2');
  expect((await service(h, s)).taskSets).toHaveLength(1);
});

test('a green whose container exits at start fails with the exit code and CodeDeploy rolls back', async () => {
  const s = await createStack(h, cd, 'cdcrash', await h.pushApp('cdcrash', 'v1'));
  writeFileSync(
    join(work, 'crash.json'),
    JSON.stringify({
      family: 'cdcrash',
      containerDefinitions: [
        {
          name: 'web',
          image: 'placeholder',
          command: ['node', '-e', 'process.exit(3)'],
          portMappings: [{ containerPort: 8080 }],
        },
      ],
    }),
  );
  const run = await deployStep(s, {
    'task-definition': 'crash.json',
    'container-images': `web=${await h.pushApp('cdcrash', 'v2')}`,
  });
  expect(run.code).not.toBe(0);
  expect(run.outputs.status).toBe('rolled-back');
  expect(run.outputs.reason).toContain('CodeDeploy rolled it back');
  expect(run.outputs.reason).toContain('ECS_UPDATE_ERROR');
  expect(run.outputs.reason).toContain('exit code 3');
  expect(run.outputs.reason).toContain('Lifecycle event Install failed');
  expect(run.outputs.reason).toMatch(/Production traffic is back on cdcrash:1/);
  expect((await deployment(cd, run.outputs['codedeploy-deployment-id'])).status).toBe('Failed');
  expect(await weights(h, s.prodListener)).toEqual({ [s.blueTg]: 100, [s.greenTg]: 0 });
  expect(await version(s.prodPort)).toBe('v1');
});

test('wait-until test-traffic returns in Ready with the test listener on green and production on blue; continue-deployment then moves production to green and finishes the same GitHub Deployment', async () => {
  const s = await createStack(h, cd, 'cdready', await h.pushApp('cdready', 'v1'), {
    blueGreenDeploymentConfiguration: {
      terminateBlueInstancesOnDeploymentSuccess: {
        action: 'TERMINATE',
        terminationWaitTimeInMinutes: 0,
      },
      deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 600 },
    },
  });
  const run = await deployStep(s, {
    'container-images': `web=${await h.pushApp('cdready', 'v2')}`,
    'wait-until': 'test-traffic',
    environment: 'cdready',
    'github-token': gh.token,
  });
  expect(run.error).toBeUndefined();
  expect(run.code).toBe(0);
  expect(run.outputs.status).toBe('ready');
  const recorded = gh.deployments.filter((d) => d.environment === 'cdready');
  expect(recorded).toHaveLength(1);
  expect(run.outputs['github-deployment-id']).toBe(String(recorded[0].id));
  expect(recorded[0].statuses.map((st) => st.state)).toEqual(['in_progress']);
  expect((await deployment(cd, run.outputs['codedeploy-deployment-id'])).description).toMatch(
    new RegExp(`; github-deployment ${recorded[0].id}$`),
  );
  expect(run.outputs.reason).toContain('waiting for a go-ahead');
  expect((await deployment(cd, run.outputs['codedeploy-deployment-id'])).status).toBe('Ready');
  expect(await version(s.testPort)).toBe('v2');
  expect(await version(s.prodPort)).toBe('v1');

  const go = await deployStep(s, {
    'continue-deployment': run.outputs['codedeploy-deployment-id'],
    environment: 'cdready',
    'github-token': gh.token,
  });
  expect(go.error).toBeUndefined();
  expect(go.outputs.status).toBe('succeeded');
  // No second GitHub Deployment: the first one is finished.
  expect(gh.deployments.filter((d) => d.environment === 'cdready')).toHaveLength(1);
  expect(go.outputs['github-deployment-id']).toBe(String(recorded[0].id));
  expect(go.stdout).toContain(`Finishing GitHub deployment ${recorded[0].id}`);
  expect(recorded[0].statuses.map((st) => st.state)).toEqual([
    'in_progress',
    'in_progress',
    'success',
  ]);
  expect(go.outputs['task-definition-arn']).toBe(run.outputs['task-definition-arn']);
  expect(go.stdout).toContain('Sent the go-ahead to CodeDeploy deployment');
  expect(go.stdout).toContain('traffic: 100% → green');
  expect(await version(s.prodPort)).toBe('v2');
});

test('wait-until test-traffic with a green whose /health fails: the action fails and production traffic never leaves blue', async () => {
  const s = await createStack(h, cd, 'cdsick', await h.pushApp('cdsick', 'v1'), {
    blueGreenDeploymentConfiguration: {
      terminateBlueInstancesOnDeploymentSuccess: {
        action: 'TERMINATE',
        terminationWaitTimeInMinutes: 0,
      },
      deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 600 },
    },
  });
  const run = await deployStep(s, {
    'container-images': `web=${await h.pushApp('cdsick', 'v2', { broken: true })}`,
    'wait-until': 'test-traffic',
  });
  expect(run.code).not.toBe(0);
  expect(run.outputs.status).toBe('rolled-back');
  expect(run.outputs.reason).toContain('Lifecycle event AllowTestTraffic failed');
  expect(run.outputs.reason).toContain('failed ELB health checks');
  expect(run.stdout).not.toContain('→ green');
  expect(await weights(h, s.prodListener)).toEqual({ [s.blueTg]: 100, [s.greenTg]: 0 });
  expect(await version(s.prodPort)).toBe('v1');
});

test('wait-until test-traffic with a group that reroutes at once fails before anything is registered', async () => {
  const s = await createStack(h, cd, 'cdnowait', await h.pushApp('cdnowait', 'v1'));
  const run = await deployStep(s, {
    'container-images': `web=${await h.pushApp('cdnowait', 'v2')}`,
    'wait-until': 'test-traffic',
  });
  expect(run.code).not.toBe(0);
  expect(run.error).toMatch(
    /Input `wait-until` is `test-traffic`, but deployment group `DgpECS-cd-cdnowait` reroutes production traffic as soon as green is ready/,
  );
  expect(await revisions('cdnowait')).toBe(1);
});

test('an unknown deployment group fails before anything is registered, naming the input', async () => {
  const s = await createStack(h, cd, 'cdnogroup', await h.pushApp('cdnogroup', 'v1'));
  const run = await deployStep(s, {
    'container-images': `web=${await h.pushApp('cdnogroup', 'v2')}`,
    'codedeploy-deployment-group': 'nope',
  });
  expect(run.code).not.toBe(0);
  expect(run.error).toMatch(/Input `codedeploy-deployment-group` \(`nope`/);
  expect(await revisions('cdnogroup')).toBe(1);
});

test('continue-deployment with a deployment of another service fails naming the input', async () => {
  const s = await createStack(h, cd, 'cdother', await h.pushApp('cdother', 'v1'));
  const ok = await deployStep(s, { 'container-images': `web=${await h.pushApp('cdother', 'v2')}` });
  expect(ok.outputs.status).toBe('succeeded');
  const other = await createStack(h, cd, 'cdother2', await h.pushApp('cdother2', 'v1'));
  const run = await deployStep(other, {
    'continue-deployment': ok.outputs['codedeploy-deployment-id'],
  });
  expect(run.code).not.toBe(0);
  expect(run.error).toMatch(
    /Input `continue-deployment`: CodeDeploy deployment `d-\w+` does not deploy service `cdother2`/,
  );
});

test('a YAML codedeploy-appspec: a dry run shows the AppSpec it would send (the file’s hooks kept, the container filled in) and registers nothing', async () => {
  const s = await createStack(h, cd, 'cdyaml', await h.pushApp('cdyaml', 'v1'));
  writeFileSync(
    join(work, 'appspec.yaml'),
    [
      '# hooks run by CodeDeploy',
      'version: 0.0',
      'Resources:',
      '  - TargetService:',
      '      Type: AWS::ECS::Service',
      '      Properties:',
      '        TaskDefinition: <TASK_DEFINITION>',
      '        PlatformVersion: LATEST',
      'Hooks:',
      '  - AfterAllowTestTraffic: smoke-tests',
    ].join('\n'),
  );
  const run = await deployStep(s, {
    'container-images': `web=${await h.pushApp('cdyaml', 'v2')}`,
    'codedeploy-appspec': 'appspec.yaml',
    'dry-run': 'true',
  });
  expect(run.error).toBeUndefined();
  expect(run.outputs.status).toBe('dry-run');
  expect(run.stdout).toContain('"AfterAllowTestTraffic": "smoke-tests"');
  expect(run.stdout).toContain('"ContainerName": "web"');
  expect(run.stdout).toContain('"PlatformVersion": "LATEST"');
  expect(run.summary).toContain('AppSpec it would send');
  expect(await revisions('cdyaml')).toBe(1);
});

test('a codedeploy-appspec that is not valid YAML fails naming the input, the file, the line and the column', async () => {
  writeFileSync(join(work, 'broken.yaml'), 'version: 0.0\nHooks:\n\t- AfterInstall: x\n');
  const run = await runAction('ecs-deploy', {
    cwd: work,
    env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    inputs: {
      service: 'web',
      'container-images': 'web=registry.example/web:v2',
      'codedeploy-appspec': 'broken.yaml',
    },
  });
  expect(run.code).not.toBe(0);
  // Before any AWS call (the endpoint given answers nothing).
  expect(run.error).toBe(
    'Invalid configuration: Input `codedeploy-appspec`: file `broken.yaml`: it is not valid YAML or JSON (line 3, column 1: TAB_AS_INDENT).',
  );
});

test('wait-until stable on a group that waits for a go-ahead warns that this step sends none, and times out in Ready', async () => {
  const s = await createStack(h, cd, 'cdwaits', await h.pushApp('cdwaits', 'v1'), {
    blueGreenDeploymentConfiguration: {
      terminateBlueInstancesOnDeploymentSuccess: {
        action: 'TERMINATE',
        terminationWaitTimeInMinutes: 0,
      },
      deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 600 },
    },
  });
  const run = await deployStep(s, {
    'container-images': `web=${await h.pushApp('cdwaits', 'v2')}`,
    timeout: '8s',
  });
  expect(run.outputs.status).toBe('timed-out');
  expect(run.stdout).toMatch(
    /CodeDeploy deployment d-\w+ waits in Ready for a go-ahead .* and this step sends none/,
  );
  expect((await deployment(cd, run.outputs['codedeploy-deployment-id'])).status).toBe('Ready');
  expect(await version(s.prodPort)).toBe('v1');
});

test('continue-deployment of a deployment that names no GitHub Deployment records a new one, and says so', async () => {
  const s = await createStack(h, cd, 'cdnogh', await h.pushApp('cdnogh', 'v1'), {
    blueGreenDeploymentConfiguration: {
      terminateBlueInstancesOnDeploymentSuccess: {
        action: 'TERMINATE',
        terminationWaitTimeInMinutes: 0,
      },
      deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 600 },
    },
  });
  const run = await deployStep(s, {
    'container-images': `web=${await h.pushApp('cdnogh', 'v2')}`,
    'wait-until': 'test-traffic',
  });
  expect(run.outputs.status).toBe('ready');
  const go = await deployStep(s, {
    'continue-deployment': run.outputs['codedeploy-deployment-id'],
    environment: 'cdnogh',
    'github-token': gh.token,
  });
  expect(go.outputs.status).toBe('succeeded');
  expect(go.stdout).toContain(
    `CodeDeploy deployment ${run.outputs['codedeploy-deployment-id']} names no GitHub deployment: recording a new one.`,
  );
  const recorded = gh.deployments.filter((d) => d.environment === 'cdnogh');
  expect(recorded).toHaveLength(1);
  expect(go.outputs['github-deployment-id']).toBe(String(recorded[0].id));
  expect(recorded[0].statuses.map((st) => st.state)).toEqual(['in_progress', 'success']);
});
