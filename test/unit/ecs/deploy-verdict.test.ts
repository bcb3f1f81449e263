import type { Service } from '@aws-sdk/client-ecs';
import { CancelledError } from '../../../packages/kit/src/errors';
import { deploy, type DeployResult } from '../../../packages/ecs/src/deploy';
import type { DeployLog } from '../../../packages/ecs/src/service';
import {
  crashedTask,
  event,
  FakeClock,
  FakeEcs,
  rolling,
  serverError,
  service,
  TD1,
  T0,
  TD2,
  type Moment,
} from './fake-ecs';

/** A log that keeps its lines. */
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

const breakerOn = {
  deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
};

interface Run {
  result: DeployResult;
  ecs: FakeEcs;
  log: string[];
  clock: FakeClock;
}

async function run(
  script: (ms: number) => Moment,
  opts: {
    initial?: Partial<Service>;
    timeoutMs?: number;
    prepare?: (ecs: FakeEcs) => void;
    drainMs?: number;
    signal?: AbortSignal;
  } = {},
): Promise<Run> {
  const clock = new FakeClock();
  const initial = service([rolling(TD1, 'COMPLETED', 2, 2, { status: 'PRIMARY' })], {
    ...opts.initial,
  });
  const ecs = new FakeEcs(clock, script, initial);
  opts.prepare?.(ecs);
  const log = memoryLog();
  const result = await deploy({
    api: ecs.api,
    cluster: 'apps',
    service: 'web',
    source: { kind: 'current' },
    images: new Map([['web', 'registry.example/web:v2']]),
    environment: new Map(),
    waitUntil: 'stable',
    timeoutMs: opts.timeoutMs ?? 10 * 60_000,
    dryRun: false,
    provenance: {},
    log,
    clock,
    signal: opts.signal,
    deregistrationDelayMs:
      opts.drainMs === undefined ? undefined : () => Promise.resolve(opts.drainMs),
  });
  return { result, ecs, log: log.lines, clock };
}

/** ECS completes the deployment at once, and the service's counts follow `counts(ms)`. */
function completedWith(
  counts: (ms: number) => { running: number; pending: number },
  stopped: (ms: number) => Moment['stopped'] = () => [],
  extra: Partial<Service> = {},
): (ms: number) => Moment {
  return (ms) => {
    const c = counts(ms);
    return {
      service: service(
        [
          rolling(TD2, 'COMPLETED', c.running, 2, {
            pendingCount: c.pending,
            rolloutStateReason: 'ECS deployment ecs-svc/2 completed.',
          }),
        ],
        extra,
      ),
      stopped: stopped(ms),
    };
  };
}

describe('deploy: success needs ECS completion and the counts settled on the new revision', () => {
  test('completed and settled: succeeded, and the sentence states the true counts', async () => {
    const { result } = await run(completedWith(() => ({ running: 2, pending: 0 })));
    expect(result.status).toBe('succeeded');
    expect(result.reason).toBe('web:2 is deployed and stable (2/2 running).');
  });

  test('a clean success costs no stopped-task lookup', async () => {
    const { ecs } = await run(completedWith(() => ({ running: 2, pending: 0 })));
    expect(ecs.count('ListTasks')).toBe(0);
  });

  test('completed while tasks are still starting: keeps following until the counts agree', async () => {
    const { result, log } = await run(
      completedWith((ms) => (ms < 6000 ? { running: 1, pending: 1 } : { running: 2, pending: 0 })),
    );
    expect(result.status).toBe('succeeded');
    expect(result.reason).toBe('web:2 is deployed and stable (2/2 running).');
    expect(log).toContain('COMPLETED · waiting for the service to settle · 1/2 running, 1 pending');
  });

  test('completed but never settled and nothing stopped: times out saying the counts, never "stable"', async () => {
    const { result } = await run(
      completedWith(() => ({ running: 1, pending: 1 })),
      { timeoutMs: 60_000 },
    );
    expect(result.status).toBe('timed-out');
    expect(result.reason).toBe(
      'Timed out after 1m 00s: ECS marked the deployment of web:2 COMPLETED, but the service has not settled on it (1/2 running, 1 pending). The service runs web:2.',
    );
  });
});

