import type { DeployLog } from '../../../packages/ecs/src/service';
import { deployRelease, type ReleaseOptions } from '../../../packages/ecs/src/release/release';
import {
  assignLines,
  ReleaseLineError,
  type ReleaseLine,
} from '../../../packages/ecs/src/release/lines';
import { ReleaseEcs, SchedulerClock, type Behaviour } from './release-fake';

function memoryLog(): DeployLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(m),
    debug: () => undefined,
    warning: (m) => lines.push(`warning: ${m}`),
    group: (_n, fn) => fn(),
  };
}

/** `api/web=reg/web:v2` → a line. */
function imageLine(line: string): ReleaseLine {
  const [key, value] = [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)];
  const slash = key.indexOf('/');
  return slash >= 0
    ? { line, service: key.slice(0, slash), container: key.slice(slash + 1), value }
    : { line, container: key, value };
}

describe('placing lines on services', () => {
  const services = [
    { service: 'api', containers: ['web', 'log'] },
    { service: 'worker', containers: ['work', 'log'] },
  ];
  test.each([
    ['web=reg/web:v2', 'api', 'web'],
    ['work=reg/work:v2', 'worker', 'work'],
    ['api/log=reg/log:v2', 'api', 'log'],
    ['worker/log=reg/log:v2', 'worker', 'log'],
  ])('`%s` goes to %s, container %s', (line, service, container) => {
    const placed = assignLines(services, [imageLine(line)], []);
    expect(placed.get(service)!.images.get(container)).toBe(line.split('=')[1]);
    const other = service === 'api' ? 'worker' : 'api';
    expect(placed.get(other)!.images.size).toBe(0);
  });

  test.each([
    [
      'log=reg/log:v2',
      /container `log` is in several services \(`api`, `worker`\): start the line with the service, as `api\/log=reg\/log:v2`/,
    ],
    ['db=reg/db:v2', /no service of the release has a container `db`/],
    [
      'billing/web=reg/web:v2',
      /service `billing` is not one of the release's services \(`api`, `worker`\)/,
    ],
    ['worker/web=reg/web:v2', /service `worker` has no container `web` \(it has `work`, `log`\)/],
  ])('`%s` cannot be placed', (line, message) => {
    const error = (() => {
      try {
        assignLines(services, [imageLine(line)], []);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ReleaseLineError);
    expect((error as ReleaseLineError).line).toBe(line);
    expect((error as Error).message).toMatch(message);
  });

  test('environment lines are placed by the same rules, per container', () => {
    const placed = assignLines(
      services,
      [],
      [
        { line: 'web.LEVEL=debug', container: 'web', name: 'LEVEL', value: 'debug' },
        { line: 'worker/log.X=1', service: 'worker', container: 'log', name: 'X', value: '1' },
      ],
    );
    expect(placed.get('api')!.environment.get('web')!.get('LEVEL')).toBe('debug');
    expect(placed.get('worker')!.environment.get('log')!.get('X')).toBe('1');
  });

  test('a service deploying a registered revision as it is takes no line', () => {
    expect(() =>
      assignLines(
        [{ service: 'api', containers: ['web'], asIs: true }],
        [imageLine('web=reg/web:v2')],
        [],
      ),
    ).toThrow('service `api` deploys a registered revision as it is');
  });
});

interface Setup {
  ecs: ReleaseEcs;
  clock: SchedulerClock;
  log: DeployLog & { lines: string[] };
}

function setup(services: [string, string, Behaviour][]): Setup {
  const clock = new SchedulerClock();
  const ecs = new ReleaseEcs(clock);
  for (const [name, container, behaviour] of services) ecs.add(name, container, behaviour);
  return { ecs, clock, log: memoryLog() };
}

function release(
  s: Setup,
  names: string[],
  images: string[],
  extra: Partial<ReleaseOptions> = {},
): ReturnType<typeof deployRelease> {
  return deployRelease({
    api: s.ecs.api,
    cluster: 'apps',
    services: names.map((service) => ({ service, source: { kind: 'current' } })),
    images: images.map(imageLine),
    environment: [],
    waitUntil: 'stable',
    timeoutMs: 10 * 60_000,
    dryRun: false,
    provenance: {},
    log: s.log,
    clock: s.clock,
    ...extra,
  });
}

const rev = (service: string, n: number): string =>
  `arn:aws:ecs:us-east-1:000000000000:task-definition/${service}:${n}`;

test('a two-service release registers and deploys both, and succeeds', async () => {
  const s = setup([
    ['api', 'web', 'healthy'],
    ['worker', 'work', 'healthy'],
  ]);
  const result = await release(s, ['api', 'worker'], ['web=reg/web:v2', 'work=reg/work:v2']);
  expect(result.status).toBe('succeeded');
  expect(result.services.map((x) => [x.service, x.status, x.taskDefinitionArn])).toEqual([
    ['api', 'succeeded', rev('api', 2)],
    ['worker', 'succeeded', rev('worker', 2)],
  ]);
  expect(result.reason).toBe('Released api (api:2), worker (worker:2): deployed and stable.');
  // Each running revision is described once (to place the lines and to deploy), each service read in one call.
  expect(s.ecs.count('DescribeTaskDefinition')).toBe(2);
  expect(
    s.ecs.calls
      .filter((c) => c.op === 'DescribeServices')
      .every((c) => (c.input as { services: string[] }).services.length === 2),
  ).toBe(true);
  expect(s.log.lines.some((l) => l.startsWith('[api] '))).toBe(true);
  expect(s.log.lines.some((l) => l.startsWith('[worker] '))).toBe(true);
});

test('every service is validated before anything is registered: a bad image line in one registers nothing', async () => {
  const s = setup([
    ['api', 'web', 'healthy'],
    ['worker', 'work', 'healthy'],
  ]);
  await expect(release(s, ['api', 'worker'], ['web=reg/web:v2', 'db=reg/db:v2'])).rejects.toThrow(
    ReleaseLineError,
  );
  expect(s.ecs.count('RegisterTaskDefinition') + s.ecs.count('UpdateService')).toBe(0);
});

test('a service that cannot be read stops the release before anything is registered', async () => {
  const s = setup([['api', 'web', 'healthy']]);
  await expect(release(s, ['api', 'gone'], ['web=reg/web:v2'])).rejects.toThrow(
    /Service `gone` was not found/,
  );
  expect(s.ecs.count('RegisterTaskDefinition') + s.ecs.count('UpdateService')).toBe(0);
});

test('a crashing worker fails the release, names it, and every changed service goes back to its previous revision', async () => {
  const s = setup([
    ['api', 'web', 'healthy'],
    ['worker', 'work', 'crash'],
  ]);
  const result = await release(s, ['api', 'worker'], ['web=reg/web:v2', 'work=reg/work:v2']);
  expect(result.status).toBe('rolled-back');
  expect(result.failedService).toBe('worker');
  expect(result.reason).toMatch(
    /^worker failed: The deployment of worker:2 failed: tasks of worker:2 stopped on their own/,
  );
  expect(result.reason).toContain('Rolled back api to api:1.');
  expect(result.services.map((x) => [x.service, x.status])).toEqual([
    ['api', 'rolled-back'],
    ['worker', 'rolled-back'],
  ]);
  expect(s.ecs.services.get('api')!.taskDefinition).toBe(rev('api', 1));
  expect(s.ecs.services.get('worker')!.taskDefinition).toBe(rev('worker', 1));
});

test('a service whose image did not change is `unchanged` and untouched, also when another fails', async () => {
  const s = setup([
    ['api', 'web', 'healthy'],
    ['worker', 'work', 'crash'],
    ['cron', 'job', 'healthy'],
  ]);
  const result = await release(s, ['api', 'worker', 'cron'], ['work=reg/work:v2']);
  expect(result.status).toBe('rolled-back');
  const byName = Object.fromEntries(result.services.map((x) => [x.service, x]));
  expect(byName.api.status).toBe('unchanged');
  expect(byName.cron.status).toBe('unchanged');
  expect(byName.worker.status).toBe('rolled-back');
  const updated = s.ecs.calls
    .filter((c) => c.op === 'UpdateService')
    .map((c) => (c.input as { service: string }).service);
  expect(updated).toEqual(['worker', 'worker']);
  expect(s.ecs.revisionCount('api')).toBe(1);
  expect(result.reason).toContain('Unchanged: api, cron.');
});

test('following a 10-service release costs about the DescribeServices calls of one service', async () => {
  const one = setup([['s0', 'c', 'healthy']]);
  await release(one, ['s0'], ['c=reg/c:v2']);
  const names = Array.from({ length: 10 }, (_, i) => `s${i}`);
  const ten = setup(names.map((n) => [n, 'c', 'healthy'] as [string, string, Behaviour]));
  const result = await release(
    ten,
    names,
    names.map((n) => `${n}/c=reg/c:v2`),
  );
  expect(result.status).toBe('succeeded');
  const oneCalls = one.ecs.count('DescribeServices');
  const tenCalls = ten.ecs.count('DescribeServices');
  // Every look of the ten is one call: at most the one service's looks, plus the first read.
  expect(tenCalls).toBeLessThanOrEqual(oneCalls + 1);
  const sizes = ten.ecs.calls
    .filter((c) => c.op === 'DescribeServices')
    .map((c) => (c.input as { services: string[] }).services.length);
  expect(Math.max(...sizes)).toBe(10);
});
