import { CancelledError } from '../../../packages/kit/src/errors';
import { rollback, type RollbackResult } from '../../../packages/ecs/src/rollback';
import type { DeployLog } from '../../../packages/ecs/src/service';
import {
  crashedTask,
  FakeClock,
  FakeEcs,
  rolling,
  serverError,
  service,
  SD,
  T0,
  TD1,
  TD2,
  type Moment,
} from './fake-ecs';

/** The service runs web:2; the rollback goes to web:1. */
const initial = service([rolling(TD2, 'COMPLETED', 2, 2, { status: 'PRIMARY' })]);

async function rollBack(
  script: (ms: number) => Moment,
  prepare: (ecs: FakeEcs) => void = () => undefined,
  signal?: AbortSignal,
): Promise<{ result: RollbackResult; ecs: FakeEcs; lines: string[] }> {
  const clock = new FakeClock();
  const ecs = new FakeEcs(clock, script, initial);
  prepare(ecs);
  const lines: string[] = [];
  const log: DeployLog = {
    info: (m) => lines.push(m),
    debug: () => undefined,
    warning: (m) => lines.push(`warning: ${m}`),
    group: (_n, fn) => fn(),
  };
  const result = await rollback({
    api: ecs.api,
    service: 'web',
    to: { kind: 'arn', value: TD1 },
    waitUntil: 'stable',
    timeoutMs: 60_000,
    log,
    clock,
    signal,
  });
  return { result, ecs, lines };
}

const onWeb1 = (running: number, pending: number): Moment['service'] =>
  service([rolling(TD1, 'COMPLETED', running, 2, { status: 'PRIMARY', pendingCount: pending })]);

describe('rollback follows its own deployment with the same verdict as a deploy', () => {
  test('settled on the target: succeeded, and `reason` is the one sentence', async () => {
    const { result } = await rollBack(() => ({ service: onWeb1(2, 0) }));
    expect(result.status).toBe('succeeded');
    expect(result.reason).toBe('Rolled back web from web:2 to web:1.');
  });

  test('the target crashes at start: failed with the exit code, never "rolled back"', async () => {
    const { result } = await rollBack((ms) => ({
      service: onWeb1(0, 2),
      stopped: [crashedTask('a1', 3, T0 + Math.min(ms, 100), undefined, TD1)],
    }));
    expect(result.status).toBe('failed');
    expect(result.reason).toBe(
      'The rollback to web:1 failed: tasks of web:1 stopped on their own (1 task stopped: Essential container in task exited (web: exit code 3)).',
    );
  });

  test('500s until the deadline: status unknown with the last state seen', async () => {
    const { result } = await rollBack(
      () => ({ service: onWeb1(1, 1) }),
      (ecs) => {
        let seen = 0;
        Object.defineProperty(ecs.failures, 'DescribeServices', {
          get: () => (++seen > 2 ? [serverError()] : []),
        });
      },
    );
    expect(result.status).toBe('unknown');
    expect(result.reason).toMatch(
      /^Could not tell how the rollback to web:1 ended: reading it failed \d+ time\(s\) in a row until the deadline \(last error: We encountered an internal error\. Please try again\.\); the last state seen was COMPLETED · waiting for the service to settle · 1\/2 running, 1 pending\.$/,
    );
  });

  test('the mark on the revision left is written after the update and names the rollback deployment', async () => {
    const { ecs } = await rollBack(() => ({ service: onWeb1(2, 0) }));
    const ops = ecs.calls.map((c) => c.op);
    expect(ops.indexOf('TagResource')).toBeGreaterThan(ops.indexOf('UpdateService'));
    const tagged = ecs.calls.find((c) => c.op === 'TagResource')?.input;
    expect(tagged).toMatchObject({
      resourceArn: TD2,
      tags: expect.arrayContaining([
        { key: 'shipkit:rolled-back-to', value: 'web:1' },
        { key: 'shipkit:rolled-back-by', value: SD },
      ]),
    });
  });

  test('a cancel during the look that would read success wins: it throws, never `succeeded`', async () => {
    const controller = new AbortController();
    await expect(
      rollBack(
        (ms) => {
          if (ms > 0) controller.abort(new CancelledError('the workflow was cancelled (SIGTERM)'));
          return { service: onWeb1(2, 0) };
        },
        undefined,
        controller.signal,
      ),
    ).rejects.toThrow('the workflow was cancelled (SIGTERM)');
  });
});
