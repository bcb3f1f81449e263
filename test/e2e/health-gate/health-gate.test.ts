import { readFileSync } from 'node:fs';
import {
  closedPort,
  startFixture,
  type Fixture,
  type FixtureReply,
} from '../../support/http-fixture';
import { runAction, type ActionRun } from '../../support/run-action';

const FAST = { interval: '100ms', 'request-timeout': '1s', timeout: '5s' };

let fixtures: Fixture[] = [];
async function fixture(reply: (n: number) => FixtureReply): Promise<Fixture> {
  const f = await startFixture(reply);
  fixtures.push(f);
  return f;
}
afterEach(async () => {
  await Promise.all(fixtures.map((f) => f.close()));
  fixtures = [];
});

describe('health-gate passes', () => {
  test('a service answering {"status":"healthy"} passes after healthy-threshold probes', async () => {
    const f = await fixture(() => ({ body: { status: 'healthy' } }));
    const run = await runAction('health-gate', {
      inputs: { ...FAST, url: `${f.url}/health`, 'expect-json': 'status=healthy|UP' },
    });
    expect(run.code).toBe(0);
    expect(run.outputs.healthy).toBe('true');
    expect(run.outputs.attempts).toBe('2');
    expect(run.outputs['error-rate']).toBe('0');
    expect(Number(run.outputs['p95-ms'])).toBeGreaterThanOrEqual(0);
    expect(run.outputs.reason).toContain('passed 2 consecutive probes');
    const report = JSON.parse(readFileSync(run.outputs['report-path'], 'utf8'));
    expect(report.probes).toHaveLength(2);
    expect(report.probes[0]).toMatchObject({
      url: `${f.url}/health`,
      status: 200,
      verdict: 'pass',
    });
    expect(run.summary).toContain('Health gate: healthy');
    expect(run.summary).toContain(`| ${f.url}/health | 2 | 2 |`);
    expect(run.stdout.split('\n').filter((l) => l.includes('✓ 200'))).toHaveLength(2);
  });

  test('a Spring-style nested status UP satisfies a dotted path assertion', async () => {
    const f = await fixture(() => ({
      body: { status: 'UP', components: { db: { status: 'UP' } }, items: [{ ok: true }] },
    }));
    const run = await runAction('health-gate', {
      inputs: {
        ...FAST,
        url: f.url,
        'expect-json': 'status=UP\ncomponents.db.status=UP\nitems.0.ok=true',
      },
    });
    expect(run.outputs.healthy).toBe('true');
  });

  test.each<[string, Record<string, string>]>([
    ['unhealthy-threshold 5', { 'unhealthy-threshold': '5' }],
    ['a start period', { 'start-period': '30s' }],
  ])(
    'a service answering 503 for 3 probes and then healthy passes with %s, and start-up errors do not count against it',
    async (_name, settings) => {
      const f = await fixture((n) =>
        n <= 3 ? { status: 503, body: { status: 'starting' } } : { body: { status: 'UP' } },
      );
      const run = await runAction('health-gate', {
        inputs: {
          ...FAST,
          url: f.url,
          'expect-json': 'status=healthy|UP',
          'max-error-rate': '10',
          timeout: '60s',
          ...settings,
        },
      });
      expect(run.code).toBe(0);
      expect(run.outputs.healthy).toBe('true');
      expect(run.outputs.attempts).toBe('5');
      expect(f.requests).toHaveLength(5);
      expect(run.outputs['error-rate']).toBe('0');
      expect(run.stdout).toContain('status 503 is not in 200-299');
    },
  );

  test('several URLs must all pass', async () => {
    const a = await fixture(() => ({}));
    const b = await fixture(() => ({}));
    const run = await runAction('health-gate', {
      inputs: { ...FAST, url: `${a.url}/a\n${b.url}/b` },
    });
    expect(run.outputs.healthy).toBe('true');
    expect(run.outputs.attempts).toBe('4');
    expect(run.outputs.reason).toContain('All 2 URLs');
  });
});

