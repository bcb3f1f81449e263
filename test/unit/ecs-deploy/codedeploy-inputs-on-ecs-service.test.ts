import { deploy } from '../../../packages/ecs/src/deploy';
import type { CodeDeployOptions } from '../../../packages/ecs/src/codedeploy/rollout';
import type { CodeDeployApi } from '../../../packages/ecs/src/codedeploy/api';
import type { DeployLog } from '../../../packages/ecs/src/service';
import { FakeClock, FakeEcs, rolling, service, TD2 } from '../ecs/fake-ecs';

// Found by trying ecs-deploy by hand: `codedeploy-config` (a canary) for a service on ECS
// deployments was ignored without a word, and the deploy ran all at once. Refusing the value
// would break the v1 promise (no accepted value starts to fail), so a warning says it.

/** No CodeDeploy call is expected: every one fails the test. */
const noCodeDeploy = new Proxy({} as CodeDeployApi, {
  get: (_t, op) => () => Promise.reject(new Error(`unexpected CodeDeploy call ${String(op)}`)),
});

function deployEcsService(codeDeploy: Partial<CodeDeployOptions>) {
  const clock = new FakeClock();
  const warnings: string[] = [];
  const log: DeployLog = {
    info: () => undefined,
    debug: () => undefined,
    warning: (m) => warnings.push(m),
    group: (_n, fn) => fn(),
  };
  const ecs = new FakeEcs(clock, () => ({
    service: service([rolling(TD2, 'COMPLETED', 2, 2, { status: 'PRIMARY' })]),
  }));
  const run = deploy({
    api: ecs.api,
    cluster: 'apps',
    service: 'web',
    source: { kind: 'current' },
    images: new Map([['web', 'registry.example/web:v2']]),
    environment: new Map(),
    waitUntil: 'none',
    timeoutMs: 10 * 60_000,
    dryRun: false,
    provenance: {},
    log,
    clock,
    codeDeploy: { api: noCodeDeploy, ...codeDeploy },
  });
  return { ecs, run, warnings };
}

test.each([
  [{ config: 'CodeDeployDefault.ECSCanary10Percent5Minutes' }, 'deployment configuration'],
  [{ application: 'AppECS-apps-web' }, 'application'],
  [{ deploymentGroup: 'DgpECS-apps-web' }, 'deployment group'],
  [{ appSpec: { source: 'appspec.yaml', json: {} } }, 'AppSpec'],
])(
  'a CodeDeploy option (%p) for a service on ECS deployments is named in a warning, and the ECS deploy goes on',
  async (codeDeploy, words) => {
    const { ecs, run, warnings } = deployEcsService(codeDeploy);
    expect((await run).status).toBe('in-progress');
    expect(ecs.count('UpdateService')).toBe(1);
    expect(warnings).toEqual([
      `Service web uses ECS deployments, not CodeDeploy: the CodeDeploy ${words} given is not used.`,
    ]);
  },
);

test('with no CodeDeploy option a service on ECS deployments deploys with no warning', async () => {
  const { ecs, run, warnings } = deployEcsService({});
  expect((await run).status).toBe('in-progress');
  expect(ecs.count('UpdateService')).toBe(1);
  expect(warnings).toEqual([]);
});
