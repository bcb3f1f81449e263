import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  runWorkflow,
  type JobResult,
  type RunnerOptions,
  type WorkflowRun,
} from '../../../packages/workflow/src/runner';

// A throwaway repository root holding one small action (`probe`, with a post step) built the way
// shipkit's are (action.yml + dist/<name>/index.js), and the workflows under test.
let root: string;
let runs = 0;

const ACTION_YML = `name: shipkit probe
description: test action
branding: { icon: box, color: blue }
inputs:
  message:
    description: what to echo
    required: true
  mode:
    description: ok or fail
    default: ok
  token:
    description: a secret to mask
    default: ''
  defaulted:
    description: default from an expression
    default: \${{ github.event_name }}
outputs:
  echoed:
    description: the message
runs:
  using: node24
  main: ../../dist/probe/index.js
  post: ../../dist/probe/post.js
`;

const MAIN_JS = `const fs = require('fs');
const token = process.env.INPUT_TOKEN;
if (token) console.log('::add-mask::' + token);
console.log('probe says ' + process.env.INPUT_MESSAGE + ' (token ' + token + ', defaulted ' + process.env.INPUT_DEFAULTED + ')');
console.log('::debug::debug line');
console.log('region=' + (process.env.AWS_REGION || '-') + ' endpoint=' + (process.env.AWS_ENDPOINT_URL || '-'));
fs.appendFileSync(process.env.GITHUB_OUTPUT, 'echoed=' + process.env.INPUT_MESSAGE + '\\n');
fs.appendFileSync(process.env.GITHUB_STATE, 'said=' + process.env.INPUT_MESSAGE + '\\n');
fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, '### probe: ' + process.env.INPUT_MESSAGE + ' ' + token + '\\n');
if (process.env.INPUT_MODE === 'fail') { console.log('::error::probe failed on purpose'); process.exit(1); }
`;
const POST_JS = `console.log('post after ' + process.env.STATE_said);\n`;

function write(path: string, text: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'shipkit-runner-'));
  write(join(root, 'actions', 'probe', 'action.yml'), ACTION_YML);
  write(join(root, 'dist', 'probe', 'index.js'), MAIN_JS);
  write(join(root, 'dist', 'probe', 'post.js'), POST_JS);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(
  yaml: string,
  opts: Partial<RunnerOptions> = {},
  extra: Record<string, string> = {},
): Promise<WorkflowRun> {
  const dir = join(root, `wf-${++runs}`);
  for (const [name, text] of Object.entries(extra)) write(join(dir, name), text);
  const path = write(join(dir, 'workflow.yml'), yaml);
  return runWorkflow(path, {
    root,
    workspace: root,
    event: 'push',
    outDir: join(dir, 'out'),
    sha: 'a'.repeat(40),
    ...opts,
  });
}

function logsOf(job: JobResult): string {
  return job.steps.map((s) => readFileSync(s.log, 'utf8')).join('\n');
}

test('steps run in order with outputs, env files, defaults from expressions and a post step', async () => {
  const r = await run(`
on: push
env: { GREETING: hello }
jobs:
  one:
    runs-on: ubuntu-24.04
    outputs:
      echoed: \${{ steps.probe.outputs.echoed }}
    steps:
      - id: first
        run: |
          echo "word=world" >> "$GITHUB_OUTPUT"
          echo "LATER=set-by-env-file" >> "$GITHUB_ENV"
      - id: probe
        uses: your-org/shipkit/actions/probe@v1
        with:
          message: \${{ env.GREETING }} \${{ steps.first.outputs.word }}
      - run: echo "later=$LATER"
`);
  expect(r.result).toBe('success');
  const job = r.jobs[0];
  expect(job.outputs).toEqual({ echoed: 'hello world' });
  expect(job.steps.map((s) => [s.stage, s.outcome])).toEqual([
    ['main', 'success'],
    ['main', 'success'],
    ['main', 'success'],
    ['post', 'success'],
  ]);
  const logs = logsOf(job);
  expect(logs).toContain('probe says hello world');
  expect(logs).toContain('defaulted push');
  expect(logs).toContain('later=set-by-env-file');
  expect(logs).toContain('post after hello world');
  expect(job.summary).toContain('### probe: hello world');
});

