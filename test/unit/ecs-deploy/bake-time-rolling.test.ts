import { deploy } from '../../../packages/ecs/src/deploy';
import type { DeploymentStrategy } from '@aws-sdk/client-ecs';
import type { DeployLog } from '../../../packages/ecs/src/service';
import { FakeClock, FakeEcs, rolling, service, TD1, TD2 } from '../ecs/fake-ecs';

// Found by trying ecs-deploy by hand: `bake-time` on a service that stays rolling restarted the
// tasks and reported `succeeded`, with no bake and no word about it. Refusing the value would
// break the v1 promise (no accepted value starts to fail), so it is said and not sent.

function deployWithBake(
  serviceStrategy: DeploymentStrategy | undefined,
  strategy: DeploymentStrategy | undefined,
) {
  const clock = new FakeClock();
  const warnings: string[] = [];
  const log: DeployLog = {
    info: () => undefined,
    debug: () => undefined,
    warning: (m) => warnings.push(m),
    group: (_n, fn) => fn(),
  };
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
    log,
    clock,
  });
  return { ecs, run, warnings };
}

const sentBake = (ecs: FakeEcs): number | undefined =>
  (
    ecs.calls.find((c) => c.op === 'UpdateService')?.input as {
      deploymentConfiguration?: { bakeTimeInMinutes?: number };
    }
  ).deploymentConfiguration?.bakeTimeInMinutes;

test.each([
  ['a service with no strategy set (rolling)', undefined],
  ['a ROLLING service', 'ROLLING' as const],
])(
  'bake-time on %s without a strategy to switch to is not sent, and a warning says it is not used',
  async (_what, serviceStrategy) => {
    const { ecs, run, warnings } = deployWithBake(serviceStrategy, undefined);
    await run;
    expect(sentBake(ecs)).toBeUndefined();
    expect(warnings).toEqual([
      'Service web uses rolling deployments, which have no bake time (only blue/green, linear and canary deployments bake): the bake time given is not used.',
    ]);
  },
);

test.each([
  ['a rolling service switched to blue-green', 'ROLLING' as const, 'BLUE_GREEN' as const],
  ['a blue-green service', 'BLUE_GREEN' as const, undefined],
  ['a canary service', 'CANARY' as const, undefined],
])('bake-time on %s is sent with the update', async (_what, serviceStrategy, strategy) => {
  const { ecs, run, warnings } = deployWithBake(serviceStrategy, strategy);
  await run;
  expect(sentBake(ecs)).toBe(10);
  expect(warnings).toEqual([]);
});
