import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobResult, StepResult, WorkflowRun } from '../../../packages/workflow/src/runner';
import { emojiToMarks } from '../../../scripts/demo/marks';
import {
  breakLongTokens,
  renderDemoPage,
  runConclusion,
  type PageStage,
} from '../../../scripts/demo/report';
import type { WatchedRollout } from '../../../scripts/demo/watch-rollouts';
import { emojiIn, measurePage, requireChromium, screenshot } from './page-check';

// The demo's page rendered from a run shaped like the demo's (job summaries with verdict emoji,
// a tag table of full digests, a run whose only job was skipped, a watched blue/green
// deployment), then looked at in headless Chromium. The whole demo's page gets the same check
// in demo.test.ts; this one is quick and needs no services.
const ROOT = join(__dirname, '..', '..', '..');
const SHOTS = join(ROOT, '.tmp', 'page-check');
const T0 = Date.UTC(2026, 0, 1, 12);
const DIGEST = 'sha256:ba1220c08d7b7e6109dd7b2f39d0e93e502f870237e6507c79ed249544800ff5';
const REGISTRY = '127.0.0.1:45965/app-staging';

const SUMMARY = `### ✅ Build and push: built and pushed \`app-staging@${DIGEST.slice(0, 19)}…\`

|  |  |
| --- | --- |
| **Image** | \`${REGISTRY}@${DIGEST}\` |
| **Service deployment** | arn:aws:ecs:us-east-1:000000000000:service-deployment/app-staging/app/Ebfl4g7LJMUvPAFTI4vQDW |

| Tag | Digest |  |
| --- | --- | --- |
| \`${REGISTRY}:fa2ead9763fcba5710b68bb31d29297978b0fde8\` | \`${DIGEST}\` | tagged |
| \`${REGISTRY}:fa2ead9\` | \`${DIGEST}\` | already there |

### ❌ Health gate: not healthy

⚠️ Not sent (unknown to the bundled AWS SDK): \`someField\`
`;

const step = (
  name: string,
  outcome: StepResult['outcome'],
  at: number,
  ms: number,
): StepResult => ({
  id: name.toLowerCase().replace(/\W+/g, '-'),
  name,
  stage: 'main',
  outcome,
  conclusion: outcome,
  outputs: {},
  annotations: [],
  startedAt: T0 + at,
  durationMs: ms,
  log: '',
});

const job = (
  id: string,
  result: JobResult['result'],
  steps: StepResult[],
  summary = '',
): JobResult => ({
  id,
  name: id,
  result,
  outputs: {},
  steps,
  summary,
  startedAt: T0,
  durationMs: steps.reduce((sum, s) => sum + s.durationMs, 0),
});

const run = (workflow: string, result: WorkflowRun['result'], jobs: JobResult[]): WorkflowRun => ({
  workflow,
  path: `${workflow}.yml`,
  event: 'workflow_run',
  result,
  jobs,
  startedAt: T0,
  durationMs: 5000,
  outDir: 'out',
});

const deployed = run('deploy-staging', 'failure', [
  job(
    'deploy',
    'failure',
    [
      step('Build once, or promote the tested image by digest', 'success', 0, 1500),
      step('Health gate', 'failure', 1500, 30_000),
      step('Notify Slack', 'skipped', 31_500, 0),
    ],
    SUMMARY,
  ),
]);
// The runner of this version calls a run whose every job was skipped a success.
const guarded = run('deploy-production', 'success', [job('deploy', 'skipped', [])]);

const STAGES: PageStage[] = [
  {
    title: 'v2 (broken /health): deploy-staging → gate fails → automatic rollback',
    verdict: 'passed',
    note: 'gate: not healthy; rolled back (`update-service`), staging answers v1 again',
    runs: [deployed],
    durationMs: 31_500,
  },
  {
    title: 'v2 never reaches production',
    verdict: 'passed',
    note: "the deploy job's `if:` saw staging's conclusion `failure` and skipped",
    runs: [guarded],
    durationMs: 10,
  },
  { title: 'Nightly backup', verdict: 'not run', note: 'PostgreSQL is not installed', runs: [] },
];

const ROLLOUT: WatchedRollout = {
  environment: 'production',
  serviceDeploymentArn:
    'arn:aws:ecs:us-east-1:000000000000:service-deployment/app-production/app/x',
  target: 'app-production:2',
  strategy: 'BLUE_GREEN',
  bakeTimeInMinutes: 10,
  createdAt: T0,
  finishedAt: T0 + 11_600,
  status: 'SUCCESSFUL',
  intervalMs: 100,
  stages: [
    { stage: 'RECONCILE_SERVICE', seenAt: T0 + 40 },
    { stage: 'SCALE_UP', seenAt: T0 + 140 },
    { stage: 'BAKE_TIME', seenAt: T0 + 1240 },
    { stage: 'CLEAN_UP', seenAt: T0 + 11_240 },
  ],
};

const html = renderDemoPage({
  title: 'shipkit demo',
  stages: STAGES,
  timeScale: 60,
  rollouts: [ROLLOUT],
  generatedAt: new Date(T0),
});
const text = html.replace(/<title>[^<]*<\/title>/g, '').replace(/<[^>]*>/g, '');