test('a failure skips later steps except if: failure() and always(), and post steps still run', async () => {
  const r = await run(`
on: push
jobs:
  one:
    runs-on: ubuntu-24.04
    steps:
      - id: probe
        uses: ./actions/probe
        with: { message: m, mode: fail }
      - id: skipped
        run: echo never
      - id: on-failure
        if: failure() && steps.probe.outcome == 'failure'
        run: echo "caught \${{ steps.probe.outputs.echoed }}"
      - id: tolerated
        if: always()
        continue-on-error: true
        run: exit 3
      - if: always()
        run: echo always
  two:
    needs: one
    runs-on: ubuntu-24.04
    steps:
      - run: echo never
  three:
    needs: one
    if: always() && needs.one.result == 'failure'
    runs-on: ubuntu-24.04
    steps:
      - run: echo "after a failed job"
`);
  expect(r.result).toBe('failure');
  const [one, two, three] = r.jobs;
  expect(one.result).toBe('failure');
  expect(one.steps.map((s) => `${s.id}:${s.outcome}/${s.conclusion}`)).toEqual([
    'probe:failure/failure',
    'skipped:skipped/skipped',
    'on-failure:success/success',
    'tolerated:failure/success',
    '__5:success/success',
    'post-probe:success/success',
  ]);
  expect(one.steps[0].error).toBe('probe failed on purpose');
  expect(logsOf(one)).toContain('caught m');
  expect(two.result).toBe('skipped');
  expect(three.result).toBe('success');
});

test('a reusable workflow beside the caller is called with typed inputs and gives its outputs', async () => {
  const called = `
on:
  workflow_call:
    inputs:
      environment: { type: string, required: true }
      backup: { type: boolean, default: false }
      region: { type: string, default: eu-west-1 }
    outputs:
      echoed:
        value: \${{ jobs.inner.outputs.echoed }}
jobs:
  inner:
    runs-on: ubuntu-24.04
    outputs:
      echoed: \${{ steps.probe.outputs.echoed }}
    steps:
      - if: inputs.backup
        run: echo backing up
      - id: probe
        uses: your-org/shipkit/actions/probe@v1
        with:
          message: \${{ inputs.environment }}/\${{ inputs.region }}/\${{ inputs.backup }}
`;
  const r = await run(
    `
on: push
jobs:
  deploy:
    uses: ./.github/workflows/called.yml
    with:
      environment: staging
  report:
    needs: deploy
    runs-on: ubuntu-24.04
    steps:
      - run: echo "deployed \${{ needs.deploy.outputs.echoed }}"
`,
    {},
    { 'called.yml': called },
  );
  expect(r.result).toBe('success');
  expect(r.jobs[0].outputs).toEqual({ echoed: 'staging/eu-west-1/false' });
  expect(r.jobs[0].called?.jobs[0].steps[0].outcome).toBe('skipped');
  expect(logsOf(r.jobs[1])).toContain('deployed staging/eu-west-1/false');
});

test('workflow_dispatch inputs are typed and checked, and a matrix from fromJSON expands', async () => {
  const yaml = `
on:
  workflow_dispatch:
    inputs:
      environment:
        type: choice
        options: [all, staging, production]
        default: all
jobs:
  backup:
    strategy:
      matrix:
        environment: \${{ fromJSON(inputs.environment != 'all' && format('["{0}"]', inputs.environment) || '["staging","production"]') }}
    runs-on: ubuntu-24.04
    steps:
      - run: echo "backing up \${{ matrix.environment }}"
`;
  const all = await run(yaml, { event: 'workflow_dispatch' });
  const one = await run(yaml, {
    event: 'workflow_dispatch',
    inputs: { environment: 'production' },
  });
  expect(all.result).toBe('success');
  const dir = all.outDir;
  expect(
    readdirSync(dir)
      .filter((d) => d.startsWith('backup'))
      .sort(),
  ).toEqual(['backup-production', 'backup-staging']);
  expect(one.outDir && readdirSync(one.outDir).filter((d) => d.startsWith('backup'))).toEqual([
    'backup-production',
  ]);
  await expect(
    run(yaml, { event: 'workflow_dispatch', inputs: { environment: 'qa' } }),
  ).rejects.toThrow('input `environment` must be one of all, staging, production, got `qa`');
  await expect(run(yaml, { event: 'push' })).rejects.toThrow('does not run on `push`');
});