describe('deploy: a task of the new revision that stops on its own fails the deploy', () => {
  test.each<[string, Partial<Service>, RegExp]>([
    [
      'without a circuit breaker',
      {},
      /^The deployment of web:2 failed: tasks of web:2 stopped on their own \(2 tasks stopped: Essential container in task exited \(web: exit code 1\) ×2\)\. ECS marked the deployment of web:2 COMPLETED, but the service has not settled on it \(0\/2 running, 2 pending\)\. The service runs web:2\.$/,
    ],
    [
      'with the circuit breaker on (ECS completed the deployment, so it rolls nothing back)',
      breakerOn,
      /the circuit breaker does not act on a completed deployment, so nothing was rolled back\./,
    ],
  ])(
    'ECS says COMPLETED, the tasks exit 1 at once (%s): failed with the exit code',
    async (_name, extra, reason) => {
      const { result } = await run(
        completedWith(
          () => ({ running: 0, pending: 2 }),
          (ms) => [crashedTask('a1', 1, T(ms, 200)), crashedTask('b2', 1, T(ms, 300))],
          extra,
        ),
        { initial: extra },
      );
      expect(result.status).toBe('failed');
      expect(result.reason).toMatch(reason);
      expect(result.reason).not.toMatch(/deployed and stable/);
      expect(result.stoppedTasks.map((t) => t.containers[0].exitCode)).toEqual([1, 1]);
    },
  );

  test('a look that catches the replacements running (2/2) is not a success when tasks of the revision stopped on their own', async () => {
    const { result } = await run(
      completedWith(
        () => ({ running: 2, pending: 0 }),
        (ms) => [crashedTask('a1', 1, T(ms, 200))],
        {
          events: [
            event('s1', T0 + 10, 'has started 2 tasks: (task a1) (task b2).'),
            event('s2', T0 + 300, 'has started 1 tasks: (task c3).'),
          ],
        },
      ),
    );
    expect(result.status).toBe('failed');
    expect(result.reason).toBe(
      'The deployment of web:2 failed: tasks of web:2 stopped on their own (1 task stopped: Essential container in task exited (web: exit code 1)). ECS marked the deployment of web:2 COMPLETED while its tasks kept stopping and being replaced. The service runs web:2.',
    );
  });

  test('in progress, circuit breaker with rollback on: ECS rolls back and the result says so, with the exit code', async () => {
    const { result } = await run(
      (ms) =>
        ms < 8000
          ? {
              service: service(
                [
                  rolling(TD2, 'IN_PROGRESS', ms < 3000 ? 1 : 0, 2, {
                    failedTasks: ms < 3000 ? 0 : 1,
                  }),
                  rolling(TD1, 'COMPLETED', 2, 0),
                ],
                breakerOn,
              ),
              stopped: ms < 3000 ? [] : [crashedTask('a1', 137, T(ms, 2000))],
            }
          : {
              service: service([rolling(TD1, 'COMPLETED', 2, 2, { status: 'PRIMARY' })], breakerOn),
              deployment: {
                serviceDeploymentArn: 'sd2',
                status: 'ROLLBACK_SUCCESSFUL',
                rollback: { reason: 'ECS deployment circuit breaker: tasks failed to start.' },
              },
              stopped: [crashedTask('a1', 137, T(ms, 2000))],
            },
      { initial: breakerOn },
    );
    expect(result.status).toBe('rolled-back');
    expect(result.reason).toMatch(
      /^The deployment of web:2 failed and was rolled back \(ECS deployment circuit breaker: tasks failed to start\): 1 task stopped: Essential container in task exited \(web: exit code 137\)\. The service is back on web:1\.$/,
    );
  });

  test('in progress without a circuit breaker: fails at the first crash instead of waiting', async () => {
    const { result, clock } = await run((ms) => ({
      service: service([
        rolling(TD2, 'IN_PROGRESS', ms < 3000 ? 1 : 0, 2, { failedTasks: ms < 3000 ? 0 : 1 }),
        rolling(TD1, 'COMPLETED', 2, 0),
      ]),
      stopped:
        ms < 3000 ? [] : [crashedTask('a1', 2, T(ms, 2500), 'Essential container in task exited')],
    }));
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/exit code 2/);
    expect(result.reason).toMatch(/no circuit breaker with rollback: nothing was rolled back/);
    expect(clock.now() - result.startedAt).toBeLessThan(60_000);
  });
});

/** Epoch ms of `ms` after the start of the script, at most `at`. */
function T(ms: number, at: number): number {
  return Date.UTC(2026, 0, 1) + Math.min(ms, at);
}

