/**
 * Several services rolled back together, with a scripted ECS: every service is prepared before
 * any is changed, so one that cannot be rolled back fails the whole, naming it, with nothing
 * changed; otherwise every service is updated and the verdict and sentence cover them all.
 */
import type { EcsApi } from '../../../packages/ecs/src/api';
import { rollbackServices } from '../../../packages/ecs/src/rollback';
import type { TargetSpec } from '../../../packages/ecs/src/rollback-target';
import type { DeployLog } from '../../../packages/ecs/src/service';
import { FakeClock, FakeEcs, rolling, service, TD1, TD2 } from './fake-ecs';

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

const initial = service([rolling(TD2, 'COMPLETED', 2, 2, { status: 'PRIMARY' })]);
const settled = () => ({
  service: service([rolling(TD1, 'COMPLETED', 2, 2, { status: 'PRIMARY' })]),
});

/** The fake's ECS, where the services named in `missing` do not exist. */
function withMissing(ecs: FakeEcs, missing: string[]): EcsApi {
  const api = ecs.api;
  return {
    ...api,
    describeServices: async (input) => {
      if (missing.includes(input.services?.[0] ?? ''))
        return { services: [], failures: [{ reason: 'MISSING' }], $metadata: {} };
      return api.describeServices(input);
    },
  };
}

function attempt(
  services: string[],
  missing: string[] = [],
  to: TargetSpec = { kind: 'arn', value: TD1 },
) {
  const clock = new FakeClock();
  const ecs = new FakeEcs(clock, settled, initial);
  const log = memoryLog();
  const started: (string | undefined)[] = [];
  const outcome = rollbackServices({
    api: withMissing(ecs, missing),
    cluster: 'apps',
    services,
    to,
    waitUntil: 'stable',
    timeoutMs: 600_000,
    log,
    clock,
    onStarted: ({ targetGitSha }) => {
      started.push(targetGitSha);
    },
  });
  return { outcome, ecs, log, started };
}

test('every service is rolled back; the verdict and the sentence cover them all, and onStarted is called once', async () => {
  const { outcome, ecs, log, started } = attempt(['api', 'worker']);
  const r = await outcome;
  expect(r.status).toBe('succeeded');
  expect(r.services.map((s) => [s.service, s.result.status, s.result.to])).toEqual([
    ['api', 'succeeded', TD1],
    ['worker', 'succeeded', TD1],
  ]);
  expect(r.reason).toBe('Rolled back api from web:2 to web:1, worker from web:2 to web:1.');
  expect(ecs.count('UpdateService')).toBe(2);
  expect(started).toHaveLength(1);
  expect(log.lines.some((l) => l.startsWith('[worker] Rolling back worker'))).toBe(true);
});

test('a service that cannot be rolled back fails the whole before any service is changed, naming it', async () => {
  const { outcome, ecs } = attempt(['api', 'worker'], ['worker']);
  await expect(outcome).rejects.toThrow(
    'Service `worker` was not found in cluster `apps` (MISSING). Nothing was rolled back.',
  );
  expect(ecs.count('UpdateService')).toBe(0);
  expect(ecs.count('TagResource')).toBe(0);
});

test('a service with no earlier revision is named, with the way out that fits one `to` for all', async () => {
  // The fake's services have one deployment each: no revision before the one they run.
  const { outcome, ecs } = attempt(['api', 'worker'], [], { kind: 'previous' });
  await expect(outcome).rejects.toThrow(
    /^service `api`: No earlier revision completed a deployment .* Roll it back on its own, naming the revision\. Nothing was rolled back\.$/,
  );
  expect(ecs.count('UpdateService')).toBe(0);
});

test('the worst status wins: a service whose rollback cannot start is failed, and the other is still rolled back', async () => {
  const clock = new FakeClock();
  const ecs = new FakeEcs(clock, settled, initial);
  const api = ecs.api;
  const r = await rollbackServices({
    api: {
      ...api,
      updateService: async (input) => {
        if (input.service === 'worker')
          throw Object.assign(new Error('Service worker is draining'), {
            name: 'InvalidParameterException',
          });
        return api.updateService(input);
      },
    },
    cluster: 'apps',
    services: ['api', 'worker'],
    to: { kind: 'arn', value: TD1 },
    waitUntil: 'stable',
    timeoutMs: 600_000,
    log: memoryLog(),
    clock,
  });
  expect(r.status).toBe('failed');
  expect(r.services.map((s) => [s.service, s.result.status])).toEqual([
    ['api', 'succeeded'],
    ['worker', 'failed'],
  ]);
  expect(r.reason).toBe(
    'worker: The rollback of worker could not start: Service worker is draining. Rolled back api from web:2 to web:1.',
  );
});
