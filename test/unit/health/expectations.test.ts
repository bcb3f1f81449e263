import {
  checkResponse,
  parseJsonAssertion,
  parseStatusRanges,
  type Expectations,
} from '../../../packages/health/src/expectations';
import { statsFor, type UrlState } from '../../../packages/health/src/gate';
import { describeFetchError, splitCredentials } from '../../../packages/health/src/probe';
import { percentile } from '../../../packages/health/src/stats';

describe('parseStatusRanges', () => {
  test.each<[string, [number, number][] | undefined]>([
    ['200-299', [[200, 299]]],
    [
      '200,204,300-399',
      [
        [200, 200],
        [204, 204],
        [300, 399],
      ],
    ],
    ['200 - 204', [[200, 204]]],
    ['2xx', undefined],
    ['99', undefined],
    ['600', undefined],
    ['300-200', undefined],
    ['', undefined],
  ])('%j', (text, ranges) =>
    expect(parseStatusRanges(text)?.map((r) => [r.from, r.to])).toEqual(ranges),
  );
});

describe('checkResponse', () => {
  const exp = (json: string[], body?: string): Expectations => ({
    status: parseStatusRanges('200-299')!,
    json: json.map((j) => parseJsonAssertion(j)!),
    body,
  });
  test.each<[string, number, string, Expectations, string | undefined]>([
    ['healthy', 200, '{"status":"healthy"}', exp(['status=healthy|UP']), undefined],
    ['UP', 200, '{"status":"UP"}', exp(['status=healthy|UP']), undefined],
    [
      'wrong value',
      200,
      '{"status":"DOWN"}',
      exp(['status=healthy|UP']),
      'status is "DOWN", expected healthy|UP',
    ],
    [
      'nested path',
      200,
      '{"checks":{"database":{"status":"up"}}}',
      exp(['checks.database.status=up']),
      undefined,
    ],
    ['array index', 200, '{"items":[{"ok":true}]}', exp(['items.0.ok=true']), undefined],
    [
      'index out of range',
      200,
      '{"items":[]}',
      exp(['items.0.ok=true']),
      'items.0.ok is missing, expected true',
    ],
    ['number compared as text', 200, '{"n":3}', exp(['n=3']), undefined],
    ['null', 200, '{"n":null}', exp(['n=null']), undefined],
    ['object is not a value', 200, '{"n":{"a":1}}', exp(['n=1']), 'n is {"a":1}, expected 1'],
    ['missing', 200, '{}', exp(['status=UP']), 'status is missing, expected UP'],
    ['not JSON', 200, '<html>', exp(['status=UP']), 'body is not JSON (starts with "<html>")'],
    ['empty body', 200, '', exp(['status=UP']), 'body is not JSON (empty)'],
    ['status first', 503, '{"status":"UP"}', exp(['status=UP']), 'status 503 is not in 200-299'],
    ['body text', 200, 'all good', exp([], 'good'), undefined],
    ['body text missing', 200, 'all bad', exp([], 'good'), 'body does not contain "good"'],
  ])('%s', (_name, status, body, expectations, result) =>
    expect(checkResponse(status, body, expectations)).toBe(result),
  );

  test('malformed assertions are rejected', () => {
    for (const bad of ['status', '=UP', 'a..b=1', 'a=', 'a=x|'])
      expect(parseJsonAssertion(bad)).toBeUndefined();
  });
});

describe('probe helpers', () => {
  test('credentials move from the URL into a Basic header', () => {
    expect(splitCredentials('http://u:p%40ss@h:1/x')).toEqual({
      url: 'http://h:1/x',
      authorization: `Basic ${Buffer.from('u:p@ss').toString('base64')}`,
    });
    expect(splitCredentials('http://h/x')).toEqual({ url: 'http://h/x' });
  });
  test.each<[unknown, string]>([
    [Object.assign(new Error('x'), { name: 'TimeoutError' }), 'timed out after 500ms'],
    [
      Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }),
      'connection refused',
    ],
    [
      Object.assign(new TypeError('fetch failed'), {
        cause: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' },
      }),
      'TLS error: self-signed certificate',
    ],
  ])('fetch errors read in plain words', (error, words) =>
    expect(describeFetchError(error, 500)).toBe(words),
  );
});

describe('statistics', () => {
  test('nearest-rank percentiles', () => {
    const values = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(10);
    expect(percentile(values, 95)).toBe(19);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 95)).toBeUndefined();
  });
  test('error rate counts from the streak that made the URL healthy', () => {
    const p = (ok: boolean): UrlState['probes'][number] => ({
      time: '',
      url: 'u',
      ok,
      latencyMs: 1,
      status: ok ? 200 : 500,
    });
    const state: UrlState = {
      url: 'u',
      phase: 'healthy',
      consecutiveSuccesses: 0,
      consecutiveFailures: 1,
      inStartPeriod: false,
      failuresBeforeHealthy: 0,
      countedBeforeHealthy: 0,
      probes: [p(false), p(false), p(true), p(true), p(true), p(false)],
      windowStart: 2,
    };
    expect(statsFor(state, 'healthy')).toMatchObject({
      probes: 6,
      successes: 3,
      failures: 3,
      errorRate: 25,
    });
    expect(statsFor({ ...state, windowStart: undefined }, 'unhealthy').errorRate).toBe(50);
  });
});
