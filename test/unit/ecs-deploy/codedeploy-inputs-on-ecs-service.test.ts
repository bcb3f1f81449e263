import { phrased } from '../../../actions/ecs-deploy/src/inputs';
import { deploy } from '../../../packages/ecs/src/deploy';
import type { CodeDeployOptions } from '../../../packages/ecs/src/codedeploy/rollout';
import type { CodeDeployApi } from '../../../packages/ecs/src/codedeploy/api';
import type { DeployLog } from '../../../packages/ecs/src/service';
import { FakeClock, FakeEcs, rolling, service, TD2 } from '../ecs/fake-ecs';

const quietLog: DeployLog = {
  info: () => undefined,
  debug: () => undefined,
  warning: () => undefined,
  group: (_n, fn) => fn(),
};

/** No CodeDeploy call is expected: every one fails the test. */
const noCodeDeploy = new Proxy({} as CodeDeployApi, {
  get: (_t, op) => () => Promise.reject(new Error(`unexpected CodeDeploy call ${String(op)}`)),
});

function deployEcsService(codeDeploy: Partial<CodeDeployOptions>) {
  const clock = new FakeClock();
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
    log: quietLog,
    clock,
    codeDeploy: { api: noCodeDeploy, ...codeDeploy },
  });
  return { ecs, run };
}

test.each([
  [{ config: 'CodeDeployDefault.ECSCanary10Percent5Minutes' }, 'codedeploy-config'],
  [{ application: 'AppECS-apps-web' }, 'codedeploy-application'],
  [{ deploymentGroup: 'DgpECS-apps-web' }, 'codedeploy-deployment-group'],
  [{ appSpec: { source: 'appspec.yaml', json: {} } }, 'codedeploy-appspec'],
])(
  'a CodeDeploy input (%p) for a service on ECS deployments is refused naming %s, before anything is registered',
  async (codeDeploy, input) => {
    const { ecs, run } = deployEcsService(codeDeploy);
    const error = await run.catch((e: unknown) => e);
    expect(String(phrased(error))).toContain(
      `Input \`${input}\` does not apply: service \`web\` uses ECS deployments`,
    );
    expect(ecs.count('RegisterTaskDefinition')).toBe(0);
    expect(ecs.count('UpdateService')).toBe(0);
  },
);

test('with no CodeDeploy input a service on ECS deployments deploys as before', async () => {
  const { ecs, run } = deployEcsService({});
  expect((await run).status).toBe('in-progress');
  expect(ecs.count('UpdateService')).toBe(1);
});
