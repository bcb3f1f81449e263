import { parseStatusRanges } from '../../../packages/health/src/expectations';
import { runGate, type GateOptions, type GateResult } from '../../../packages/health/src/gate';
import {
  flapLimit,
  newUrlState,
  recordProbe,
  type UrlRules,
} from '../../../packages/health/src/url-state';
import { E503, fakeProber, OK, REFUSED, type Answer } from './fake-prober';
import { VirtualClock } from './virtual-clock';

const DEFAULTS: UrlRules = { healthyThreshold: 2, unhealthyThreshold: 3, startPeriodMs: 0 };

/**
 * Feeds `sequence` (`S` a pass, `F` a failure) to the rules, one probe every second from 0s, and
 * lists what changed as `<probe number>:<healthy|failed>`, stopping at the first failure.
 */
function judge(rules: UrlRules, sequence: string): { changes: string[]; reason?: string } {
  const state = newUrlState('http://svc/health', rules);
  const changes: string[] = [];
  for (const [i, c] of [...sequence].entries()) {
    const ok = c === 'S';
    const change = recordProbe(
      state,
      { time: '', url: state.url, latencyMs: 1, ok, error: ok ? undefined : 'status 503' },
      i * 1000,
      rules,
    );
    if (change) changes.push(`${i + 1}:${change.kind}`);
    if (change?.kind === 'failed') return { changes, reason: change.reason };
  }
  return { changes };
}

describe('the rules that judge one URL', () => {
  test.each<[string, Partial<UrlRules>, string, string[], RegExp?]>([
    [
      'failures count from the first probe by default',
      {},
      'FFF',
      ['3:failed'],
      /^http:\/\/svc\/health never became healthy: 3 consecutive probes failed \(status 503\)\.$/,
    ],
    ['two passes in a row make it healthy', {}, 'FFSS', ['4:healthy']],
    [
      'a healthy URL that fails unhealthy-threshold times in a row fails',
      {},
      'SSFFF',
      ['2:healthy', '5:failed'],
      /became unhealthy: 3 consecutive probes failed/,
    ],
    [
      'a 1:1 flapping URL starting with a failure fails at its 6th failure, probe 11',
      {},
      'FSFSFSFSFSFSFS',
      ['11:failed'],
      /never became healthy: it flaps, 6 of 11 probes failed and it never passed 2 in a row \(status 503\)\.$/,
    ],
    [
      'a 1:1 flapping URL starting with a pass fails at probe 12',
      {},
      'SFSFSFSFSFSFSF',
      ['12:failed'],
      /it flaps, 6 of 12 probes failed/,
    ],
    [
      'a 1:2 flapping URL (two failures, one pass) fails at its 6th failure',
      {},
      'FFSFFSFFSFF',
      ['8:failed'],
      /it flaps, 6 of 8 probes failed/,
    ],
    [
      '3 failures then healthy passes with unhealthy-threshold 5',
      { unhealthyThreshold: 5 },
      'FFFSS',
      ['5:healthy'],
    ],
    [
      'a start period of 3s does not count the probes sent at 0s, 1s and 2s',
      { startPeriodMs: 3000 },
      'FFFSS',
      ['5:healthy'],
    ],
    [
      'after the start period, unhealthy-threshold failures in a row fail',
      { startPeriodMs: 3000 },
      'FFFFFFFF',
      ['6:failed'],
      /never became healthy: 3 consecutive probes failed after the start period of 3s/,
    ],
    [
      'a first success ends the start period early, as in Docker and ECS',
      { startPeriodMs: 60_000 },
      'FSFFF',
      ['5:failed'],
      /3 consecutive probes failed after the start period of 1m 00s/,
    ],
    [
      'with a start period, a flapping URL fails once flap-limit counted probes failed',
      { startPeriodMs: 60_000 },
      'FFSFSFSFSFSFSFS',
      ['14:failed'],
      /it flaps, 6 of 12 probes failed after the start period/,
    ],
    ['healthy-threshold 1 takes the first pass', { healthyThreshold: 1 }, 'FFS', ['3:healthy']],
  ])('%s', (_name, rules, sequence, changes, reason = /^$/) => {
    const result = judge({ ...DEFAULTS, ...rules }, sequence);
    expect(result.changes).toEqual(changes);
    expect(result.reason ?? '').toMatch(reason);
  });

  test('the flap limit is twice unhealthy-threshold', () => {
    expect(flapLimit({ unhealthyThreshold: 3 })).toBe(6);
    expect(flapLimit({ unhealthyThreshold: 5 })).toBe(10);
  });
});

const URL_A = 'http://svc/health';

