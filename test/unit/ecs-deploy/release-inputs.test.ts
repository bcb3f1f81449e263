import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getInputs } from '../../../actions/ecs-deploy/src/inputs';
import { InputParser } from '../../../packages/kit/src/inputs';

function inputs(values: Record<string, string>): ReturnType<typeof getInputs> {
  return getInputs(new InputParser((name) => values[name] ?? ''));
}

const TWO = { service: 'api\nworker' };
let work: string;
const saved = { region: process.env.AWS_REGION, workspace: process.env.GITHUB_WORKSPACE };
beforeAll(() => {
  process.env.AWS_REGION = 'us-east-1';
  work = mkdtempSync(join(tmpdir(), 'release-inputs-'));
  process.env.GITHUB_WORKSPACE = work;
  writeFileSync(
    join(work, 'worker.json'),
    JSON.stringify({ family: 'worker', containerDefinitions: [{ name: 'work', image: 'x' }] }),
  );
});
afterAll(() => {
  for (const [k, v] of [
    ['AWS_REGION', saved.region],
    ['GITHUB_WORKSPACE', saved.workspace],
  ] as const)
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  rmSync(work, { recursive: true, force: true });
});

test('one service keeps the single-service form: no release', () => {
  const read = inputs({ service: 'api', 'container-images': 'web=reg/web:v2' });
  expect(read.release).toBeUndefined();
  expect(read.images.get('web')).toBe('reg/web:v2');
});

test('several services: lines split into service prefix, container, name and value', () => {
  const read = inputs({
    ...TWO,
    'container-images': 'web=reg/web:v2\nworker/log=reg/log:v2',
    'environment-variables': 'api/web.LEVEL=a=b',
  });
  expect(read.release).toEqual({
    services: [
      { service: 'api', source: { kind: 'current' } },
      { service: 'worker', source: { kind: 'current' } },
    ],
    images: [
      { line: 'web=reg/web:v2', service: undefined, container: 'web', value: 'reg/web:v2' },
      { line: 'worker/log=reg/log:v2', service: 'worker', container: 'log', value: 'reg/log:v2' },
    ],
    environment: [
      { line: 'api/web.LEVEL=a=b', service: 'api', container: 'web', name: 'LEVEL', value: 'a=b' },
    ],
  });
});

test('task-definition per service: a file, a registered revision, current; unlisted ones are current', () => {
  const read = inputs({
    service: 'api\nworker\ncron',
    'task-definition': 'worker=worker.json\napi=api:7',
  });
  expect(read.release!.services.map((s) => [s.service, s.source.kind])).toEqual([
    ['api', 'registered'],
    ['worker', 'file'],
    ['cron', 'current'],
  ]);
});

test.each([
  [
    { 'container-images': 'billing/web=reg/web:v2' },
    'Input `container-images`, line `billing/web=reg/web:v2`: `billing` is not one of the services in `service` (`api`, `worker`).',
  ],
  [
    { 'container-images': 'web=not an image' },
    'Input `container-images` must be one `[<service>/]container=image` per line',
  ],
  [
    { 'container-images': 'web=reg/web:v2', 'environment-variables': 'billing/web.X=1' },
    'Input `environment-variables`, line `billing/web.X=1`: `billing` is not one of the services',
  ],
  [
    { 'container-images': 'web=reg/web:v2', 'task-definition': 'worker.json' },
    'Input `task-definition` must be one `<service>=<file|ARN|family:revision|current>` per line',
  ],
  [
    { 'container-images': 'web=reg/web:v2', 'task-definition': 'billing=worker.json' },
    'Input `task-definition`, line `billing=worker.json`: `billing` is not one of the services in `service`.',
  ],
  [
    { 'container-images': 'web=reg/web:v2', 'task-definition': 'api=missing.json' },
    'Input `task-definition`: file `missing.json` was not found',
  ],
  [{}, 'Input `container-images` is required'],
  [
    { 'container-images': 'web=reg/web:v2', 'codedeploy-application': 'shop' },
    'Input `codedeploy-application` does not apply to a release of several services',
  ],
  [
    { 'container-images': 'web=reg/web:v2', 'continue-deployment': 'd-A1B2C3D4E' },
    'Input `continue-deployment` does not apply to a release of several services',
  ],
  [
    { 'container-images': 'web=reg/web:v2', 'wait-until': 'test-traffic' },
    'Input `wait-until` is `test-traffic`',
  ],
])('a release with %p fails naming the input', (extra: Record<string, string>, message: string) => {
  expect(() => inputs({ ...TWO, ...extra })).toThrow(message);
});

test.each([
  ['api\napi', 'Input `service` names `api` more than once.'],
  [
    'api\narn:aws:ecs:us-east-1:000000000000:service/apps/worker',
    'Input `service` must be one service name per line',
  ],
])('service `%s` is refused', (service, message) => {
  expect(() => inputs({ service, 'container-images': 'web=reg/web:v2' })).toThrow(message);
});