describe('health-gate counts failures from the first probe by default', () => {
  // A 60s timeout that nothing here may reach: each verdict comes from counting probes.
  const DEFAULTS = { interval: '100ms', 'request-timeout': '1s', timeout: '60s' };

  test('refused connections fail after unhealthy-threshold (3) probes', async () => {
    const port = await closedPort();
    const run = await runAction('health-gate', {
      inputs: { ...DEFAULTS, url: `http://127.0.0.1:${port}/health` },
    });
    expect(run.code).toBe(1);
    expect(run.outputs.healthy).toBe('false');
    expect(run.outputs.attempts).toBe('3');
    expect(run.outputs.reason).toBe(
      `http://127.0.0.1:${port}/health never became healthy: 3 consecutive probes failed (connection refused).`,
    );
    expect(run.stdout.split('\n').filter((l) => /✗ --- .*connection refused/.test(l))).toHaveLength(
      3,
    );
    expect(run.summary).toContain('| **Start period** | 0s: failures count from the first probe');
  });

  test('503 from the start fails after unhealthy-threshold (3) probes', async () => {
    const f = await fixture(() => ({ status: 503 }));
    const run = await runAction('health-gate', { inputs: { ...DEFAULTS, url: f.url } });
    expect(run.code).toBe(1);
    expect(run.outputs.attempts).toBe('3');
    expect(f.requests).toHaveLength(3);
    expect(run.outputs.reason).toMatch(
      /never became healthy: 3 consecutive probes failed \(status 503 is not in 200-299\)\.$/,
    );
    const report = JSON.parse(readFileSync(run.outputs['report-path'], 'utf8'));
    expect(report.urls[0].verdict).toBe('unhealthy');
  });

  test('a URL flapping 1:1 between 503 and 200 fails within 12 probes', async () => {
    const f = await fixture((n) => (n % 2 ? { status: 503 } : {}));
    const run = await runAction('health-gate', { inputs: { ...DEFAULTS, url: f.url } });
    expect(run.code).toBe(1);
    expect(Number(run.outputs.attempts)).toBeLessThanOrEqual(12);
    expect(f.requests.length).toBeLessThanOrEqual(12);
    expect(run.outputs.reason).toMatch(
      /never became healthy: it flaps, 6 of 11 probes failed and it never passed 2 in a row \(status 503 is not in 200-299\)\.$/,
    );
    const probeLines = run.stdout.split('\n').filter((l) => /[✓✗] (200|503) /.test(l));
    expect(probeLines[probeLines.length - 1]).toMatch(
      /\(failures 1\/3, 6\/6 failed before healthy\)$/,
    );
  });

  test('the log line of each probe shows how close the URL is to failing', async () => {
    const f = await fixture(() => ({ status: 503 }));
    const run = await runAction('health-gate', { inputs: { ...DEFAULTS, url: f.url } });
    const lines = run.stdout.split('\n').filter((l) => l.includes('✗ 503'));
    expect(lines.map((l) => /\(([^)]*)\)$/.exec(l)?.[1])).toEqual([
      'healthy 0/2, failures 1/3',
      'healthy 0/2, failures 2/3',
      'failures 3/3',
    ]);
    expect(run.stdout).toContain('; start period 0s: failures count from the first probe.');
  });
});

