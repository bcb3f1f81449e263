// Found by trying a release by hand: SIGTERM mid-rollout left no `services` output, no summary
// and no word of which services were left rolling out.
import { CancelledError } from '../../../packages/kit/src/errors';
import type { DeployLog } from '../../../packages/ecs/src/service';
import type { EcsApi } from '../../../packages/ecs/src/api';
import {
  deployRelease,
  ReleaseCancelledError,
  type ReleaseOptions,
} from '../../../packages/ecs/src/release/release';
import { ReleaseEcs, SchedulerClock } from '../ecs/release-fake';

const log: DeployLog = {
  info: () => undefined,
  debug: () => undefined,
  warning: () => undefined,
  group: (_n, fn) => fn(),
};

const rev = (service: string, n: number): string =>
  `arn:aws:ecs:us-east-1:000000000000:task-definition/${service}:${n}`;

/** A release of api, worker and cron (cron's image unchanged), cancelled at the chosen call. */
async function cancelledRelease(
  cancelWhen: (ecs: ReleaseEcs) => boolean,
  extra: Partial<ReleaseOptions> = {},
): Promise<{ error: unknown; ecs: ReleaseEcs }> {
  const clock = new SchedulerClock();
  const ecs = new ReleaseEcs(clock);
  ecs.add('api', 'web');
  ecs.add('worker', 'work', 'crash');
  ecs.add('cron', 'job');
  const controller = new AbortController();
  const inner = ecs.api;
  const api: EcsApi = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (!controller.signal.aborted && cancelWhen(ecs))
          controller.abort(new CancelledError('the workflow was cancelled (SIGTERM)'));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const error = await deployRelease({
    api,
    cluster: 'apps',
    services: ['api', 'worker', 'cron'].map((service) => ({
      service,
      source: { kind: 'current' as const },
    })),
    images: [
      { line: 'web=reg/web:v2', container: 'web', value: 'reg/web:v2' },
      { line: 'work=reg/work:v2', container: 'work', value: 'reg/work:v2' },
    ],
    environment: [],
    waitUntil: 'stable',
    timeoutMs: 10 * 60_000,
    dryRun: false,
    provenance: {},
    log,
    clock,
    signal: controller.signal,
    ...extra,
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ecs };
}

test('a release cancelled while its rollouts are followed says which services were left rolling out, and on which revisions', async () => {
  const { error } = await cancelledRelease((ecs) => ecs.count('UpdateService') === 2);
  expect(error).toBeInstanceOf(ReleaseCancelledError);
  // Still a cancel for the run wrapper and the GitHub Deployment record.
  expect(error).toBeInstanceOf(CancelledError);
  const e = error as ReleaseCancelledError;
  expect(e.message).toBe(
    'the workflow was cancelled (SIGTERM) while following the release: api (api:1 → api:2), worker (worker:1 → worker:2) go on rolling out in ECS, no longer followed and not rolled back. Unchanged: cron.',
  );
  expect(
    e.services.map((s) => [s.service, s.status, s.taskDefinitionArn, s.previousTaskDefinitionArn]),
  ).toEqual([
    ['api', 'in-progress', rev('api', 2), rev('api', 1)],
    ['worker', 'in-progress', rev('worker', 2), rev('worker', 1)],
    ['cron', 'unchanged', rev('cron', 1), rev('cron', 1)],
  ]);
});

test('a release cancelled before any service was updated says nothing changed', async () => {
  const { error, ecs } = await cancelledRelease((e) => e.count('RegisterTaskDefinition') === 1);
  expect(error).toBeInstanceOf(ReleaseCancelledError);
  expect(ecs.count('UpdateService')).toBe(0);
  const e = error as ReleaseCancelledError;
  expect(e.message).toMatch(
    /^the workflow was cancelled \(SIGTERM\) before any service was updated: every service stays on the revision it ran\./,
  );
  expect(e.services.every((s) => s.status === 'unchanged')).toBe(true);
});

test('with one service left rolling out, the sentence is singular', async () => {
  // Only api's image changes: the release moves api alone.
  const { error } = await cancelledRelease((ecs) => ecs.count('UpdateService') === 1, {
    images: [{ line: 'web=reg/web:v2', container: 'web', value: 'reg/web:v2' }],
  });
  const e = error as ReleaseCancelledError;
  expect(e.message).toBe(
    'the workflow was cancelled (SIGTERM) while following the release: api (api:1 → api:2) goes on rolling out in ECS, no longer followed and not rolled back. Unchanged: worker, cron.',
  );
});

test('a release cancelled while it rolls back says which rollbacks were left unfollowed', async () => {
  // The worker crashes; api is rolled back; the cancel comes with the rollback's UpdateService.
  const { error, ecs } = await cancelledRelease((e) => e.count('UpdateService') === 3);
  expect(ecs.count('UpdateService')).toBeGreaterThanOrEqual(3);
  expect(error).toBeInstanceOf(ReleaseCancelledError);
  const e = error as ReleaseCancelledError;
  expect(e.message).toMatch(
    /^the workflow was cancelled \(SIGTERM\) while rolling back after worker failed: api \(to api:1\)(, worker \(to worker:1\))? go on rolling back in ECS, no longer followed\./,
  );
});
