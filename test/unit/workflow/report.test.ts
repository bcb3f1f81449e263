import {
  markdownToHtml,
  renderReport,
  type ReportStage,
} from '../../../packages/workflow/src/report';
import type { WorkflowRun } from '../../../packages/workflow/src/runner';

test.each<[string, string, string]>([
  ['a verdict heading', '### ✅ Deploy: succeeded', '<h3>✅ Deploy: succeeded</h3>'],
  [
    'a facts table',
    '| | |\n| --- | --- |\n| **image** | `repo@sha256:1` |',
    '<td><strong>image</strong></td><td><code>repo@sha256:1</code></td>',
  ],
  [
    'a headed table',
    '| a | b |\n| --- | --- |\n| 1 | x\\|y |',
    '<thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>x|y</td></tr></tbody>',
  ],
  ['a list', '- one\n- two', '<ul><li>one</li><li>two</li></ul>'],
  ['a code block', '```\nline <1>\n```', '<pre>line &lt;1&gt;</pre>'],
  [
    'collapsed details',
    '<details><summary>Events</summary>\n\n- e1\n\n</details>',
    '<details><summary>Events</summary><ul><li>e1</li></ul></details>',
  ],
  [
    'raw HTML, escaped',
    '<script>alert(1)</script>',
    '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>',
  ],
])('renders %s', (_what, md, html) => {
  expect(markdownToHtml(md)).toContain(html);
});

test('the page shows every stage, a timeline of the steps and the job summaries', () => {
  const run: WorkflowRun = {
    workflow: 'deploy-staging',
    path: 'deploy-staging.yml',
    event: 'push',
    result: 'failure',
    startedAt: 1000,
    durationMs: 5000,
    outDir: 'out',
    jobs: [
      {
        id: 'deploy',
        name: 'deploy',
        result: 'failure',
        outputs: {},
        steps: [],
        summary: '',
        startedAt: 1000,
        durationMs: 5000,
        called: {
          path: 'deploy.yml',
          jobs: [
            {
              id: 'deploy/deploy',
              name: 'deploy to staging',
              result: 'failure',
              outputs: {},
              summary: '### ❌ Health gate: unhealthy',
              startedAt: 1000,
              durationMs: 5000,
              steps: [
                {
                  id: 'gate',
                  name: 'Health gate',
                  stage: 'main',
                  outcome: 'failure',
                  conclusion: 'failure',
                  outputs: {},
                  annotations: [],
                  startedAt: 1000,
                  durationMs: 3000,
                  log: 'l',
                  error: 'status 503',
                },
                {
                  id: 'rollback',
                  name: 'Roll back',
                  stage: 'main',
                  outcome: 'success',
                  conclusion: 'success',
                  outputs: {},
                  annotations: [],
                  startedAt: 4000,
                  durationMs: 2000,
                  log: 'l',
                },
              ],
            },
          ],
        },
      },
    ],
  };
  const stages: ReportStage[] = [
    {
      title: 'Broken v2 to staging',
      verdict: 'passed',
      note: 'the gate caught v2 and it was rolled back',
      runs: [run],
      durationMs: 5000,
    },
    { title: 'Nightly backup', verdict: 'not run', note: 'PostgreSQL is not installed', runs: [] },
  ];
  const html = renderReport('shipkit demo', stages, new Date(0));
  expect(html).toContain('<td>Broken v2 to staging</td>');
  expect(html).toContain('PostgreSQL is not installed');
  expect(html).toContain('<h3>❌ Health gate: unhealthy</h3>');
  expect(html).toContain('<div class="error">status 503</div>');
  // The rollback bar starts 60% into the 5 s span of the run.
  expect(html).toMatch(/bar success" style="left:60\.00%;width:40\.00%"/);
});
