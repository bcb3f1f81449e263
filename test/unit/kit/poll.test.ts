import { CancelledError } from '../../../packages/kit/src/errors';
import {
  DeadlineExceededError,
  poll,
  type Clock,
  type PollStep,
} from '../../../packages/kit/src/poll';

/** A clock whose sleeps advance time at once and are recorded. */
function fakeClock(): Clock & { sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(Math.round(ms));
      now += ms;
    },
  };
}

const notYet: PollStep<never> = { done: false };
const throttled = Object.assign(new Error('Rate exceeded'), {
  name: 'ThrottlingException',
  $metadata: {},
});

describe('poll', () => {
  test('backs off by the factor up to the maximum wait', async () => {
    const clock = fakeClock();
    let n = 0;
    const value = await poll(async () => (++n === 6 ? { done: true, value: 'ok' } : notYet), {
      deadline: 1e9,
      initialDelayMs: 100,
      maxDelayMs: 300,
      factor: 2,
      jitter: 0,
      clock,
    });
    expect(value).toBe('ok');
    expect(clock.sleeps).toEqual([100, 200, 300, 300, 300]);
  });

  test('a step may ask for its next wait', async () => {
    const clock = fakeClock();
    let n = 0;
    await poll(async () => (++n === 3 ? { done: true, value: 1 } : { done: false, delayMs: 50 }), {
      deadline: 1e9,
      initialDelayMs: 1000,
      jitter: 0,
      clock,
    });
    expect(clock.sleeps).toEqual([50, 50]);
  });

  test('jitter spreads each wait within the share given', async () => {
    const clock = fakeClock();
    let n = 0;
    await poll(async () => (++n === 3 ? { done: true, value: 1 } : notYet), {
      deadline: 1e9,
      initialDelayMs: 1000,
      factor: 1,
      jitter: 0.2,
      clock,
      random: () => 1,
    });
    expect(clock.sleeps).toEqual([1200, 1200]);
  });

  test('throttling errors double the wait and polling goes on', async () => {
    const clock = fakeClock();
    const seen: number[] = [];
    let n = 0;
    const value = await poll(
      async () => {
        n++;
        if (n <= 2) throw throttled;
        return { done: true, value: n };
      },
      { deadline: 1e9, initialDelayMs: 100, jitter: 0, clock, onThrottle: (_e, d) => seen.push(d) },
    );
    expect(value).toBe(3);
    expect(clock.sleeps).toEqual([200, 400]);
    expect(seen).toEqual([200, 400]);
  });

  test('other errors propagate', async () => {
    await expect(
      poll(async () => Promise.reject(new Error('boom')), { deadline: 1e9, clock: fakeClock() }),
    ).rejects.toThrow('boom');
  });

  test('never sleeps past the deadline and checks once more at it', async () => {
    const clock = fakeClock();
    let n = 0;
    const attempt = poll(async () => (n++, notYet), {
      deadline: 250,
      initialDelayMs: 100,
      factor: 2,
      jitter: 0,
      clock,
      what: 'the rollout',
    });
    await expect(attempt).rejects.toThrow(DeadlineExceededError);
    await expect(attempt).rejects.toThrow(
      'Gave up waiting for the rollout: the deadline passed after 3 checks.',
    );
    expect(clock.sleeps).toEqual([100, 150]);
    expect(n).toBe(3);
  });

  test('an aborted signal stops polling with its reason', async () => {
    const controller = new AbortController();
    controller.abort(new CancelledError('stop now'));
    await expect(
      poll(async () => notYet, { deadline: 1e9, signal: controller.signal }),
    ).rejects.toThrow('stop now');
  });

  test('a real sleep is cut short by abort', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new CancelledError('cancelled')), 20);
    await expect(
      poll(async () => notYet, {
        deadline: Date.now() + 60_000,
        initialDelayMs: 30_000,
        signal: controller.signal,
      }),
    ).rejects.toThrow(CancelledError);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