test('every result mark is inline SVG: no emoji code point is left in the page', () => {
  expect(emojiIn(html)).toEqual([]);
  expect(html).toContain('aria-label="succeeded"');
  expect(html).toContain('aria-label="failed"');
  expect(html).toContain('aria-label="warning"');
});

test.each<[string, string, string]>([
  ['a verdict heading', '<h3>✅ Deploy: succeeded</h3>', '<h3><svg class="mark"'],
  ['an emoji with its variation selector', '<p>⚠️ Not sent</p>', '</svg> Not sent</p>'],
  [
    'text only, never a tag',
    '<a href="https://x/✅">❌</a>',
    '<a href="https://x/✅"><svg class="mark"',
  ],
])('summaries: %s gets an SVG mark', (_what, html, expected) => {
  expect(emojiToMarks(html)).toContain(expected);
});

test.each<[string, string, string]>([
  [
    'an ARN breaks after its colons and slashes',
    '<td>arn:aws:ecs:us-east-1:0:service/app</td>',
    '<td>arn:<wbr>aws:<wbr>ecs:<wbr>us-east-1:<wbr>0:<wbr>service/<wbr>app</td>',
  ],
  ['short words stay whole', '<td>127.0.0.1:80/health</td>', '<td>127.0.0.1:80/health</td>'],
  [
    'tags are left alone',
    '<a href="http://127.0.0.1:45965/app-staging/x">x</a>',
    '<a href="http://127.0.0.1:45965/app-staging/x">x</a>',
  ],
])('long tokens: %s', (_what, html, expected) => {
  expect(breakLongTokens(html)).toBe(expected);
});

test('a run in which no job ran reads as skipped, not success', () => {
  expect(runConclusion(guarded)).toBe('skipped');
  expect(runConclusion(deployed)).toBe('failure');
  expect(text).toContain('deploy-production on workflow_run: skipped (no job ran)');
  expect(text).not.toContain('deploy-production on workflow_run: success');
});

test('the time scale is said with a measured example where times are shown', () => {
  // At the top, over the step timeline, over the blue/green stages and over the job summaries.
  expect(text.split('Timers ×60: the 10-minute bake took 10.0\u00a0s.').length - 1).toBe(4);
});

test('the blue/green deployment shows every lifecycle stage: seen ones with times, the others as passed between looks', () => {
  const rows = [
    ...html.matchAll(/<tr[^>]*><td class="stage"><code>([A-Z_]+)<\/code><\/td>(.*?)<\/tr>/g),
  ].map(
    ([, stage, rest]) =>
      `${stage}: ${rest
        .replace(/<[^>]*>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()}`,
  );
  expect(rows).toEqual([
    'RECONCILE_SERVICE: +0.0 s 0.1 s',
    'PRE_SCALE_UP: passed between two looks (under 0.2 s)',
    'SCALE_UP: +0.1 s 1.1 s',
    'POST_SCALE_UP: passed between two looks (under 0.2 s)',
    'TEST_TRAFFIC_SHIFT: passed between two looks (under 0.2 s)',
    'POST_TEST_TRAFFIC_SHIFT: passed between two looks (under 0.2 s)',
    'PRODUCTION_TRAFFIC_SHIFT: passed between two looks (under 0.2 s)',
    'POST_PRODUCTION_TRAFFIC_SHIFT: passed between two looks (under 0.2 s)',
    'BAKE_TIME: +1.2 s 10.0 s bake time 10 min; timers ×60',
    "CLEAN_UP: +11.2 s 0.4 s the old revision's tasks drain and stop; timers ×60",
  ]);
});

describe('in headless Chromium', () => {
  let dir: string;
  let page: string;
  beforeAll(() => {
    requireChromium();
    dir = mkdtempSync(join(tmpdir(), 'demo-page-'));
    page = join(dir, 'index.html');
    writeFileSync(page, html);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test.each([1280, 800])(
    'at %i px nothing reaches past the page column and every character has a glyph',
    (width) => {
      const m = measurePage(page, width);
      expect({
        overflow: m.scrollWidth - m.clientWidth,
        past: m.pastColumn,
        missing: m.missingGlyphs,
      }).toEqual({
        overflow: 0,
        past: [],
        missing: [],
      });
      mkdirSync(SHOTS, { recursive: true });
      const png = join(SHOTS, `fixture-${width}.png`);
      screenshot(page, png, width, m.scrollHeight);
      expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
      expect(statSync(png).size).toBeGreaterThan(10_000);
    },
  );

  test('the check sees what it is for: a glyph no font has and a block wider than the page', () => {
    const bad = join(dir, 'bad.html');
    writeFileSync(
      bad,
      '<!doctype html><html><body style="max-width:600px;margin:0 auto"><h3>\uE000 Deploy: succeeded</h3><div class="wide" style="width:1500px">wide</div></body></html>',
    );
    const m = measurePage(bad, 800);
    expect(m.missingGlyphs).toEqual([expect.stringMatching(/^U\+E000 /)]);
    expect(m.scrollWidth).toBeGreaterThan(m.clientWidth);
    expect(m.pastColumn).toEqual([
      expect.stringMatching(/^div\.wide: right edge 1\d{3} > column /),
    ]);
  });
});
