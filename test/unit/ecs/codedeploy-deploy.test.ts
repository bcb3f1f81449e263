import type { CodeDeployApi } from '../../../packages/ecs/src/codedeploy/api';
import { NotForCodeDeployError } from '../../../packages/ecs/src/codedeploy/errors';
import {
  TestTrafficWaitError,
  UnknownCodeDeployTargetError,
} from '../../../packages/ecs/src/codedeploy/group';
import { deploy, type DeployOptions } from '../../../packages/ecs/src/deploy';
import type { DeployLog } from '../../../packages/ecs/src/service';
import { FakeClock, FakeEcs, rolling, service } from './fake-ecs';

const TD1 = 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1';

function memoryLog(): DeployLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(m),
    debug: () => undefined,
    warning: (m) => lines.push(`warning: ${m}`),
    group: (_name, fn) => fn(),
  };
}

const codeDeployService = service([rolling(TD1, 'COMPLETED', 2, 2, { status: 'PRIMARY' })], {
  clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/apps',
  deploymentController: { type: 'CODE_DEPLOY' },
  loadBalancers: [{ targetGroupArn: 'tg-blue', containerName: 'web', containerPort: 8080 }],
});

/** A CodeDeploy that knows one application and group (the console's default names), and records calls. */
function fakeCodeDeploy(): CodeDeployApi & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async getDeploymentGroup({ applicationName, deploymentGroupName }) {
      calls.push(`GetDeploymentGroup ${applicationName}/${deploymentGroupName}`);
      if (applicationName !== 'AppECS-apps-web')
        throw Object.assign(new Error(`No application found for name: ${applicationName}`), {
          name: 'ApplicationDoesNotExistException',
        });
      if (deploymentGroupName !== 'DgpECS-apps-web')
        throw Object.assign(new Error('No Deployment Group found'), {
          name: 'DeploymentGroupDoesNotExistException',
        });
      return {
        deploymentGroupInfo: {
          deploymentGroupName,
          deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
          loadBalancerInfo: {
            targetGroupPairInfoList: [
              {
                prodTrafficRoute: { listenerArns: ['prod'] },
                testTrafficRoute: { listenerArns: ['test'] },
              },
            ],
          },
          blueGreenDeploymentConfiguration: {
            deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT', waitTimeInMinutes: 0 },
          },
        },
        $metadata: {},
      };
    },
    async createDeployment() {
      calls.push('CreateDeployment');
      return { deploymentId: 'd-AAAAAAAAA', $metadata: {} };
    },
    async getDeployment() {
      calls.push('GetDeployment');
      return { $metadata: {} };
    },
    async getDeploymentTarget() {
      calls.push('GetDeploymentTarget');
      return { $metadata: {} };
    },
    async continueDeployment() {
      calls.push('ContinueDeployment');
      return { $metadata: {} };
    },
  };
}

async function attempt(
  over: Partial<DeployOptions> & { codeDeployNames?: { application?: string; group?: string } },
  initial = codeDeployService,
) {
  const clock = new FakeClock();
  const ecs = new FakeEcs(clock, () => ({ service: initial }), initial);
  const cd = fakeCodeDeploy();
  const log = memoryLog();
  const outcome = deploy({
    api: ecs.api,
    cluster: 'apps',
    service: 'web',
    source: { kind: 'current' },
    images: new Map([['web', 'registry.example/web:v2']]),
    environment: new Map(),
    waitUntil: 'stable',
    timeoutMs: 600_000,
    dryRun: false,
    provenance: {},
    log,
    clock,
    codeDeploy: {
      api: cd,
      application: over.codeDeployNames?.application,
      deploymentGroup: over.codeDeployNames?.group,
    },
    ...over,
  });
  return { outcome, ecs, cd, log };
}

test('a dry run of a CODE_DEPLOY service reads the group, shows the AppSpec it would send and registers nothing', async () => {
  const { outcome, ecs, cd, log } = await attempt({ dryRun: true });
  const result = await outcome;
  expect(result.status).toBe('dry-run');
  expect(JSON.parse(result.codeDeploy!.appSpec)).toEqual({
    version: 0,
    Resources: [
      {
        TargetService: {
          Type: 'AWS::ECS::Service',
          Properties: {
            TaskDefinition: '<the registered revision>',
            LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 },
          },
        },
      },
    ],
  });
  expect(result.plannedCalls).toContainEqual(
    expect.stringMatching(
      /^CreateDeployment application=AppECS-apps-web deploymentGroup=DgpECS-apps-web/,
    ),
  );
  expect(log.lines).toContainEqual(
    expect.stringContaining('"TaskDefinition": "<the registered revision>"'),
  );
  expect(cd.calls).toEqual(['GetDeploymentGroup AppECS-apps-web/DgpECS-apps-web']);
  expect(ecs.count('RegisterTaskDefinition')).toBe(0);
});

test.each([
  [{ application: 'Nope' }, 'application', /CodeDeploy application `Nope` does not exist/],
  [
    { group: 'Nope' },
    'deployment-group',
    /deployment group `Nope` does not exist in application `AppECS-apps-web`/,
  ],
] as const)(
  'an unknown CodeDeploy %j fails before anything is registered',
  async (names, which, message) => {
    const { outcome, ecs, cd } = await attempt({ codeDeployNames: names });
    await expect(outcome).rejects.toThrow(UnknownCodeDeployTargetError);
    await expect(outcome).rejects.toMatchObject({ which, defaulted: false });
    await expect(outcome).rejects.toThrow(message);
    expect(ecs.count('RegisterTaskDefinition')).toBe(0);
    expect(cd.calls).not.toContain('CreateDeployment');
  },
);

test('test-traffic with a group that reroutes at once fails before anything is registered', async () => {
  const { outcome, ecs } = await attempt({ waitUntil: 'test-traffic' });
  await expect(outcome).rejects.toThrow(TestTrafficWaitError);
  expect(ecs.count('RegisterTaskDefinition')).toBe(0);
});

test('a strategy for a CODE_DEPLOY service is refused before any CodeDeploy call', async () => {
  const { outcome, cd } = await attempt({ strategy: 'CANARY' });
  await expect(outcome).rejects.toThrow(NotForCodeDeployError);
  expect(cd.calls).toEqual([]);
});

test('test-traffic for a service with ECS deployments is refused before anything is registered', async () => {
  const ecsService = service([rolling(TD1, 'COMPLETED', 2, 2, { status: 'PRIMARY' })]);
  const { outcome, ecs, cd } = await attempt({ waitUntil: 'test-traffic' }, ecsService);
  await expect(outcome).rejects.toThrow(/uses ECS deployments; only a CodeDeploy blue\/green/);
  expect(ecs.count('RegisterTaskDefinition')).toBe(0);
  expect(cd.calls).toEqual([]);
});
