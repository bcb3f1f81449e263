import { phrased } from '../../../actions/ecs-deploy/src/inputs';
import { deploy } from '../../../packages/ecs/src/deploy';
import type { DeploymentStrategy } from '@aws-sdk/client-ecs';
import type { DeployLog } from '../../../packages/ecs/src/service';
import { FakeClock, FakeEcs, rolling, service, TD1, TD2 } from '../ecs/fake-ecs';

const quietLog: DeployLog = {
  info: () => undefined,
  debug: () => undefined,
  warning: () => undefined,
  group: (_n, fn) => fn(),
};

function deployWithBake(
  serviceStrategy: DeploymentStrategy | undefined,
  strategy: DeploymentStrategy | undefined,
) {
  const clock = new FakeClock();
  const ecs = new FakeEcs(
    clock,
    () => ({ service: service([rolling(TD2, 'COMPLETED', 2, 2, { status: 'PRIMARY' })]) }),
    service([rolling(TD1, 'COMPLETED', 2, 2, { status: 'PRIMARY' })], {
      deploymentConfiguration: serviceStrategy ? { strategy: serviceStrategy } : {},
    }),
  );
  const run = deploy({
    api: ecs.api,
    cluster: 'apps',
    service: 'web',
    source: { kind: 'current' },
    images: new Map([['web', 'registry.example/web:v2']]),
    environment: new Map(),
    strategy,
    bakeTimeMinutes: 10,
    waitUntil: 'none',
    timeoutMs: 10 * 60_000,
    dryRun: false,
    provenance: {},
    log: quietLog,
    clock,
  });
  return { ecs, run };
}

test.each([
  ['a service with no strategy set (rolling)', undefined],
  ['a ROLLING service', 'ROLLING' as const],
])(
  'bake-time on %s without a strategy to switch to is refused before anything is registered, naming `bake-time`',
  async (_what, serviceStrategy) => {
    const { ecs, run } = deployWithBake(serviceStrategy, undefined);
    const error = await run.catch((e: unknown) => e);
    expect(String(phrased(error))).toMatch(
      /Input `bake-time` does not apply: service `web` uses rolling deployments/,
    );
    expect(ecs.count('RegisterTaskDefinition')).toBe(0);
    expect(ecs.count('UpdateService')).toBe(0);
  },
);

test.each([
  ['a rolling service switched to blue-green', 'ROLLING' as const, 'BLUE_GREEN' as const],
  ['a blue-green service', 'BLUE_GREEN' as const, undefined],
  ['a canary service', 'CANARY' as const, undefined],
])('bake-time on %s is sent with the update', async (_what, serviceStrategy, strategy) => {
  const { ecs, run } = deployWithBake(serviceStrategy, strategy);
  await run;
  const update = ecs.calls.find((c) => c.op === 'UpdateService')?.input as {
    deploymentConfiguration?: { bakeTimeInMinutes?: number };
  };
  expect(update.deploymentConfiguration?.bakeTimeInMinutes).toBe(10);
});
