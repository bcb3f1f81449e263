import { RevisionCache } from '../../../packages/ecs/src/history';
import { resolveTarget } from '../../../packages/ecs/src/resolve-target';
import type { HistoryEntry } from '../../../packages/ecs/src/rollback-target';
import type { DeployLog } from '../../../packages/ecs/src/service';
import { FakeClock, FakeEcs, service, TD1, TD2 } from './fake-ecs';

// Found by trying rollback by hand: `to: other:1` (a revision of another family, such as a
// typo of a sibling service's family) puts an unrelated application on the service, silently.
const OTHER = 'arn:aws:ecs:us-east-1:000000000000:task-definition/other:1';

const warnings: string[] = [];
const log: DeployLog = {
  info: () => undefined,
  debug: () => undefined,
  warning: (line) => void warnings.push(line),
  group: (_n, fn) => fn(),
};
beforeEach(() => (warnings.length = 0));

function resolve(to: string, history: HistoryEntry[]) {
  const clock = new FakeClock();
  const ecs = new FakeEcs(clock, () => ({ service: service([]) }));
  const api = ecs.api;
  api.describeTaskDefinition = async (input) => ({
    taskDefinition: {
      taskDefinitionArn: input.taskDefinition === 'other:1' ? OTHER : String(input.taskDefinition),
      family: String(input.taskDefinition).includes('other') ? 'other' : 'web',
      containerDefinitions: [{ name: 'web', image: 'registry.example/web:v1' }],
    },
    tags: [],
    $metadata: {},
  });
  return resolveTarget(
    {
      api,
      service: 'web',
      to: to.startsWith('arn:') ? { kind: 'arn', value: to } : { kind: 'revision', value: to },
      waitUntil: 'stable',
      timeoutMs: 60_000,
      log,
      clock,
    },
    TD2,
    new RevisionCache(api),
    async () => history,
  );
}

const deployment = (target: string, sources: string[]): HistoryEntry => ({
  serviceDeploymentArn: `arn:aws:ecs:us-east-1:000000000000:service-deployment/apps/web/${target.slice(-1)}`,
  status: 'SUCCESSFUL',
  target,
  sources,
});

// v1 keeps accepting the value (no accepted input value starts to fail): it is said loudly.
test.each(['other:1', OTHER])(
  '`to` %s, a revision of another family the service never ran, is taken with a warning naming both families',
  async (to) => {
    const resolution = await resolve(to, [deployment(TD2, [TD1])]);
    expect(resolution).toMatchObject({ kind: 'target', target: OTHER });
    expect(warnings).toEqual([
      expect.stringContaining(
        'task definition other:1 is of family `other`, but service `web` runs family `web` (web:2) and never ran other:1 in the deployments ECS keeps: this rollback puts another application on the service',
      ),
    ]);
  },
);

test('a revision of another family whose one deployment on the service failed is warned about', async () => {
  await resolve(OTHER, [{ ...deployment(OTHER, [TD2]), status: 'ROLLBACK_SUCCESSFUL' }]);
  expect(warnings).toEqual([
    expect.stringContaining('is of family `other`, but service `web` runs family `web`'),
  ]);
});

test.each([
  ['it started a deployment from it', [deployment(TD2, [OTHER])]],
  ['a deployment of it completed', [deployment(OTHER, [TD1])]],
])(
  'a revision of another family the service ran before (a family renamed) is a target: %s',
  async (_how, history) => {
    const resolution = await resolve(OTHER, history);
    expect(resolution).toMatchObject({ kind: 'target', target: OTHER });
    expect(warnings).toEqual([]);
  },
);

test('a revision of the family the service runs is a target, as before', async () => {
  const resolution = await resolve(TD1, [deployment(TD2, [TD1])]);
  expect(resolution).toMatchObject({ kind: 'target', target: TD1 });
  expect(warnings).toEqual([]);
});