describe('deploy: transient errors while following', () => {
  test('seven 500s in a row on DescribeServices: keeps following and the completed deployment succeeds', async () => {
    const { result, log } = await run(
      completedWith((ms) => (ms < 5000 ? { running: 1, pending: 1 } : { running: 2, pending: 0 })),
      {
        prepare: (ecs) => {
          // Call 1 reads the service before the update; calls 2 to 8 (the follow's) fail.
          let seen = 0;
          Object.defineProperty(ecs.failures, 'DescribeServices', {
            get: () => (++seen > 1 && seen <= 8 ? [serverError()] : []),
          });
        },
      },
    );
    expect(result.status).toBe('succeeded');
    expect(log.filter((l) => l.startsWith('Could not read the rollout'))).toHaveLength(7);
  });

  test('500s until the deadline: status unknown, with the last state seen and the error', async () => {
    const { result } = await run(
      completedWith(() => ({ running: 1, pending: 1 })),
      {
        timeoutMs: 60_000,
        prepare: (ecs) => {
          let seen = 0;
          Object.defineProperty(ecs.failures, 'DescribeServices', {
            get: () => (++seen > 3 ? [serverError()] : []),
          });
        },
      },
    );
    expect(result.status).toBe('unknown');
    expect(result.reason).toMatch(
      /^Could not tell how the deployment of web:2 ended: reading it failed \d+ time\(s\) in a row until the deadline \(last error: We encountered an internal error\. Please try again\.\); the last state seen was COMPLETED · waiting for the service to settle · 1\/2 running, 1 pending\.$/,
    );
  });

  test('ListTasks failing while ECS rolls back: the verdict stays rolled-back', async () => {
    const { result, log } = await run(
      () => ({
        service: service([rolling(TD1, 'COMPLETED', 2, 2, { status: 'PRIMARY' })], breakerOn),
        deployment: {
          serviceDeploymentArn: 'sd2',
          status: 'ROLLBACK_SUCCESSFUL',
          rollback: { reason: 'ECS deployment circuit breaker: tasks failed to start.' },
        },
      }),
      {
        initial: breakerOn,
        prepare: (ecs) => (ecs.failAlways.ListTasks = serverError('ListTasks')),
      },
    );
    expect(result.status).toBe('rolled-back');
    expect(result.reason).toMatch(/failed and was rolled back/);
    expect(log.some((l) => l.startsWith('warning: Could not read the stopped tasks'))).toBe(true);
  });

  test('an error that is not transient (access denied) still ends the deploy at once', async () => {
    const denied = Object.assign(new Error('not authorized'), {
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(
      run(
        completedWith(() => ({ running: 2, pending: 0 })),
        {
          prepare: (ecs) => {
            let seen = 0;
            Object.defineProperty(ecs.failures, 'DescribeServices', {
              get: () => (++seen > 1 ? [denied] : []),
            });
          },
        },
      ),
    ).rejects.toThrow('not authorized');
  });
});

describe('deploy: a cancel wins over the answer in flight', () => {
  test('aborted while the completing DescribeServices is answered: throws the cancel, never succeeded', async () => {
    const controller = new AbortController();
    const promise = run(
      (ms) => {
        if (ms > 0) controller.abort(new CancelledError('the workflow was cancelled (SIGTERM)'));
        return completedWith(() => ({ running: 2, pending: 0 }))(ms);
      },
      { signal: controller.signal },
    );
    await expect(promise).rejects.toThrow('the workflow was cancelled (SIGTERM)');
  });
});

describe('deploy: following a slow rollout', () => {
  const DRAIN = 60_000;
  /** New tasks healthy at 10 s, old targets drain from 12 s for 60 s, completion at 73 s. */
  const drainScript = (ms: number): Moment => {
    const events = [event('e1', T(ms, 2000), 'has started 2 tasks: (task a) (task b).')];
    if (ms >= 12_000)
      events.push(event('e2', T0 + 12_000, 'has begun draining connections on 2 tasks.'));
    if (ms < 73_000)
      return {
        service: service(
          [
            rolling(TD2, 'IN_PROGRESS', ms < 10_000 ? 0 : 2, 2),
            rolling(TD1, 'COMPLETED', 2, 0, { pendingCount: 0 }),
          ],
          { loadBalancers: [{ targetGroupArn: 'arn:tg/web' }] },
          events,
        ),
        deployment: {
          serviceDeploymentArn: 'sd2',
          status: 'IN_PROGRESS',
          lifecycleStage: ms < 12_000 ? 'SCALE_UP' : 'CLEAN_UP',
        },
      };
    return {
      service: service(
        [rolling(TD2, 'COMPLETED', 2, 2)],
        { loadBalancers: [{ targetGroupArn: 'arn:tg/web' }] },
        [...events, event('e3', T0 + 73_000, 'has reached a steady state.')],
      ),
    };
  };

  test('a 60 s drain: said once with the delay, at most 12 ECS calls a minute, completion noticed within 2.5 s', async () => {
    const { result, ecs, log, clock } = await run(drainScript, { drainMs: DRAIN });
    expect(result.status).toBe('succeeded');
    const drainFrom = ecs.startedAt + 12_000;
    const completedAt = ecs.startedAt + 73_000;
    const calls = ecs.count('*', drainFrom, completedAt);
    expect(calls / ((completedAt - drainFrom) / 60_000)).toBeLessThanOrEqual(12);
    const lastLook = Math.max(...ecs.calls.map((c) => c.at));
    expect(lastLook - completedAt).toBeLessThanOrEqual(2500);
    expect(clock.now() - completedAt).toBeLessThanOrEqual(2500);
    expect(log.filter((l) => l.startsWith('Draining'))).toEqual([
      expect.stringMatching(/deregistration delay is 1m 00s/),
    ]);
  });

  test('the status line does not alternate between the stage and no stage while draining', async () => {
    const { log } = await run(drainScript, { drainMs: DRAIN });
    const progress = log.filter((l) => l.startsWith('IN_PROGRESS'));
    // Each progress line is printed when the progress changes: a line seen twice means it alternated.
    expect(new Set(progress).size).toBe(progress.length);
    expect(progress.length).toBeLessThanOrEqual(3);
  });

  test('a drain that ends long before its delay (targets deregistered early) is still noticed within seconds', async () => {
    const early = (ms: number): Moment => drainScript(ms < 17_000 ? ms : 73_000 + ms);
    const { result, ecs, clock } = await run(early, { drainMs: DRAIN });
    expect(result.status).toBe('succeeded');
    expect(clock.now() - (ecs.startedAt + 17_000)).toBeLessThanOrEqual(8000);
  });

  test('without a readable deregistration delay, the usual pace still notices completion', async () => {
    const { result, ecs, clock } = await run(drainScript);
    expect(result.status).toBe('succeeded');
    expect(clock.now() - (ecs.startedAt + 73_000)).toBeLessThanOrEqual(3000);
  });
});

describe('deploy: following a blue/green bake', () => {
  const BAKE_MIN = 10;
  const bg = {
    deploymentConfiguration: { strategy: 'BLUE_GREEN' as const, bakeTimeInMinutes: BAKE_MIN },
  };
  /** Traffic shifted at 20 s, baking 10 min, clean-up, completion at 20 s + 10 min + 5 s. */
  const done = 20_000 + BAKE_MIN * 60_000 + 5000;
  const bakeScript = (ms: number): Moment => {
    const stage = ms < 20_000 ? 'SCALE_UP' : ms < done - 5000 ? 'BAKE_TIME' : 'CLEAN_UP';
    if (ms < done)
      return {
        service: service([rolling(TD2, 'IN_PROGRESS', 2, 2), rolling(TD1, 'COMPLETED', 2, 2)], bg),
        deployment: {
          serviceDeploymentArn: 'sd2',
          status: 'IN_PROGRESS',
          lifecycleStage: stage,
          updatedAt: new Date(T0 + (stage === 'BAKE_TIME' ? 20_000 : 0)),
          deploymentConfiguration: { bakeTimeInMinutes: BAKE_MIN },
        },
      };
    return {
      service: service([rolling(TD2, 'COMPLETED', 2, 2)], bg),
      deployment: { serviceDeploymentArn: 'sd2', status: 'SUCCESSFUL' },
    };
  };

  test('said once with the bake time, few calls while baking, completion noticed within 2.5 s', async () => {
    const { result, ecs, log, clock } = await run(bakeScript, {
      initial: bg,
      timeoutMs: 30 * 60_000,
    });
    expect(result.status).toBe('succeeded');
    expect(log.filter((l) => l.startsWith('Baking'))).toEqual([
      expect.stringMatching(/^Baking for 10m 00s: nothing changes for about /),
    ]);
    const bakeFrom = ecs.startedAt + 20_000;
    const bakeEnd = ecs.startedAt + done - 5000;
    expect(ecs.count('*', bakeFrom, bakeEnd) / ((bakeEnd - bakeFrom) / 60_000)).toBeLessThanOrEqual(
      12,
    );
    expect(clock.now() - (ecs.startedAt + done)).toBeLessThanOrEqual(2500);
  });
});
