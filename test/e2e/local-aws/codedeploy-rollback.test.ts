/**
 * CodeDeploy blue/green failures against local-aws: a green that never becomes healthy, an alarm
 * during the canary bake, and StopDeployment; each rolls traffic back to blue and removes green.
 */
import { StopDeploymentCommand, type CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import {
  codeDeployClient,
  createCanaryConfig,
  createStack,
  deploy,
  deployment,
  ecsTarget,
  registerWeb,
  service,
  until,
  version,
  weights,
  type Stack,
} from './codedeploy-support';
import { eventually, startHarness, type Harness } from './support';

let h: Harness;
let cd: CodeDeployClient;

beforeAll(async () => {
  h = await startHarness({ timeScale: 30 });
  cd = codeDeployClient(h);
  await createCanaryConfig(cd, 'Canary10Percent1Minute', 10, 1);
});

afterAll(async () => {
  cd?.destroy();
  await h?.close();
});

/** Production and test traffic on blue, green task set gone, blue PRIMARY again. */
async function backOnBlue(s: Stack, blueTd: string): Promise<void> {
  expect(await weights(h, s.prodListener)).toEqual({ [s.blueTg]: 100, [s.greenTg]: 0 });
  expect(await weights(h, s.testListener)).toEqual({ [s.blueTg]: 100, [s.greenTg]: 0 });
  const sets = await eventually(async () => {
    const svc = await service(h, s);
    return svc.taskSets?.length === 1 ? svc.taskSets : undefined;
  }, 'the green task set to be gone');
  expect(sets[0]).toMatchObject({ status: 'PRIMARY', taskDefinition: blueTd });
  expect(await version(s.prodPort)).toBe('v1');
}

/** The rollback deployment named by `rollbackInfo` succeeded and points back at the failed one. */
async function rolledBack(id: string): Promise<void> {
  const failed = await deployment(cd, id);
  const rollbackId = failed.rollbackInfo!.rollbackDeploymentId!;
  const rb = await until(cd, rollbackId, 'Succeeded');
  expect(rb.creator).toBe('codeDeployRollback');
  expect(rb.rollbackInfo!.rollbackTriggeringDeploymentId).toBe(id);
}

test('a green whose health check fails on the test listener fails the deployment and rolls back before production moves', async () => {
  const s = await createStack(h, cd, 'sick', await h.pushApp('sick', 'v1'));
  const blueTd = (await service(h, s)).taskDefinition!;
  const v2 = await registerWeb(h, 'sick', await h.pushApp('sick', 'v2', { broken: true }));
  const id = await deploy(cd, s, v2);

  const failed = await until(cd, id, 'Failed');
  expect(failed.errorInformation!.code).toBe('ECS_UPDATE_ERROR');
  expect(failed.errorInformation!.message).toMatch(/replacement task set .* stopped/);
  const target = await ecsTarget(cd, s, id);
  expect(target.status).toBe('Failed');
  const events = Object.fromEntries(
    target.lifecycleEvents!.map((e) => [e.lifecycleEventName, e.status]),
  );
  expect(events).toMatchObject({
    Install: 'Succeeded',
    AllowTestTraffic: 'Failed',
    AllowTraffic: 'Skipped',
  });
  await rolledBack(id);
  await backOnBlue(s, blueTd);
});

test('an alarm during the canary bake stops the deployment and rolls production back to blue', async () => {
  await h.cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: 'canary-5xx',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Namespace: 'AWS/ApplicationELB',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    }),
  );
  const s = await createStack(h, cd, 'alarm', await h.pushApp('alarm', 'v1'), {
    deploymentConfigName: 'Canary10Percent1Minute',
    alarmConfiguration: { enabled: true, alarms: [{ name: 'canary-5xx' }] },
    autoRollbackConfiguration: {
      enabled: true,
      events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'],
    },
  });
  const blueTd = (await service(h, s)).taskDefinition!;
  const v2 = await registerWeb(h, 'alarm', await h.pushApp('alarm', 'v2'));
  const id = await deploy(cd, s, v2);

  await eventually(
    async () => (await weights(h, s.prodListener))[s.greenTg] === 10,
    'the canary share on green',
  );
  await h.cloudwatch.send(
    new SetAlarmStateCommand({
      AlarmName: 'canary-5xx',
      StateValue: 'ALARM',
      StateReason: 'too many 5xx',
    }),
  );
  const stopped = await until(cd, id, 'Stopped');
  expect(stopped.errorInformation).toMatchObject({ code: 'ALARM_ACTIVE' });
  expect(stopped.errorInformation!.message).toContain('canary-5xx');
  await rolledBack(id);
  await backOnBlue(s, blueTd);
});

