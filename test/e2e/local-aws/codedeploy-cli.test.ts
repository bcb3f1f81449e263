/**
 * The AWS CLI's `aws deploy` commands read local-aws's CodeDeploy state as they read AWS's: a
 * deployment waiting in Ready, its one ECS target with lifecycle events and task sets, the
 * go-ahead, and an unknown id. Needs the AWS CLI (`aws`, v1 or v2) on PATH; skipped, saying so,
 * when it is missing.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import {
  codeDeployClient,
  createStack,
  deploy,
  deployment,
  registerWeb,
  until,
  type Stack,
} from './codedeploy-support';
import { startHarness, type Harness } from './support';

const run = promisify(execFile);
const cliVersion = spawnSync('aws', ['--version'], { encoding: 'utf8' });
const cliPresent = !cliVersion.error && cliVersion.status === 0;
const CLI_MISSING =
  'the AWS CLI (`aws`) is not on PATH: install it (Debian: `apt-get install awscli`; or `pip install awscli`) to run this suite';
const withCli = cliPresent ? test : test.skip;

let h: Harness;
let cd: CodeDeployClient;
let dir: string;
let s: Stack;
let id: string;

beforeAll(async () => {
  if (!cliPresent) {
    console.warn(`Skipped: ${CLI_MISSING}`);
    return;
  }
  dir = mkdtempSync(join(tmpdir(), 'local-aws-codedeploy-cli-'));
  h = await startHarness({ timeScale: 30 });
  cd = codeDeployClient(h);
  s = await createStack(h, cd, 'cdcli', await h.pushApp('cdcli', 'v1'), {
    blueGreenDeploymentConfiguration: {
      terminateBlueInstancesOnDeploymentSuccess: {
        action: 'TERMINATE',
        terminationWaitTimeInMinutes: 0,
      },
      deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 600 },
    },
  });
  const green = await registerWeb(h, 'cdcli', await h.pushApp('cdcli', 'v2'));
  id = await deploy(cd, s, green);
  await until(cd, id, 'Ready');
});

afterAll(async () => {
  cd?.destroy();
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `aws deploy …` against local-aws and parses its JSON output. */
async function cli(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run('aws', ['deploy', ...args, '--output', 'json'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_CONFIG_FILE: join(dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
      AWS_ENDPOINT_URL: h.aws.endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
    },
  });
  return stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {};
}

withCli(
  'aws deploy get-deployment shows a deployment waiting in Ready as the SDK reads it',
  async () => {
    const info = (await cli('get-deployment', '--deployment-id', id)).deploymentInfo as Record<
      string,
      unknown
    >;
    const sdk = await deployment(cd, id);
    expect(info).toMatchObject({
      deploymentId: id,
      applicationName: s.app,
      deploymentGroupName: s.group,
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      status: 'Ready',
      computePlatform: 'ECS',
      creator: 'user',
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      revision: { revisionType: 'AppSpecContent' },
    });
    expect(info.status).toBe(sdk.status);
    // Times parse as times (the CLI prints them as ISO 8601 or epoch seconds).
    const created = info.createTime as string | number;
    const ms = typeof created === 'number' ? created * 1000 : Date.parse(created);
    expect(ms).toBe(sdk.createTime!.getTime());
  },
);

withCli(
  'aws deploy list-deployment-targets and get-deployment-target show the ECS target with its lifecycle events and task sets',
  async () => {
    const targetId = `${s.cluster}:${s.service}`;
    expect(await cli('list-deployment-targets', '--deployment-id', id)).toEqual({
      targetIds: [targetId],
    });
    const target = (
      await cli('get-deployment-target', '--deployment-id', id, '--target-id', targetId)
    ).deploymentTarget as { deploymentTargetType: string; ecsTarget: Record<string, unknown> };
    expect(target.deploymentTargetType).toBe('ECSTarget');
    expect(target.ecsTarget).toMatchObject({ deploymentId: id, targetId, status: 'Ready' });
    const events = target.ecsTarget.lifecycleEvents as {
      lifecycleEventName: string;
      status: string;
    }[];
    expect(events.map((e) => `${e.lifecycleEventName}: ${e.status}`)).toEqual([
      'BeforeInstall: Succeeded',
      'Install: Succeeded',
      'AfterInstall: Succeeded',
      'AllowTestTraffic: Succeeded',
      'AfterAllowTestTraffic: Succeeded',
      'BeforeAllowTraffic: Pending',
      'AllowTraffic: Pending',
      'AfterAllowTraffic: Pending',
    ]);
    const sets = target.ecsTarget.taskSetsInfo as { taskSetLabel: string; trafficWeight: number }[];
    expect(Object.fromEntries(sets.map((t) => [t.taskSetLabel, t.trafficWeight]))).toEqual({
      Blue: 100,
      Green: 0,
    });
  },
);

withCli(
  'aws deploy continue-deployment sends the go-ahead and get-deployment then shows it succeeded',
  async () => {
    await cli('continue-deployment', '--deployment-id', id, '--deployment-wait-type', 'READY_WAIT');
    await until(cd, id, 'Succeeded');
    const info = (await cli('get-deployment', '--deployment-id', id)).deploymentInfo as Record<
      string,
      unknown
    >;
    expect(info.status).toBe('Succeeded');
    expect(info.deploymentOverview).toMatchObject({ Succeeded: 1, InProgress: 0, Ready: 0 });
    expect(
      await cli(
        'list-deployments',
        '--application-name',
        s.app,
        '--deployment-group-name',
        s.group,
      ),
    ).toEqual({
      deployments: [id],
    });
  },
);

withCli(
  'aws deploy get-deployment of an unknown id fails with CodeDeploy’s error code',
  async () => {
    await expect(cli('get-deployment', '--deployment-id', 'd-AAAAAAAAA')).rejects.toMatchObject({
      stderr: expect.stringMatching(/\(DeploymentDoesNotExistException\)/),
    });
  },
);
