import { parseStatusRanges } from '../../../packages/health/src/expectations';
import { runGate, type SignalCheck, type SignalReading } from '../../../packages/health/src/gate';
import { startFixture, type Fixture } from '../../support/http-fixture';

let service: Fixture;
beforeAll(async () => (service = await startFixture(() => ({}))));
afterAll(() => service.close());

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

function gate(signals: SignalCheck[], observeMs = 0, timeoutMs = 3000): ReturnType<typeof runGate> {
  return runGate({
    targets: [{ url: service.url, displayUrl: service.url, method: 'GET', headers: {} }],
    expectations: { status: parseStatusRanges('200-299')!, json: [] },
    healthyThreshold: 2,
    unhealthyThreshold: 2,
    intervalMs: 50,
    requestTimeoutMs: 1000,
    timeoutMs,
    observeMs,
    signals,
  });
}

describe('gate with AWS signals', () => {
  test('waits for a signal that is not ready yet, then passes', async () => {
    const result = await gate([scripted('tg', ['not-ready', 'not-ready', 'not-ready', 'ok'])]);
    expect(result.healthy).toBe(true);
    expect(result.signals).toEqual([
      expect.objectContaining({ name: 'tg', verdict: 'ok', readings: 4 }),
    ]);
  });

  test('a failed reading fails the gate at once with its detail', async () => {
    const result = await gate([scripted('alarm', ['ok', 'failed'])], 2000);
    expect(result.healthy).toBe(false);
    expect(result.reason).toBe('alarm reading 2 failed');
    expect(result.durationMs).toBeLessThan(2000);
  });

  test('a signal that was ready and stays not-ready for unhealthy-threshold readings fails the gate', async () => {
    const result = await gate([scripted('tg', ['ok', 'not-ready', 'not-ready'])], 2000);
    expect(result.healthy).toBe(false);
    expect(result.reason).toBe('tg reading 3 not-ready (2 readings in a row)');
  });

  test('a signal never ready fails at the deadline, naming it', async () => {
    const result = await gate([scripted('tg', ['not-ready'])], 0, 400);
    expect(result.healthy).toBe(false);
    expect(result.reason).toMatch(/^tg reading \d+ not-ready — not ready within 400ms\.$/);
    expect(result.signals[0].verdict).toBe('not ready in time');
  });

  test('a signal that throws fails the gate saying it could not be read', async () => {
    const broken: SignalCheck = {
      name: 'tg',
      check: async () => Promise.reject(new Error('TargetGroupNotFound: nope')),
    };
    const result = await gate([broken]);
    expect(result.reason).toBe('tg could not be read: TargetGroupNotFound: nope');
  });
});
