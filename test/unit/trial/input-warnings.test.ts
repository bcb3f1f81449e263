// Found by trying the actions as a user would: a bare number is read as seconds, so
// `timeout: 20` (from aws-actions' `wait-for-minutes: 20`) gave a deploy 20 seconds, and
// `max-latency: 500` (beside the output `p95-ms`) allowed a p95 of 500 seconds, both without a
// word. v1 keeps accepting them (no accepted value starts to fail); a warning says how they read.
import { getInputs as deployInputs } from '../../../actions/ecs-deploy/src/inputs';
import { getInputs as gateInputs } from '../../../actions/health-gate/src/inputs';
import { runInProcess } from '../rollback/in-process-run';

const ENV = { AWS_REGION: 'us-east-1' };

test.each([
  [
    '20',
    'Input `timeout` is `20`, a bare number, read as 20 seconds: write `20m` for minutes or `20s` to keep seconds.',
  ],
  ['20m', undefined],
  ['90s', undefined],
])('ecs-deploy timeout %s: warning %p', async (timeout, warning) => {
  const run = await runInProcess(
    async () => {
      deployInputs();
    },
    { service: 'web', 'container-images': 'web=registry.example/web:v2', timeout },
    ENV,
  );
  expect(run.errors).toEqual([]);
  expect(run.warnings).toEqual(warning ? [warning] : []);
});

test.each([
  [
    '500',
    'Input `max-latency` is `500`, a bare number, read as 500 seconds: write `500ms` for milliseconds or `500s` to keep seconds.',
  ],
  ['500ms', undefined],
  ['2s', undefined],
])('health-gate max-latency %s: warning %p', async (maxLatency, warning) => {
  const run = await runInProcess(
    async () => {
      await gateInputs();
    },
    { url: 'http://127.0.0.1:9/health', 'max-latency': maxLatency },
    ENV,
  );
  expect(run.errors).toEqual([]);
  expect(run.warnings).toEqual(warning ? [warning] : []);
});

// Found the same way: url-health-check's `url` splits URLs on `|`, and a comma list is a habit;
// health-gate takes one URL per line, so `a, b` was probed as one URL (`/health,%20https://…`),
// which a catch-all web app answers 200 while the second URL is never probed.
test.each([
  ['http://127.0.0.1:9/health, http://127.0.0.1:9/ready', true],
  ['http://127.0.0.1:9/health|https://127.0.0.1:9/ready', true],
  ['http://127.0.0.1:9/health,https://127.0.0.1:9/ready', true],
  ['http://127.0.0.1:9/health\nhttp://127.0.0.1:9/ready', false],
  ['http://127.0.0.1:9/health?from=a,b', false],
])('health-gate url %p: warned as several URLs on one line: %p', async (url, warned) => {
  const run = await runInProcess(
    async () => {
      await gateInputs();
    },
    { url },
    ENV,
  );
  expect(run.errors).toEqual([]);
  expect(run.warnings).toEqual(
    warned
      ? [
          'Input `url`, line 1, looks like several URLs on one line (a `,` or `|` before `http`): it is probed as one URL. Put one URL per line.',
        ]
      : [],
  );
});

test.each([
  ['run-task', '30'],
  ['rollback', '15'],
])('%s timeout %s, a bare number, warns that it is read as seconds', async (action, timeout) => {
  const { getInputs } = (await import(`../../../actions/${action}/src/inputs`)) as {
    getInputs: () => unknown;
  };
  const run = await runInProcess(
    async () => {
      getInputs();
    },
    { cluster: 'apps', service: 'web', timeout },
    ENV,
  );
  expect(run.errors).toEqual([]);
  expect(run.warnings).toEqual([
    `Input \`timeout\` is \`${timeout}\`, a bare number, read as ${timeout} seconds: write \`${timeout}m\` for minutes or \`${timeout}s\` to keep seconds.`,
  ]);
});

// Found by trying health-gate by hand: the same URL on two lines was probed twice and the
// verdict said "All 2 URLs passed" (`checks` refuses such a list).
test('health-gate url listing one URL twice probes it once and says so', async () => {
  let targets: unknown[] = [];
  const run = await runInProcess(
    async () => {
      targets = (await gateInputs()).targets;
    },
    { url: 'http://127.0.0.1:9/health\nhttp://127.0.0.1:9/ready\nhttp://127.0.0.1:9/health' },
    ENV,
  );
  expect(run.errors).toEqual([]);
  expect(run.warnings).toEqual([
    'Input `url` lists `http://127.0.0.1:9/health` more than once: it is probed once.',
  ]);
  expect(targets.map((t) => (t as { url: string }).url)).toEqual([
    'http://127.0.0.1:9/health',
    'http://127.0.0.1:9/ready',
  ]);
});