function gateOn(
  script: (n: number, url: string) => Answer,
  options: Partial<GateOptions> = {},
  urls = [URL_A],
): Promise<GateResult & { sent: Map<string, number> }> {
  const clock = new VirtualClock();
  const prober = fakeProber(clock, script, 20);
  return clock
    .run(
      runGate({
        targets: urls.map((url) => ({ url, displayUrl: url, method: 'GET', headers: {} })),
        expectations: { status: parseStatusRanges('200-299')!, json: [] },
        healthyThreshold: 2,
        unhealthyThreshold: 3,
        intervalMs: 5000,
        requestTimeoutMs: 5000,
        timeoutMs: 300_000,
        startPeriodMs: 0,
        observeMs: 0,
        clock,
        prober,
        ...options,
      }),
    )
    .then((result) => ({ ...result, sent: prober.sent }));
}

describe('the gate with its default rules decides in probes, not at the timeout', () => {
  test.each<[string, number, (n: number) => Answer, RegExp]>([
    ['refused connections', 3, () => REFUSED, /3 consecutive probes failed \(connection refused\)/],
    ['503 from the start', 3, () => E503, /3 consecutive probes failed \(status 503/],
    ['1:1 flapping', 11, (n) => (n % 2 ? E503 : OK), /it flaps, 6 of 11 probes failed/],
  ])('%s: the gate fails after %i probes', async (_name, probes, script, reason) => {
    const result = await gateOn(script);
    expect(result.healthy).toBe(false);
    expect(result.attempts).toBe(probes);
    expect(result.reason).toMatch(reason);
    expect(result.urls[0].verdict).toBe('unhealthy');
    // The last probe was sent (probes - 1) intervals after the start and took 20ms.
    expect(result.durationMs).toBe((probes - 1) * 5000 + 20);
  });

  test('503 for 3 probes then healthy passes with unhealthy-threshold 5', async () => {
    const result = await gateOn((n) => (n <= 3 ? E503 : OK), { unhealthyThreshold: 5 });
    expect(result.healthy).toBe(true);
    expect(result.attempts).toBe(5);
    expect(result.urls[0].errorRate).toBe(0);
  });

  test('503 for 3 probes then healthy passes with a start period of 15s', async () => {
    const result = await gateOn((n) => (n <= 3 ? E503 : OK), { startPeriodMs: 15_000 });
    expect(result.healthy).toBe(true);
    expect(result.attempts).toBe(5);
  });

  test('a URL failing for ever with a long start period still fails at the timeout', async () => {
    const result = await gateOn(() => E503, { startPeriodMs: 50_000, timeoutMs: 57_000 });
    expect(result.healthy).toBe(false);
    expect(result.reason).toMatch(/did not become healthy within 57s \(12 probes/);
    expect(result.urls[0].verdict).toBe('not healthy in time');
    expect(result.durationMs).toBe(57_000);
  });

  test('one URL failing from the start fails the gate while the other is healthy', async () => {
    const result = await gateOn((_n, url) => (url.endsWith('/b') ? E503 : OK), {}, [
      'http://svc/a',
      'http://svc/b',
    ]);
    expect(result.reason).toMatch(/^http:\/\/svc\/b never became healthy/);
    expect(result.sent.get('http://svc/b')).toBe(3);
  });

  test('each URL carries its own reason: the gate reason on the URL that decided, the last error on a URL still failing, none on a healthy one', async () => {
    const result = await gateOn(
      (n, url) => (url.endsWith('/b') ? E503 : url.endsWith('/c') && n > 1 ? REFUSED : OK),
      {},
      ['http://svc/a', 'http://svc/b', 'http://svc/c'],
    );
    expect(result.urls.map((u) => [u.url, u.verdict, u.reason])).toEqual([
      ['http://svc/a', 'healthy', undefined],
      ['http://svc/b', 'unhealthy', result.reason],
      ['http://svc/c', 'still waiting', 'connection refused'],
    ]);
    expect(result.reason).toMatch(/^http:\/\/svc\/b never became healthy/);
  });

  test('latency and timing come from the injected clock', async () => {
    const result = await gateOn(() => OK);
    expect(result.probes.map((p) => p.time)).toEqual([
      new Date(0).toISOString(),
      new Date(5000).toISOString(),
    ]);
    expect(result.p95Ms).toBe(20);
    expect(result.durationMs).toBe(5020);
  });

  test('cancelling stops the gate at once as cancelled', async () => {
    const cancel = new AbortController();
    const clock = new VirtualClock();
    const prober = fakeProber(clock, (n) => {
      if (n === 2) cancel.abort();
      return E503;
    });
    const result = await clock.run(
      runGate({
        targets: [{ url: URL_A, displayUrl: URL_A, method: 'GET', headers: {} }],
        expectations: { status: parseStatusRanges('200-299')!, json: [] },
        healthyThreshold: 2,
        unhealthyThreshold: 3,
        intervalMs: 5000,
        requestTimeoutMs: 5000,
        timeoutMs: 300_000,
        startPeriodMs: 0,
        observeMs: 0,
        clock,
        prober,
        signal: cancel.signal,
      }),
    );
    expect(result.cancelled).toBe(true);
    expect(result.reason).toBe('The gate was cancelled before it reached a verdict.');
    expect(result.urls[0].verdict).toBe('cancelled');
    expect(result.durationMs).toBe(5000);
  });
});
