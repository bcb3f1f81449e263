import { parseStatusRanges } from '../../../packages/health/src/expectations';
import {
  runGate,
  type GateResult,
  type SignalCheck,
  type SignalReading,
} from '../../../packages/health/src/gate';
import { fakeProber, OK } from './fake-prober';
import { VirtualClock } from './virtual-clock';

/** A signal that gives the scripted readings in turn, then repeats the last one. */
function scripted(name: string, readings: SignalReading['state'][]): SignalCheck {
  let i = 0;
  return {
    name,
    check: async () => {
      const state = readings[Math.min(i++, readings.length - 1)];
      return { state, detail: `${name} reading ${i} ${state}` };
    },
  };
}

/** A gate on one healthy URL probed every 50ms (clock time), plus `signals`. */
function gate(signals: SignalCheck[], observeMs = 0, timeoutMs = 3000): Promise<GateResult> {
  const clock = new VirtualClock();
  return clock.run(
    runGate({
      targets: [
        { url: 'http://svc/health', displayUrl: 'http://svc/health', method: 'GET', headers: {} },
      ],
      expectations: { status: parseStatusRanges('200-299')!, json: [] },
      healthyThreshold: 2,
      unhealthyThreshold: 2,
      intervalMs: 50,
      requestTimeoutMs: 1000,
      timeoutMs,
      startPeriodMs: 0,
      observeMs,
      signals,
      clock,
      prober: fakeProber(clock, () => OK),
    }),
  );
}

describe('gate with AWS signals', () => {
  test('waits for a signal that is not ready yet, then passes', async () => {
    const result = await gate([scripted('tg', ['not-ready', 'not-ready', 'not-ready', 'ok'])]);
    expect(result.healthy).toBe(true);
    expect(result.signals).toEqual([
      expect.objectContaining({ name: 'tg', verdict: 'ok', readings: 4 }),
    ]);
    expect(result.durationMs).toBe(150);
  });

  test('a failed reading fails the gate at once with its detail, not at the end of observation', async () => {
    const result = await gate([scripted('alarm', ['ok', 'failed'])], 2000);
    expect(result.healthy).toBe(false);
    expect(result.reason).toBe('alarm reading 2 failed');
    // The second reading, one 50ms interval after the start; observation would end at 2050ms.
    expect(result.durationMs).toBe(50);
  });

  test('a signal that was ready and stays not-ready for unhealthy-threshold readings fails the gate', async () => {
    const result = await gate([scripted('tg', ['ok', 'not-ready', 'not-ready'])], 2000);
    expect(result.healthy).toBe(false);
    expect(result.reason).toBe('tg reading 3 not-ready (2 readings in a row)');
    expect(result.durationMs).toBe(100);
  });

  test('a signal unhealthy from the start (never ready) fails after unhealthy-threshold readings, not at the deadline', async () => {
    const result = await gate([scripted('tg', ['not-ready', 'unhealthy', 'unhealthy'])], 0, 3000);
    expect(result.healthy).toBe(false);
    expect(result.reason).toBe('tg reading 3 unhealthy (2 readings in a row)');
    expect(result.signals[0].verdict).toBe('failed');
    expect(result.durationMs).toBe(100);
  });

  test('unhealthy readings that are not in a row do not fail a signal that was never ready', async () => {
    const result = await gate([
      scripted('tg', ['unhealthy', 'not-ready', 'unhealthy', 'not-ready', 'ok']),
    ]);
    expect(result.healthy).toBe(true);
    expect(result.signals[0]).toEqual(expect.objectContaining({ verdict: 'ok', readings: 5 }));
  });

  test('unhealthy readings during the start period do not count', async () => {
    const clock = new VirtualClock();
    const result = await clock.run(
      runGate({
        targets: [
          { url: 'http://svc/health', displayUrl: 'http://svc/health', method: 'GET', headers: {} },
        ],
        expectations: { status: parseStatusRanges('200-299')!, json: [] },
        healthyThreshold: 2,
        unhealthyThreshold: 2,
        intervalMs: 50,
        requestTimeoutMs: 1000,
        timeoutMs: 3000,
        startPeriodMs: 120,
        observeMs: 0,
        signals: [scripted('tg', ['unhealthy', 'unhealthy', 'unhealthy', 'ok'])],
        clock,
        prober: fakeProber(clock, () => OK),
      }),
    );
    expect(result.healthy).toBe(true);
  });

  test('a signal never ready fails at the deadline, naming it', async () => {
    const result = await gate([scripted('tg', ['not-ready'])], 0, 400);
    expect(result.healthy).toBe(false);
    expect(result.reason).toBe('tg reading 8 not-ready — not ready within 400ms.');
    expect(result.signals[0].verdict).toBe('not ready in time');
    expect(result.durationMs).toBe(400);
  });

  test('a signal that throws fails the gate saying it could not be read', async () => {
    const broken: SignalCheck = {
      name: 'tg',
      check: async () => Promise.reject(new Error('TargetGroupNotFound: nope')),
    };
    const result = await gate([broken]);
    expect(result.reason).toBe('tg could not be read: TargetGroupNotFound: nope');
  });

  test('a reading whose detail carries line breaks and runner commands is reported on one line, defused', async () => {
    const planted: SignalCheck = {
      name: 'alarm',
      check: async () => ({
        state: 'failed',
        detail:
          'CloudWatch alarm api-5xx is in ALARM: x\n::set-output name=healthy::true\n::add-mask::x',
      }),
    };
    const result = await gate([planted]);
    expect(result.reason).not.toMatch(/[\r\n]/);
    expect(result.reason).toBe(
      'CloudWatch alarm api-5xx is in ALARM: x ⏎ ::set-output name=healthy::true ⏎ ::add-mask::x',
    );
  });
});
