import type {
  DeploymentGroupInfo,
  DeploymentInfo,
  ECSTarget,
  LifecycleEvent,
} from '@aws-sdk/client-codedeploy';
import type { CodeDeployApi } from '../../../packages/ecs/src/codedeploy/api';
import {
  checkTestTrafficWait,
  TestTrafficWaitError,
} from '../../../packages/ecs/src/codedeploy/group';
import {
  codeDeployStatusReader,
  interpretCodeDeploy,
  type EndedLifecycleEvent,
} from '../../../packages/ecs/src/codedeploy/status-reader';

const T0 = Date.UTC(2026, 0, 1);
const at = (s: number): Date => new Date(T0 + s * 1000);

const ORDER = [
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'AllowTestTraffic',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AllowTraffic',
  'AfterAllowTraffic',
];

/** Lifecycle events: the first `done` succeeded (each took 2 s), the next one `current`, the rest pending. */
function events(done: number, current = 'InProgress'): LifecycleEvent[] {
  return ORDER.map((name, i) =>
    i < done
      ? {
          lifecycleEventName: name,
          status: 'Succeeded',
          startTime: at(i * 2),
          endTime: at(i * 2 + 2),
        }
      : i === done
        ? { lifecycleEventName: name, status: current, startTime: at(i * 2) }
        : { lifecycleEventName: name, status: 'Pending' },
  ) as LifecycleEvent[];
}

function target(lifecycleEvents: LifecycleEvent[], greenWeight: number, running = 2): ECSTarget {
  return {
    lifecycleEvents,
    taskSetsInfo: [
      { taskSetLabel: 'Blue', trafficWeight: 100 - greenWeight, desiredCount: 2, runningCount: 2 },
      {
        taskSetLabel: 'Green',
        trafficWeight: greenWeight,
        desiredCount: 2,
        runningCount: running,
        pendingCount: 2 - running,
      },
    ],
  };
}

interface Look {
  deployment: DeploymentInfo;
  target?: ECSTarget;
  rollback?: DeploymentInfo;
}

/** A CodeDeploy API that answers each look from a script (the last look repeats). */
function fakeApi(looks: Look[]): CodeDeployApi & { calls: string[] } {
  let i = -1;
  const calls: string[] = [];
  const look = (): Look => looks[Math.min(i, looks.length - 1)];
  return {
    calls,
    getDeploymentGroup: async () => ({ $metadata: {} }),
    createDeployment: async () => ({ $metadata: {} }),
    continueDeployment: async () => ({ $metadata: {} }),
    async getDeployment({ deploymentId }) {
      calls.push(`GetDeployment ${deploymentId}`);
      if (deploymentId === 'd-1') {
        i++;
        return { deploymentInfo: look().deployment, $metadata: {} };
      }
      return { deploymentInfo: look().rollback, $metadata: {} };
    },
    async getDeploymentTarget() {
      calls.push('GetDeploymentTarget');
      const t = look().target;
      if (!t)
        throw Object.assign(new Error('no target yet'), {
          name: 'DeploymentTargetDoesNotExistException',
        });
      return { deploymentTarget: { ecsTarget: t }, $metadata: {} };
    },
  };
}

function reader(looks: Look[]) {
  const api = fakeApi(looks);
  const ended: EndedLifecycleEvent[] = [];
  const traffic: number[] = [];
  const r = codeDeployStatusReader({
    api,
    deploymentId: 'd-1',
    targetId: 'apps:web',
    onLifecycleEvent: (e) => ended.push(e),
    onTraffic: (p) => traffic.push(p),
  });
  return { r, api, ended, traffic };
}

test('a canary deployment reads in progress, then traffic-shifted, then succeeded; each event and traffic change is reported once', async () => {
  const { r, ended, traffic } = reader([
    { deployment: { status: 'InProgress' } },
    { deployment: { status: 'InProgress' }, target: target(events(1), 0, 1) },
    { deployment: { status: 'InProgress' }, target: target(events(6), 10) },
    { deployment: { status: 'InProgress' }, target: target(events(6), 10) },
    { deployment: { status: 'InProgress' }, target: target(events(8, 'Succeeded'), 100) },
    { deployment: { status: 'Succeeded' }, target: target(events(8, 'Succeeded'), 100) },
  ]);
  const states = [];
  for (let n = 1; n <= 6; n++) states.push(await r.read(n));
  expect(states.map((s) => [s.phase, s.status, s.stage])).toEqual([
    ['in-progress', 'InProgress', undefined],
    ['in-progress', 'InProgress', 'Install'],
    ['in-progress', 'InProgress', 'AllowTraffic'],
    ['in-progress', 'InProgress', 'AllowTraffic'],
    ['traffic-shifted', 'InProgress', undefined],
    ['succeeded', 'Succeeded', undefined],
  ]);
  expect(states[1].counts).toEqual({ desired: 2, running: 1, pending: 1 });
  expect(states[5].final).toBe(true);
  expect(ended.map((e) => e.name)).toEqual(ORDER);
  expect(ended[1]).toEqual({ name: 'Install', status: 'Succeeded', durationMs: 2000 });
  expect(traffic).toEqual([10, 100]);
});