describe('health-gate fails with the reason', () => {
  test.each<[string, (n: number) => FixtureReply, Record<string, string>, RegExp]>([
    [
      'wrong JSON value',
      () => ({ body: { status: 'DOWN' } }),
      { 'expect-json': 'status=healthy|UP' },
      /never became healthy: 3 consecutive probes failed \(status is "DOWN", expected healthy\|UP\)/,
    ],
    [
      'a body that is not JSON',
      () => ({ body: '<html>oops</html>' }),
      { 'expect-json': 'status=UP' },
      /body is not JSON \(starts with "<html>oops<\/html>"\)/,
    ],
    ['an unexpected status', () => ({ status: 500 }), {}, /status 500 is not in 200-299/],
    [
      'a missing body text',
      () => ({ body: 'ok' }),
      { 'expect-body': 'ready' },
      /body does not contain "ready"/,
    ],
    [
      'a request slower than request-timeout',
      () => ({ delayMs: 800 }),
      { 'request-timeout': '200ms' },
      /timed out after 200ms/,
    ],
    [
      'a URL that stays in its start period until the deadline',
      () => ({ status: 502 }),
      { 'start-period': '1s', timeout: '1150ms' },
      /did not become healthy within 1.15s/,
    ],
  ])('%s', async (_name, reply, inputs, reason) => {
    const f = await fixture(reply);
    const run = await runAction('health-gate', { inputs: { ...FAST, url: f.url, ...inputs } });
    expect(run.code).toBe(1);
    expect(run.outputs.healthy).toBe('false');
    expect(run.outputs.reason).toMatch(reason);
    expect(run.error).toContain('Unhealthy: ');
    expect(run.summary).toContain('Health gate: not healthy');
  });

  test('with start-period, a release answering 503 from the start fails once the start period is over, not at timeout', async () => {
    const f = await fixture(() => ({ status: 503 }));
    const run = await runAction('health-gate', {
      inputs: { ...FAST, url: f.url, timeout: '60s', 'start-period': '300ms' },
    });
    expect(run.code).toBe(1);
    expect(run.outputs.healthy).toBe('false');
    expect(run.outputs.reason).toMatch(
      /never became healthy: 3 consecutive probes failed after the start period of 300ms \(status 503 is not in 200-299\)/,
    );
    // About 3 probes in the start period and 3 after it: nowhere near the 600 of a 60s timeout.
    expect(Number(run.outputs.attempts)).toBeLessThan(20);
    expect(run.summary).toContain('| **Start period** | 300ms');
    const report = JSON.parse(readFileSync(run.outputs['report-path'], 'utf8'));
    expect(report.urls[0].verdict).toBe('unhealthy');
  });

  test('with start-period, failures inside the start period do not count and a slow starter passes', async () => {
    const f = await fixture((n) => (n <= 6 ? { status: 503 } : {}));
    const run = await runAction('health-gate', {
      inputs: { ...FAST, url: f.url, timeout: '30s', 'start-period': '5s' },
    });
    expect(run.code).toBe(0);
    expect(run.outputs.healthy).toBe('true');
    expect(Number(run.outputs.attempts)).toBe(8);
  });

  test('a service that turns unhealthy during observation fails after unhealthy-threshold failures', async () => {
    const f = await fixture((n) => (n <= 3 ? {} : { status: 500 }));
    const run = await runAction('health-gate', { inputs: { ...FAST, url: f.url, observe: '3s' } });
    expect(run.code).toBe(1);
    expect(run.outputs.reason).toMatch(
      /became unhealthy: 3 consecutive probes failed \(status 500 is not in 200-299\)/,
    );
    expect(run.outputs.attempts).toBe('6');
  });

  test('flapping during observation breaches max-error-rate', async () => {
    const f = await fixture((n) => (n <= 2 || n % 2 ? {} : { status: 500 }));
    const run = await runAction('health-gate', {
      inputs: { ...FAST, url: f.url, observe: '1s', 'max-error-rate': '10' },
    });
    expect(run.code).toBe(1);
    expect(run.outputs.reason).toMatch(
      /% of probes failed since it became healthy, above max-error-rate 10%/,
    );
    expect(Number(run.outputs['error-rate'])).toBeGreaterThan(10);
  });

  test('a slow service breaches max-latency at p95', async () => {
    const f = await fixture(() => ({ delayMs: 150 }));
    const run = await runAction('health-gate', {
      inputs: { ...FAST, url: f.url, observe: '500ms', 'max-latency': '50ms' },
    });
    expect(run.code).toBe(1);
    expect(run.outputs.reason).toMatch(
      /p95 latency \d+ms over \d+ probes is above max-latency 50ms/,
    );
    expect(Number(run.outputs['p95-ms'])).toBeGreaterThanOrEqual(150);
  });

  test('with fail-on-unhealthy false an unhealthy verdict only shows in the outputs', async () => {
    const f = await fixture(() => ({ status: 503 }));
    const run = await runAction('health-gate', {
      inputs: { ...FAST, url: f.url, timeout: '500ms', 'fail-on-unhealthy': 'false' },
    });
    expect(run.code).toBe(0);
    expect(run.outputs.healthy).toBe('false');
    expect(run.stdout).toContain('::warning::Unhealthy (fail-on-unhealthy is false');
  });

  test('one bad URL among several fails the gate and is named', async () => {
    const good = await fixture(() => ({}));
    const bad = await fixture(() => ({ status: 404 }));
    const run = await runAction('health-gate', {
      inputs: { ...FAST, url: `${good.url}/ok\n${bad.url}/missing` },
    });
    expect(run.outputs.reason).toContain(`${bad.url}/missing never became healthy`);
    expect(run.summary).toContain(`| ${bad.url}/missing | 3 | 0 |`);
    expect(run.summary).toMatch(/\| unhealthy \|/);
  });
});

