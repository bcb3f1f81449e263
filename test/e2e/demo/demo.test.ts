import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { emojiIn, measurePage, requireChromium, screenshot } from './page-check';

// `npm run demo` end to end, as a newcomer runs it: the CLI in a process group of its own,
// its final table, its HTML page, and nothing it started still answering afterwards.
const ROOT = join(__dirname, '..', '..', '..');
let output = '';
let code: number | null = null;
let timedOut = false;
let reportDir: string | undefined;

const STAGES = [
  'Start local AWS, S3 and PostgreSQL',
  'Create clusters, services and load balancers (as Terraform would)',
  'v1: push to main → deploy-staging (test, build, migrate before traffic, API + worker as one release, gate)',
  'v1: staging green → deploy-production (promote, backup, blue/green, gate)',
  'Nightly database backup, run on demand (workflow_dispatch)',
  'v2 (the worker exits 1 at start): deploy-staging → release fails → API and worker rolled back',
  'v2 never reaches production (deploy-production after a failed staging run)',
  'Manual rollback of production by workflow_dispatch (rollback.yml, version: previous)',
];

// The demo gets 3.5 minutes; past that it is interrupted like a Ctrl-C, so that it still
// cleans up and prints its table, and the tests say which stage was slow.
const DEMO_BUDGET_MS = 210_000;

beforeAll(async () => {
  const child: ChildProcess = spawn(
    process.execPath,
    [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/demo.ts'],
    { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => {
    timedOut = true;
    process.kill(-child.pid!, 'SIGINT');
  }, DEMO_BUDGET_MS);
  code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
  clearTimeout(timer);
  const page = /HTML page of the run: (.+)$/m.exec(output)?.[1]?.trim();
  if (page) reportDir = dirname(page);
}, DEMO_BUDGET_MS + 25_000);

afterAll(() => {
  if (reportDir?.startsWith(join(ROOT, '.tmp', 'demo')))
    rmSync(reportDir, { recursive: true, force: true });
});

/** The page's text as a reader sees it (tags dropped, SVG titles too). */
function pageText(): string {
  const page = /HTML page of the run: (.+)$/m.exec(output)?.[1]?.trim();
  return readFileSync(page!, 'utf8')
    .replace(/<title>[^<]*<\/title>/g, '')
    .replace(/<[^>]*>/g, ' ')
    .replace(
      /&#39;|&quot;|&amp;|&gt;|&lt;/g,
      (e) => ({ '&#39;': "'", '&quot;': '"', '&amp;': '&', '&gt;': '>', '&lt;': '<' })[e]!,
    )
    .replace(/\s+/g, ' ');
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('the demo behaves as described: every stage passes and it exits 0', () => {
  const lines = output.split('\n');
  // Each table row is followed by the stage's note: keep it, so a failure says what happened.
  const rows = STAGES.map((title) => {
    const at = lines.findIndex((l) => l.endsWith(`  ${title}`));
    if (at < 0) return `${title}: missing from the table`;
    const verdict = /✓ passed|✗ failed|– not run/.exec(lines[at])?.[0] ?? '?';
    return `${title}: ${verdict} — ${lines[at + 1]?.trim()}`;
  });
  expect({ rows, code, timedOut }).toEqual({
    rows: STAGES.map((t) => expect.stringMatching(`^${escapeRe(t)}: ✓ passed — `)),
    code: 0,
    timedOut: false,
  });
  expect(output).toMatch(/✓ 8 of 8 stages behaved as described; total \d+\.\d s/);
});

test('the HTML page of the run shows the stages, the timeline and the job summaries', () => {
  const page = /HTML page of the run: (.+)$/m.exec(output)?.[1]?.trim();
  expect(page && existsSync(page)).toBe(true);
  const html = readFileSync(page!, 'utf8');
  for (const title of STAGES)
    expect(html).toContain(title.replace(/&/g, '&amp;').replace(/>/g, '&gt;'));
  expect(html).toContain('<h2>Timeline</h2>');
  expect(html).toContain('Health gate');
  expect(html).toContain('deploy to production');
});

test('nothing the demo started answers after it exits', async () => {
  const urls = [
    /local-aws at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1],
    /staging \(rolling\) at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1],
    /production \(blue\/green\) at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1],
  ];
  expect(urls.every(Boolean)).toBe(true);
  for (const url of urls) {
    const answer = await fetch(url!, { signal: AbortSignal.timeout(3000) }).then(
      (r) => `HTTP ${r.status}`,
      () => 'refused',
    );
    expect(`${url}: ${answer}`).toBe(`${url}: refused`);
  }
  expect(output).not.toContain('clean-up problem');
});