test('StopDeployment with rollback while waiting in Ready puts test traffic back on blue and removes green', async () => {
  const s = await createStack(h, cd, 'halt', await h.pushApp('halt', 'v1'), {
    blueGreenDeploymentConfiguration: {
      terminateBlueInstancesOnDeploymentSuccess: {
        action: 'TERMINATE',
        terminationWaitTimeInMinutes: 0,
      },
      deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 60 },
    },
  });
  const blueTd = (await service(h, s)).taskDefinition!;
  const v2 = await registerWeb(h, 'halt', await h.pushApp('halt', 'v2'));
  const id = await deploy(cd, s, v2);
  await until(cd, id, 'Ready');
  expect(await version(s.testPort)).toBe('v2');

  const out = await cd.send(
    new StopDeploymentCommand({ deploymentId: id, autoRollbackEnabled: true }),
  );
  expect(out.status).toBe('Pending');
  const stopped = await until(cd, id, 'Stopped');
  expect(stopped.errorInformation!.code).toBe('MANUAL_STOP');
  await rolledBack(id);
  await backOnBlue(s, blueTd);
  await expect(cd.send(new StopDeploymentCommand({ deploymentId: id }))).rejects.toThrow(
    expect.objectContaining({ name: 'DeploymentAlreadyCompletedException' }),
  );
});

test('a green whose container exits at start fails Install with the exit code; production never leaves blue', async () => {
  const s = await createStack(h, cd, 'crash', await h.pushApp('crash', 'v1'));
  const blueTd = (await service(h, s)).taskDefinition!;
  const image = await h.pushApp('crash', 'v2');
  const v2 = (
    await h.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'crash',
        containerDefinitions: [
          {
            name: 'web',
            image,
            command: ['node', '-e', 'process.exit(3)'],
            portMappings: [{ containerPort: 8080 }],
          },
        ],
      }),
    )
  ).taskDefinition!.taskDefinitionArn!;
  const id = await deploy(cd, s, v2);
  const shares = new Set<number>();
  const failed = await eventually(async () => {
    shares.add((await weights(h, s.prodListener))[s.greenTg] ?? 0);
    const d = await deployment(cd, id);
    return d.status === 'Failed' ? d : undefined;
  }, 'the deployment to fail');
  expect(failed.errorInformation!.code).toBe('ECS_UPDATE_ERROR');
  expect(failed.errorInformation!.message).toContain('exit code 3');
  const target = await ecsTarget(cd, s, id);
  expect(target.lifecycleEvents!.find((e) => e.lifecycleEventName === 'Install')!.status).toBe(
    'Failed',
  );
  expect([...shares]).toEqual([0]);
  await rolledBack(id);
  await backOnBlue(s, blueTd);
});

test('STOP_DEPLOYMENT without a go-ahead within the wait time stops the deployment and rolls back', async () => {
  const s = await createStack(h, cd, 'late', await h.pushApp('late', 'v1'), {
    blueGreenDeploymentConfiguration: {
      terminateBlueInstancesOnDeploymentSuccess: {
        action: 'TERMINATE',
        terminationWaitTimeInMinutes: 0,
      },
      deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 1 },
    },
  });
  const blueTd = (await service(h, s)).taskDefinition!;
  const v2 = await registerWeb(h, 'late', await h.pushApp('late', 'v2'));
  const id = await deploy(cd, s, v2);
  await until(cd, id, 'Ready');
  const stopped = await until(cd, id, 'Stopped');
  expect(stopped.errorInformation!.code).toBe('TIMEOUT');
  await rolledBack(id);
  await backOnBlue(s, blueTd);
});