describe('health-gate keeps secrets and stops when asked', () => {
  test('credentials in the URL and header values are sent but never printed', async () => {
    const f = await fixture(() => ({}));
    const url = f.url.replace('http://', 'http://deployer:pa55word@');
    const run = await runAction('health-gate', {
      inputs: {
        ...FAST,
        url: `${url}/health?token=t0ken123`,
        headers: 'X-Api-Key: k3y-secret\nAccept: application/json',
      },
    });
    expect(run.outputs.healthy).toBe('true');
    expect(f.requests[0].headers.authorization).toBe(
      `Basic ${Buffer.from('deployer:pa55word').toString('base64')}`,
    );
    expect(f.requests[0].headers['x-api-key']).toBe('k3y-secret');
    const printed = [
      run.stdout.replace(/^::add-mask::.*$/gm, ''),
      run.summary,
      readFileSync(run.outputs['report-path'], 'utf8'),
      JSON.stringify(run.outputs),
    ].join('\n');
    for (const secret of ['pa55word', 't0ken123', 'k3y-secret'])
      expect(printed).not.toContain(secret);
    expect(run.masked).toEqual(expect.arrayContaining(['pa55word', 't0ken123', 'k3y-secret']));
  });

  /** Everything a run printed or wrote where people can read it, `::add-mask::` lines aside. */
  function printed(run: ActionRun): string {
    return [
      run.stdout.replace(/^::add-mask::.*$/gm, ''),
      run.stderr,
      run.summary,
      JSON.stringify(run.outputs),
      run.outputs['report-path'] ? readFileSync(run.outputs['report-path'], 'utf8') : '',
    ].join('\n');
  }

  const TOKEN = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';
  test.each<[string, string, string, number]>([
    ['a token as the user name, on a healthy URL', TOKEN, `${TOKEN}:`, 200],
    ['a token as the user name, on a failing URL', TOKEN, `${TOKEN}:`, 503],
    [
      'a token with x-oauth-basic as the password, on a failing URL',
      `${TOKEN}:x-oauth-basic`,
      `${TOKEN}:x-oauth-basic`,
      503,
    ],
  ])('%s: the token is sent but appears nowhere', async (_name, userinfo, basic, status) => {
    const f = await fixture(() => ({ status }));
    const url = `${f.url.replace('http://', `http://${userinfo}@`)}/health`;
    const run = await runAction('health-gate', { inputs: { ...FAST, url } });
    expect(run.outputs.healthy).toBe(String(status === 200));
    expect(f.requests[0].headers.authorization).toBe(
      `Basic ${Buffer.from(basic).toString('base64')}`,
    );
    expect(run.outputs.reason).toContain(
      `http://***${userinfo.includes(':') ? ':***' : ''}@127.0.0.1`,
    );
    expect(printed(run)).not.toContain(TOKEN);
    expect(printed(run)).not.toContain('ghp_');
    expect(run.masked).toContain(TOKEN);
  });

  test.each<[string, string, RegExp]>([
    ['a line without a colon', `Authorization Bearer ${TOKEN}`, /line 1 has no `:`/],
    [
      'a bad header name',
      `Authorization Bearer: ${TOKEN}`,
      /line 1 does not start with a valid header name/,
    ],
    [
      'a bad second line',
      `Accept: application/json\nAuthorization Bearer ${TOKEN}`,
      /line 2 has no `:`/,
    ],
    [
      'a control character in a value',
      `X-Api-Key: ${TOKEN}\u0007`,
      /the value of `X-Api-Key` on line 1/,
    ],
  ])(
    'a headers input with %s fails naming the line, and its value appears nowhere, not even in the debug stack',
    async (_name, headers, message) => {
      const f = await fixture(() => ({}));
      const run = await runAction('health-gate', { inputs: { ...FAST, url: f.url, headers } });
      expect(run.code).toBe(1);
      expect(run.error).toMatch(
        /^Invalid configuration: Input `headers` must be one `Name: value` per line; /,
      );
      expect(run.error).toMatch(message);
      expect(run.stdout).toContain('::debug::ConfigurationError');
      expect(printed(run)).not.toContain(TOKEN);
      expect(run.masked.join('\n')).toContain(TOKEN);
      expect(f.requests).toHaveLength(0);
    },
  );

  test('SIGTERM after the first probe stops the gate as cancelled', async () => {
    const f = await fixture(() => ({ status: 503 }));
    let sent = false;
    const run = await runAction('health-gate', {
      // Inside its start period the URL's failures do not count: only the signal can end the run.
      inputs: { ...FAST, url: f.url, timeout: '60s', 'start-period': '50s' },
      onStart: (child) => {
        child.stdout?.on('data', (d: Buffer) => {
          if (!sent && d.toString().includes('✗ 503')) {
            sent = true;
            child.kill('SIGTERM');
          }
        });
      },
    });
    expect(sent).toBe(true);
    expect(run.code).toBe(1);
    expect(run.error).toBe('Cancelled: the health gate was cancelled before it reached a verdict');
    expect(run.outputs.healthy).toBe('false');
    expect(run.outputs.reason).toBe('The gate was cancelled before it reached a verdict.');
    const report = JSON.parse(readFileSync(run.outputs['report-path'], 'utf8'));
    expect(report.urls[0].verdict).toBe('cancelled');
  });
});