test('the credential step is replaced by local AWS settings, and refuses without them', async () => {
  const yaml = `
on: push
jobs:
  one:
    runs-on: ubuntu-24.04
    permissions: { id-token: write }
    steps:
      - uses: aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c
        with:
          role-to-assume: arn:aws:iam::111122223333:role/deploy
          aws-region: eu-central-1
      - uses: ./actions/probe
        with: { message: m }
`;
  const without = await run(yaml);
  expect(without.result).toBe('failure');
  expect(without.jobs[0].steps[0].error).toContain('refusing to reach AWS');
  const local = await run(yaml, { awsEnv: { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' } });
  expect(local.result).toBe('success');
  expect(local.jobs[0].steps[0].replaced).toContain(
    'instead of assuming arn:aws:iam::111122223333:role/deploy',
  );
  expect(logsOf(local.jobs[0])).toContain('region=eu-central-1 endpoint=http://127.0.0.1:4566');
});

test('secrets and masked values never reach logs or summaries', async () => {
  const r = await run(
    `
on: push
jobs:
  one:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "db is \${{ secrets.DATABASE_URL }}"
      - uses: ./actions/probe
        with: { message: m, token: tok-987654 }
      - run: echo "again tok-987654"
`,
    { secrets: { DATABASE_URL: 'postgres://u:hunter2@db/app' } },
  );
  expect(r.result).toBe('success');
  const everything =
    logsOf(r.jobs[0]) + r.jobs[0].summary + readFileSync(join(r.outDir, 'run.json'), 'utf8');
  expect(everything).not.toContain('hunter2');
  expect(everything).not.toContain('tok-987654');
  expect(everything).toContain('db is ***');
  expect(everything).toContain('again ***');
});

test('an action the local runner cannot run fails the step with a clear message', async () => {
  const r = await run(`
on: push
jobs:
  one:
    runs-on: ubuntu-24.04
    steps:
      - uses: docker/build-push-action@v6
      - uses: your-org/shipkit/actions/missing@v1
        if: always()
`);
  expect(r.jobs[0].steps.map((s) => s.error)).toEqual([
    expect.stringContaining('`docker/build-push-action@v6` is not available in the local runner'),
    'shipkit action `missing` does not exist (no actions/missing/action.yml)',
  ]);
});

describe('selecting jobs and skipped runs', () => {
  const yaml = `
on: push
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - run: echo built
  test:
    needs: build
    runs-on: ubuntu-24.04
    steps:
      - run: echo tested
  deploy:
    needs: test
    runs-on: ubuntu-24.04
    steps:
      - run: echo deployed
`;

  test('a selected job whose needs are not selected is refused before anything runs, naming the jobs to select', async () => {
    await expect(run(yaml, { jobs: ['deploy'] })).rejects.toThrow(
      'job `deploy` needs `test`, `build`, which are not selected: a job runs only after the jobs it needs succeeded, so select them too (--job build --job test --job deploy)',
    );
    await expect(run(yaml, { jobs: ['deploy', 'test'] })).rejects.toThrow(
      'job `deploy` needs `build`',
    );
    await expect(run(yaml, { jobs: ['deplyo'] })).rejects.toThrow(
      'there is no job `deplyo` to select (jobs: build, test, deploy)',
    );
  });

  test('a selection with its needs runs those jobs and reports the others as skipped', async () => {
    const r = await run(yaml, { jobs: ['build', 'test'] });
    expect(r.jobs.map((j) => `${j.id}:${j.result}`)).toEqual([
      'build:success',
      'test:success',
      'deploy:skipped',
    ]);
    expect(r.result).toBe('success');
  });

  test('a workflow whose jobs were all skipped is reported as skipped, not success', async () => {
    const r = await run(`
on: push
jobs:
  nightly:
    if: github.event_name == 'schedule'
    runs-on: ubuntu-24.04
    steps:
      - run: echo never
  after:
    needs: nightly
    runs-on: ubuntu-24.04
    steps:
      - run: echo never
`);
    expect(r.jobs.map((j) => j.result)).toEqual(['skipped', 'skipped']);
    expect(r.result).toBe('skipped');
  });

  test('a called workflow whose jobs were all skipped makes its calling job skipped', async () => {
    const called = `
on: workflow_call
jobs:
  inner:
    if: github.event_name == 'schedule'
    runs-on: ubuntu-24.04
    steps:
      - run: echo never
`;
    const r = await run(
      `
on: push
jobs:
  deploy:
    uses: ./.github/workflows/called.yml
`,
      {},
      { 'called.yml': called },
    );
    expect(r.jobs[0].result).toBe('skipped');
    expect(r.result).toBe('skipped');
  });
});

describe('the Slack action, replaced by a POST to a local webhook', () => {
  const yaml = `
on: push
jobs:
  notify:
    runs-on: ubuntu-24.04
    steps:
      - id: deploy
        run: echo "status=failed" >> "$GITHUB_OUTPUT"
      - id: slack
        uses: slackapi/slack-github-action@91efab103c0de0a537f72a35f6b8cda0ee76bf0a # v2.1.1
        with:
          webhook: \${{ secrets.SLACK_WEBHOOK_URL }}
          webhook-type: incoming-webhook
          payload: |
            text: "Deploy of api \${{ steps.deploy.outputs.status }}"
            blocks:
              - type: section
                text: { type: mrkdwn, text: "*api*: \${{ steps.deploy.outputs.status }}" }
`;

  async function webhook(status = 200): Promise<{
    url: string;
    bodies: unknown[];
    close(): Promise<void>;
  }> {
    const bodies: unknown[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        bodies.push({
          method: req.method,
          type: req.headers['content-type'],
          json: JSON.parse(text),
        });
        res.writeHead(status).end(status === 200 ? 'ok' : 'invalid_payload');
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}/slack`,
      bodies,
      close: () => new Promise<void>((done) => server.close(() => done())),
    };
  }

  test('the payload the action would send is POSTed as JSON to the local webhook, never to Slack', async () => {
    const hook = await webhook();
    try {
      const r = await run(yaml, {
        slackWebhookUrl: hook.url,
        secrets: { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/secret' },
      });
      expect(r.result).toBe('success');
      expect(hook.bodies).toEqual([
        {
          method: 'POST',
          type: 'application/json; charset=utf-8',
          json: {
            text: 'Deploy of api failed',
            blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*api*: failed' } }],
          },
        },
      ]);
      const step = r.jobs[0].steps[1];
      expect(step.outputs.ok).toBe('true');
      expect(step.replaced).toContain(`POSTed to the local webhook ${hook.url} instead of Slack`);
      expect(readFileSync(step.log, 'utf8')).toContain('"text": "Deploy of api failed"');
      expect(readFileSync(join(r.outDir, 'run.json'), 'utf8')).not.toContain('secret');
    } finally {
      await hook.close();
    }
  });

  test('without a local webhook the payload is only written to the log, and the step succeeds', async () => {
    const r = await run(yaml);
    expect(r.result).toBe('success');
    const step = r.jobs[0].steps[1];
    expect(step.replaced).toContain('not sent (no local webhook configured)');
    expect(readFileSync(step.log, 'utf8')).toContain('"text": "*api*: failed"');
  });

  test('a refused message is a warning, or a failure with errors: true, as in the action', async () => {
    const hook = await webhook(400);
    try {
      const warned = await run(yaml, { slackWebhookUrl: hook.url });
      expect(warned.result).toBe('success');
      expect(warned.jobs[0].steps[1].annotations).toEqual([
        { level: 'warning', text: 'the local webhook answered HTTP 400' },
      ]);
      const failed = await run(
        yaml.replace('webhook-type:', 'errors: true\n          webhook-type:'),
        {
          slackWebhookUrl: hook.url,
        },
      );
      expect(failed.result).toBe('failure');
      expect(failed.jobs[0].steps[1].error).toBe('the local webhook answered HTTP 400');
    } finally {
      await hook.close();
    }
  });

  test('payload-delimiter flattens the payload into string values, for Workflow Builder', async () => {
    const hook = await webhook();
    try {
      await run(
        yaml
          .replace('webhook-type: incoming-webhook', 'webhook-type: webhook-trigger')
          .replace('payload: |', 'payload-delimiter: "_"\n          payload: |'),
        { slackWebhookUrl: hook.url },
      );
      expect((hook.bodies[0] as { json: unknown }).json).toEqual({
        text: 'Deploy of api failed',
        blocks_0_type: 'section',
        blocks_0_text_type: 'mrkdwn',
        blocks_0_text_text: '*api*: failed',
      });
    } finally {
      await hook.close();
    }
  });
});