test("v1's migration ran in the API's new revision before v1 took traffic, with its log lines on the page", () => {
  const text = pageText();
  expect(text).toMatch(
    /The migration ran node \/app\/migrate\.js in app-staging:2 and exited 0 before the release took traffic \(log: connecting to 127\.0\.0\.1:\d+\/app as postgres \| applying 0001_create_invoices \| applied 0001_create_invoices in \d+ ms \| done: 1 applied, 0 already there\); table invoices \(id, order_id, amount_cents, issued_at\) exists\./,
  );
  // The run-task step's own summary is on the page too.
  expect(text).toContain('Run task app-staging:2');
});

test('v1: the API and the worker are registered once each and deployed as registered, in one release', () => {
  const text = pageText();
  // Revision 1 is the bootstrap release's: one revision per service for v1, the one deployed.
  expect(text).toContain(
    'app and worker images built, one revision each registered (app-staging:2, worker-staging:2).',
  );
  expect(text).toContain(
    'Deployed the migrated revisions app-staging:2 and worker-staging:2 as registered, as one release: the API gated on /health, the worker by its rollout; staging answers v1.',
  );
});

test('v2: the crashing worker is named as failed, and the API and the worker both end on their previous revisions', () => {
  const text = pageText();
  expect(text).toMatch(
    /The release failed on the worker, so the API was taken back too\. ecs-deploy: worker failed: The deployment of worker-staging:3 failed .*?Essential container in task exited \(worker: exit code 1\).*? The worker's log says: worker v2: cannot start: QUEUE_URL is not set\. Both services are back on v1's revisions \(app on app-staging:2, worker on worker-staging:2\); the gate did not run; staging answers v1\./,
  );
});

test('the page says the time scale with the measured bake, and shows a run with no job as skipped', () => {
  const text = pageText();
  expect(text).toMatch(
    /Timers ×60: the 10-minute bake took \d+\.\d s\. Times on this page are wall-clock times/,
  );
  // Stage 7: staging failed, so deploy-production's only job is skipped.
  expect(text).toContain('deploy-production on workflow_run : skipped (no job ran)');
});

test("production's blue/green deployments show every lifecycle stage through the bake and the clean-up", () => {
  const text = pageText();
  // v1's deployment, then the manual rollback's.
  for (const target of ['app-production:2', 'app-production:1'])
    expect(text).toMatch(
      new RegExp(
        `production to ${target} , BLUE_GREEN, SUCCESSFUL after [\\d.]+ s During stage \\d: .*?` +
          'SCALE_UP .*?BAKE_TIME \\+[\\d.]+ s [\\d.]+ s bake time 10 min; timers ×60 CLEAN_UP \\+[\\d.]+ s [\\d.]+ s',
      ),
    );
});

describe('the page in headless Chromium', () => {
  let page: string;
  beforeAll(() => {
    requireChromium();
    page = /HTML page of the run: (.+)$/m.exec(output)?.[1]?.trim() ?? '';
  });

  test('no emoji code point is left: result marks are inline SVG', () => {
    expect(emojiIn(readFileSync(page, 'utf8'))).toEqual([]);
  });

  // The screenshots stay in .tmp/page-check for a person to look at.
  test.each([1280, 800])(
    'at %i px nothing reaches past the page column and every character has a glyph',
    (width) => {
      const m = measurePage(page, width);
      expect({
        overflow: m.scrollWidth - m.clientWidth,
        past: m.pastColumn,
        missing: m.missingGlyphs,
      }).toEqual({ overflow: 0, past: [], missing: [] });
      const shots = join(ROOT, '.tmp', 'page-check');
      mkdirSync(shots, { recursive: true });
      const png = join(shots, `demo-${width}.png`);
      screenshot(page, png, width, m.scrollHeight);
      expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    },
  );
});