describe('health-gate rejects bad inputs before sending any request', () => {
  test.each<[Record<string, string>, RegExp]>([
    [{ url: '' }, /Input `url` or `checks` is required and neither was set/],
    [
      { url: 'ftp://example.com/x' },
      /Input `url` must be one or more http:\/\/ or https:\/\/ URLs/,
    ],
    [
      { 'expect-status': '200-2xx' },
      /Input `expect-status` must be status codes and ranges .*got `200-2xx`/,
    ],
    [{ 'expect-status': '299-200' }, /Input `expect-status`/],
    [{ 'expect-json': 'status' }, /Input `expect-json` must be one `path=value`/],
    [{ 'expect-json': 'a..b=1' }, /Input `expect-json`/],
    [{ interval: 'soon' }, /Input `interval` must be a duration such as `250ms`/],
    [{ timeout: '5 minutes' }, /Input `timeout` must be a duration/],
    [
      { 'healthy-threshold': '0' },
      /Input `healthy-threshold` must be a whole number from 1 to 100; got `0`/,
    ],
    [{ 'unhealthy-threshold': '2.5' }, /Input `unhealthy-threshold` must be a whole number/],
    [{ 'max-error-rate': '150' }, /Input `max-error-rate` must be a number from 0 to 100/],
    [
      { 'fail-on-unhealthy': 'yes' },
      /Input `fail-on-unhealthy` must be `true` or `false`; got `yes`/,
    ],
    [{ method: 'FETCH' }, /Input `method` must be one of GET/],
    [
      { headers: 'no colon here' },
      /Input `headers` must be one `Name: value` per line; line 1 has no `:`/,
    ],
    [{ 'start-period': 'later' }, /Input `start-period` must be a duration/],
    [
      { 'start-period': '10s', timeout: '10s' },
      /Input `start-period` must be a duration shorter than `timeout` \(10s\), or `0s`; got `10s`/,
    ],
  ])('%j', async (inputs, message) => {
    const f = await fixture(() => ({}));
    const run = await runAction('health-gate', { inputs: { ...FAST, url: f.url, ...inputs } });
    expect(run.code).toBe(1);
    expect(run.error).toMatch(/^Invalid configuration: /);
    expect(run.error).toMatch(message);
    expect(f.requests).toHaveLength(0);
    expect(run.outputs).toEqual({});
  });
});