test('a deployment seen waiting in Ready is reported once, however many looks see it there', async () => {
  const api = fakeApi([
    { deployment: { status: 'InProgress' }, target: target(events(3), 0) },
    { deployment: { status: 'Ready' }, target: target(events(5), 0) },
    { deployment: { status: 'Ready' }, target: target(events(5), 0) },
    { deployment: { status: 'InProgress' }, target: target(events(6), 100) },
  ]);
  let ready = 0;
  const r = codeDeployStatusReader({
    api,
    deploymentId: 'd-1',
    targetId: 'apps:web',
    onReady: () => ready++,
  });
  const seen = [];
  for (let n = 1; n <= 4; n++) seen.push([(await r.read(n)).status, ready]);
  expect(seen).toEqual([
    ['InProgress', 0],
    ['Ready', 1],
    ['Ready', 1],
    ['InProgress', 1],
  ]);
});

test('a failed deployment that CodeDeploy rolls back reads rolling-back until the rollback deployment succeeds, with the error', async () => {
  const failedEvents = events(1, 'Failed').map((e, i) =>
    i === 1
      ? {
          ...e,
          endTime: at(9),
          diagnostics: { message: 'Essential container exited (exit code 3)' },
        }
      : i > 1
        ? { ...e, status: 'Skipped' }
        : e,
  ) as LifecycleEvent[];
  const failed: DeploymentInfo = {
    status: 'Failed',
    errorInformation: {
      code: 'ECS_UPDATE_ERROR',
      message: 'The ECS task set failed (exit code 3)',
    },
    rollbackInfo: { rollbackDeploymentId: 'd-2' },
  };
  const { r, api, ended } = reader([
    { deployment: failed, target: target(failedEvents, 0, 0), rollback: { status: 'InProgress' } },
    { deployment: failed, target: target(failedEvents, 0, 0), rollback: { status: 'Succeeded' } },
  ]);
  const first = await r.read(1);
  expect(first).toMatchObject({
    phase: 'rolling-back',
    status: 'Failed',
    reason: 'ECS_UPDATE_ERROR: The ECS task set failed (exit code 3)',
    final: false,
  });
  expect(await r.read(2)).toMatchObject({ phase: 'rolled-back', final: true });
  expect(api.calls).toContain('GetDeployment d-2');
  expect(ended.find((e) => e.status === 'Failed')).toEqual({
    name: 'Install',
    status: 'Failed',
    durationMs: 7000,
    message: 'Essential container exited (exit code 3)',
  });
  expect(r.look().rollback?.status).toBe('Succeeded');
});

test.each([
  [{ status: 'Failed' }, 'failed', true],
  [{ status: 'Stopped' }, 'failed', true],
  [{ status: 'Ready' }, 'in-progress', false],
  [{ status: 'Created' }, 'in-progress', false],
  [{ status: 'Failed', rollbackInfo: { rollbackDeploymentId: 'd-2' } }, 'rolling-back', false],
] as [DeploymentInfo, string, boolean][])(
  'CodeDeploy status %j reads as %s',
  (deployment, phase, final) => {
    expect(interpretCodeDeploy({ deployment })).toMatchObject({
      phase,
      status: deployment.status,
      final,
    });
  },
);

test('a rollback deployment that fails leaves the deployment failed', () => {
  expect(
    interpretCodeDeploy({
      deployment: { status: 'Failed', rollbackInfo: { rollbackDeploymentId: 'd-2' } },
      rollback: { status: 'Failed' },
    }),
  ).toMatchObject({ phase: 'failed', final: true });
});

test('a look that fails with another error than a missing target fails the read', async () => {
  const api = fakeApi([{ deployment: { status: 'InProgress' } }]);
  api.getDeploymentTarget = async () => {
    throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
  };
  const r = codeDeployStatusReader({ api, deploymentId: 'd-1', targetId: 'apps:web' });
  await expect(r.read(1)).rejects.toThrow('denied');
});

describe('checkTestTrafficWait', () => {
  const withTest = {
    loadBalancerInfo: {
      targetGroupPairInfoList: [
        {
          prodTrafficRoute: { listenerArns: ['prod'] },
          testTrafficRoute: { listenerArns: ['test'] },
        },
      ],
    },
  };
  test.each([
    ['STOP_DEPLOYMENT waits for a go-ahead', 'STOP_DEPLOYMENT', 60, 'ok'],
    [
      'CONTINUE_DEPLOYMENT after a wait goes on by itself: a warning',
      'CONTINUE_DEPLOYMENT',
      10,
      'warning',
    ],
    ['CONTINUE_DEPLOYMENT at once reroutes at once: refused', 'CONTINUE_DEPLOYMENT', 0, 'refused'],
  ] as const)('%s', (_name, actionOnTimeout, waitTimeInMinutes, expected) => {
    const group: DeploymentGroupInfo = {
      deploymentGroupName: 'DgpECS-apps-web',
      ...withTest,
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout, waitTimeInMinutes },
      },
    };
    if (expected === 'refused') {
      expect(() => checkTestTrafficWait(group)).toThrow(TestTrafficWaitError);
      expect(() => checkTestTrafficWait(group)).toThrow(
        /reroutes production traffic as soon as green is ready/,
      );
    } else if (expected === 'warning') {
      expect(checkTestTrafficWait(group)).toMatch(
        /waits 10 minute\(s\) in Ready and then reroutes/,
      );
    } else {
      expect(checkTestTrafficWait(group)).toBeUndefined();
    }
  });

  test('a group without a test listener is refused', () => {
    expect(() =>
      checkTestTrafficWait({
        deploymentGroupName: 'g',
        loadBalancerInfo: {
          targetGroupPairInfoList: [{ prodTrafficRoute: { listenerArns: ['p'] } }],
        },
        blueGreenDeploymentConfiguration: {
          deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 60 },
        },
      }),
    ).toThrow(/has no test listener/);
  });
});
