/**
 * CodeDeploy blue/green of an ECS service against local-aws: all at once, canary and the wait for
 * a go-ahead, seen through the SDK, the listeners' weights and the app's own answers.
 */
import {
  ContinueDeploymentCommand,
  CreateDeploymentCommand,
  CreateDeploymentConfigCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  ListDeploymentTargetsCommand,
  type CodeDeployClient,
} from '@aws-sdk/client-codedeploy';
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
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
} from './codedeploy-support';
import { eventually, startHarness, type Harness } from './support';

let h: Harness;
let cd: CodeDeployClient;

beforeAll(async () => {
  h = await startHarness({ timeScale: 30 });
  cd = codeDeployClient(h);
});

afterAll(async () => {
  cd?.destroy();
  await h?.close();
});

test('the predefined ECS configurations read as AWS defines them', async () => {
  const table: [string, unknown][] = [
    ['CodeDeployDefault.ECSAllAtOnce', { type: 'AllAtOnce' }],
    [
      'CodeDeployDefault.ECSCanary10Percent5Minutes',
      { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } },
    ],
    [
      'CodeDeployDefault.ECSLinear10PercentEvery1Minutes',
      { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 1 } },
    ],
  ];
  for (const [name, routing] of table) {
    const out = await cd.send(new GetDeploymentConfigCommand({ deploymentConfigName: name }));
    expect(out.deploymentConfigInfo).toMatchObject({
      deploymentConfigName: name,
      computePlatform: 'ECS',
      trafficRoutingConfig: routing,
    });
  }
});

test('all at once: green takes the test then all production traffic, blue task set is terminated', async () => {
  const s = await createStack(h, cd, 'once', await h.pushApp('once', 'v1'));
  expect((await service(h, s)).taskSets).toHaveLength(1);
  const v2 = await registerWeb(h, 'once', await h.pushApp('once', 'v2'));

  await expect(
    h.ecs.send(
      new UpdateServiceCommand({ cluster: s.cluster, service: s.service, taskDefinition: v2 }),
    ),
  ).rejects.toThrow(
    /Unable to update task definition on services with a CODE_DEPLOY deployment controller/,
  );

  const id = await deploy(cd, s, v2, {
    hooks: 'Hooks:\n  - AfterAllowTestTraffic: "CheckGreen"',
  });
  const done = await until(cd, id, 'Succeeded');
  expect(done.deploymentOverview).toMatchObject({ Succeeded: 1, Failed: 0 });
  expect(await weights(h, s.prodListener)).toEqual({ [s.blueTg]: 0, [s.greenTg]: 100 });
  expect(await weights(h, s.testListener)).toEqual({ [s.blueTg]: 0, [s.greenTg]: 100 });
  expect(await version(s.prodPort)).toBe('v2');

  const targets = await cd.send(new ListDeploymentTargetsCommand({ deploymentId: id }));
  expect(targets.targetIds).toEqual(['cd:once']);
  const target = await ecsTarget(cd, s, id);
  expect(target.status).toBe('Succeeded');
  expect(target.lifecycleEvents!.map((e) => [e.lifecycleEventName, e.status])).toEqual([
    ['BeforeInstall', 'Succeeded'],
    ['Install', 'Succeeded'],
    ['AfterInstall', 'Succeeded'],
    ['AllowTestTraffic', 'Succeeded'],
    ['AfterAllowTestTraffic', 'Succeeded'],
    ['BeforeAllowTraffic', 'Succeeded'],
    ['AllowTraffic', 'Succeeded'],
    ['AfterAllowTraffic', 'Succeeded'],
  ]);
  const hook = target.lifecycleEvents!.find(
    (e) => e.lifecycleEventName === 'AfterAllowTestTraffic',
  );
  expect(hook!.diagnostics!.message).toMatch(/does not run Lambda functions.*CheckGreen/);
  expect(target.taskSetsInfo!.find((t) => t.taskSetLabel === 'Green')!.trafficWeight).toBe(100);

  const sets = await eventually(async () => {
    const svc = await service(h, s);
    return svc.taskSets?.length === 1 ? svc.taskSets : undefined;
  }, 'the blue task set to be gone');
  expect(sets[0]).toMatchObject({ status: 'PRIMARY', taskDefinition: v2, externalId: id });
  const group = await cd.send(
    new GetDeploymentGroupCommand({ applicationName: s.app, deploymentGroupName: s.group }),
  );
  expect(group.deploymentGroupInfo!.lastSuccessfulDeployment!.deploymentId).toBe(id);
});

