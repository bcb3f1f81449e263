import { readFileSync } from 'node:fs';
import { startFixture, type Fixture, type FixtureReply } from '../../support/http-fixture';
import { runAction, type ActionRun } from '../../support/run-action';

const FAST = { interval: '100ms', 'request-timeout': '1s', timeout: '5s' };
const TOKEN = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';
const PAGE = '<!doctype html><html><body><div id="app">Shop</div></body></html>';

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

/** An API answering JSON and a web front answering HTML (`html` as its body). */
async function apiAndWeb(html: string): Promise<{ api: Fixture; web: Fixture; checks: string }> {
  const api = await fixture(() => ({ body: { status: 'UP', db: { ok: true } } }));
  const web = await fixture(() => ({ body: html, headers: { 'content-type': 'text/html' } }));
  const checks = [
    `- url: ${api.url}/health`,
    '  expect-json: [status=UP, db.ok=true]',
    `- url: ${web.url}/`,
    '  expect-json: ""',
    '  expect-body: <div id="app">',
    '  headers: {Accept: text/html}',
  ].join('\n');
  return { api, web, checks };
}

describe('health-gate checks: expectations per URL', () => {
  test('one JSON URL and one HTML URL, each judged on its own expectations, pass', async () => {
    const { api, web, checks } = await apiAndWeb(PAGE);
    // The step's inputs apply to the fields an entry omits: the HTML entry sets its own
    // headers and clears the step's expect-json.
    const run = await runAction('health-gate', {
      inputs: { ...FAST, checks, 'expect-json': 'status=UP', headers: 'Accept: application/json' },
    });
    expect(run.code).toBe(0);
    expect(run.outputs.healthy).toBe('true');
    expect(run.outputs.reason).toBe('All 2 URLs passed 2 consecutive probes.');
    expect(run.stdout).toContain(
      `  GET ${api.url}/health: status 200-299, status=UP, db.ok=true\n`,
    );
    expect(web.requests[0].headers.accept).toBe('text/html');
    expect(api.requests[0].headers.accept).toBe('application/json');
    expect(run.summary).toContain(
      `| ${api.url}/health | status 200-299, status=UP, db.ok=true | 2 | 2 |`,
    );
    expect(run.summary).toMatch(
      new RegExp(
        `\\| ${web.url}/ \\| status 200-299, body contains .*div id=.*app.* \\| 2 \\| 2 \\|`,
      ),
    );
    const report = JSON.parse(readFileSync(run.outputs['report-path'], 'utf8'));
    expect(report.urls.map((u: { expected: unknown }) => u.expected)).toEqual([
      { status: '200-299', json: ['status=UP', 'db.ok=true'] },
      { status: '200-299', json: [], body: '<div id="app">' },
    ]);
  });

  test('the same checks with the HTML body wrong fail naming the HTML URL and its expectation', async () => {
    const { api, web, checks } = await apiAndWeb(
      '<!doctype html><html><body>Maintenance</body></html>',
    );
    const run = await runAction('health-gate', { inputs: { ...FAST, checks } });
    expect(run.code).toBe(1);
    expect(run.outputs.healthy).toBe('false');
    expect(run.outputs.reason).toBe(
      `${web.url}/ never became healthy: 3 consecutive probes failed (body does not contain "<div id=\\"app\\">").`,
    );
    expect(run.outputs.reason).not.toContain(api.url);
    expect(run.stdout).toContain(`::error::Unhealthy: ${web.url}/ never became healthy`);
    const row = run.summary.split('\n').find((l) => l.startsWith(`| ${web.url}/ |`));
    expect(row).toMatch(/\| unhealthy \| .*never became healthy.*body does not contain/);
  });

  test('a header token inside checks is sent but never printed, on a passing and a failing URL', async () => {
    const ok = await fixture(() => ({}));
    const down = await fixture(() => ({ status: 503 }));
    const checks = [
      `- url: ${ok.url}/health`,
      `  headers: {Authorization: "Bearer ${TOKEN}"}`,
      `- url: ${down.url}/health`,
      `  headers: "X-Api-Key: ${TOKEN}"`,
    ].join('\n');
    const run = await runAction('health-gate', { inputs: { ...FAST, checks } });
    expect(run.outputs.healthy).toBe('false');
    expect(ok.requests[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(down.requests[0].headers['x-api-key']).toBe(TOKEN);
    expect(printed(run)).not.toContain(TOKEN);
    expect(run.masked).toContain(TOKEN);
  });

  test('a bad entry fails before the first probe, naming checks, the entry and the field, never the token', async () => {
    const f = await fixture(() => ({}));
    const checks = [
      `- url: ${f.url}/health`,
      `  headers: {Authorization: "Bearer ${TOKEN}"}`,
      `- url: ${f.url}/ready`,
      '  expect-status: 2xx',
    ].join('\n');
    const run = await runAction('health-gate', { inputs: { ...FAST, checks } });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      '::error::Invalid configuration: Input `checks`: entry 2, `expect-status` must be status codes',
    );
    expect(f.requests).toHaveLength(0);
    expect(printed(run)).not.toContain(TOKEN);
  });

  test('url and checks together are refused naming both', async () => {
    const f = await fixture(() => ({}));
    const run = await runAction('health-gate', {
      inputs: { ...FAST, url: f.url, checks: `- url: ${f.url}/health` },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Inputs `url` and `checks` cannot both be set');
    expect(f.requests).toHaveLength(0);
  });
});