test('canary: production reads 10/90 green/blue during the bake, then all green', async () => {
  await createCanaryConfig(cd, 'Canary10Percent1Minute', 10, 1);
  const s = await createStack(h, cd, 'canary', await h.pushApp('canary', 'v1'));
  const v2 = await registerWeb(h, 'canary', await h.pushApp('canary', 'v2'));
  const id = await deploy(cd, s, v2, { deploymentConfigName: 'Canary10Percent1Minute' });

  await eventually(async () => {
    const w = await weights(h, s.prodListener);
    return w[s.greenTg] === 10 && w[s.blueTg] === 90;
  }, 'the canary split on the production listener');
  const during = await ecsTarget(cd, s, id);
  expect(during.taskSetsInfo!.find((t) => t.taskSetLabel === 'Green')!.trafficWeight).toBe(10);
  expect((await deployment(cd, id)).status).toBe('InProgress');

  await until(cd, id, 'Succeeded');
  expect(await weights(h, s.prodListener)).toEqual({ [s.blueTg]: 0, [s.greenTg]: 100 });
});

test('STOP_DEPLOYMENT waits in Ready with test traffic on green and production on blue until ContinueDeployment', async () => {
  const s = await createStack(h, cd, 'ready', await h.pushApp('ready', 'v1'), {
    blueGreenDeploymentConfiguration: {
      terminateBlueInstancesOnDeploymentSuccess: {
        action: 'TERMINATE',
        terminationWaitTimeInMinutes: 0,
      },
      deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 60 },
    },
  });
  const v2 = await registerWeb(h, 'ready', await h.pushApp('ready', 'v2'));
  const id = await deploy(cd, s, v2);

  const ready = await until(cd, id, 'Ready');
  expect(ready.deploymentOverview).toMatchObject({ Ready: 1, InProgress: 0 });
  expect(await version(s.testPort)).toBe('v2');
  expect(await version(s.prodPort)).toBe('v1');
  expect(await weights(h, s.prodListener)).toEqual({ [s.blueTg]: 1 });
  const target = await ecsTarget(cd, s, id);
  expect(target.status).toBe('Ready');
  expect(target.lifecycleEvents!.find((e) => e.lifecycleEventName === 'AllowTraffic')!.status).toBe(
    'Pending',
  );

  await expect(deploy(cd, s, v2)).rejects.toThrow(
    expect.objectContaining({ name: 'DeploymentLimitExceededException' }),
  );
  await cd.send(
    new ContinueDeploymentCommand({ deploymentId: id, deploymentWaitType: 'READY_WAIT' }),
  );
  await until(cd, id, 'Succeeded');
  expect(await version(s.prodPort)).toBe('v2');
});

test('linear: production moves in equal steps, one interval apart', async () => {
  await cd.send(
    new CreateDeploymentConfigCommand({
      deploymentConfigName: 'Linear50PercentEvery1Minute',
      computePlatform: 'ECS',
      trafficRoutingConfig: {
        type: 'TimeBasedLinear',
        timeBasedLinear: { linearPercentage: 50, linearInterval: 1 },
      },
    }),
  );
  const s = await createStack(h, cd, 'linear', await h.pushApp('linear', 'v1'));
  const v2 = await registerWeb(h, 'linear', await h.pushApp('linear', 'v2'));
  const id = await deploy(cd, s, v2, { deploymentConfigName: 'Linear50PercentEvery1Minute' });
  await eventually(async () => {
    const w = await weights(h, s.prodListener);
    return w[s.greenTg] === 50 && w[s.blueTg] === 50;
  }, 'the first linear step');
  await until(cd, id, 'Succeeded');
  expect(await weights(h, s.prodListener)).toEqual({ [s.blueTg]: 0, [s.greenTg]: 100 });
});

test.each([
  ['an unknown application', 'NoSuchApp', 'DgpECS-cd-x', 'ApplicationDoesNotExistException'],
  [
    'an unknown deployment group',
    'AppECS-cd-once',
    'NoSuchGroup',
    'DeploymentGroupDoesNotExistException',
  ],
])('CreateDeployment for %s is refused', async (_what, app, group, error) => {
  await expect(
    cd.send(
      new CreateDeploymentCommand({
        applicationName: app,
        deploymentGroupName: group,
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content: '{}' } },
      }),
    ),
  ).rejects.toThrow(expect.objectContaining({ name: error }));
});

test('the next deployment goes back into the first target group, the roles of the groups swapped', async () => {
  const s = await createStack(h, cd, 'twice', await h.pushApp('twice', 'v1'));
  const v2 = await registerWeb(h, 'twice', await h.pushApp('twice', 'v2'));
  await until(cd, await deploy(cd, s, v2), 'Succeeded');
  const v3 = await registerWeb(h, 'twice', await h.pushApp('twice', 'v3'));
  const id = await deploy(cd, s, v3);
  await until(cd, id, 'Succeeded');
  expect(await weights(h, s.prodListener)).toEqual({ [s.blueTg]: 100, [s.greenTg]: 0 });
  expect(await version(s.prodPort)).toBe('v3');
  const labels = Object.fromEntries(
    (await ecsTarget(cd, s, id)).taskSetsInfo!.map((t) => [t.taskSetLabel, t.targetGroup!.name]),
  );
  expect(labels).toEqual({ Blue: 'twice-green', Green: 'twice-blue' });
  const previous = (await deployment(cd, id)).previousRevision;
  expect(previous?.appSpecContent?.content).toContain(v2);
});
