import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..', '..');
const EXAMPLES = join(ROOT, 'workflows-examples');
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yml'));
const SLACK = /^slackapi\/slack-github-action@[0-9a-f]{40}$/;

interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  env?: Record<string, string>;
  steps?: Step[];
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: unknown;
}
interface Workflow {
  on: Record<string, { inputs?: Record<string, unknown> } | null>;
  jobs: Record<string, Job>;
}

const text = (file: string): string => readFileSync(join(EXAMPLES, file), 'utf8');
const workflow = (file: string): Workflow => parse(text(file)) as Workflow;
const steps = (file: string): Step[] =>
  Object.values(workflow(file).jobs).flatMap((j) => j.steps ?? []);

describe('one source of truth for the region', () => {
  test.each(files)('%s names no region of its own', (file) => {
    const code = text(file)
      .split('\n')
      .map((line) => line.replace(/(^|\s)#.*$/, ''))
      .join('\n');
    expect(code).not.toMatch(/\b(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d\b/);
  });

  test.each(files)('%s gives every credential step the AWS_REGION variable', (file) => {
    for (const step of steps(file).filter((s) => s.uses?.startsWith('aws-actions/'))) {
      expect(step.with?.['aws-region']).toBe('${{ vars.AWS_REGION }}');
    }
  });

  test('the reusable deploy takes no region input that could differ from the variable', () => {
    const call = workflow('deploy.yml').on.workflow_call!;
    expect(Object.keys(call.inputs ?? {})).not.toContain('aws-region');
  });
});

describe('notifications', () => {
  test.each(['deploy.yml', 'rollback.yml', 'db-backup-nightly.yml'])(
    '%s notifies Slack with the maintained action, pinned, only when a webhook is set',
    (file) => {
      const slack = steps(file).filter((s) => /^slackapi\//.test(s.uses ?? ''));
      expect(slack).toHaveLength(1);
      const [step] = slack;
      expect(step.uses).toMatch(SLACK);
      expect(step.with).toMatchObject({
        webhook: '${{ secrets.SLACK_WEBHOOK_URL }}',
        'webhook-type': 'incoming-webhook',
      });
      expect(step.if).toContain("env.SLACK_CONFIGURED == 'true'");
      const job = Object.values(workflow(file).jobs).find((j) =>
        j.steps?.some((s) => s.uses === step.uses),
      );
      expect(job?.env?.SLACK_CONFIGURED).toBe("${{ secrets.SLACK_WEBHOOK_URL != '' }}");
      // The payload is one JSON string made by toJSON, so no text from outside can break it.
      expect(String(step.with?.payload)).toMatch(/^text: \$\{\{ toJSON\(/);
    },
  );

  test.each(['deploy.yml', 'rollback.yml', 'db-backup-nightly.yml'])(
    '%s has the SNS variant, published with the AWS CLI only when a topic is set',
    (file) => {
      const sns = steps(file).filter((s) => (s.run ?? '').includes('aws sns publish'));
      expect(sns).toHaveLength(1);
      const topic = `${sns[0].if ?? ''} ${JSON.stringify(sns[0].env ?? {})} ${sns[0].run}`;
      expect(topic).toContain('vars.SNS_TOPIC_ARN');
    },
  );

  test('every deploy caller passes the Slack secret on; only production notifies successes', () => {
    for (const file of ['deploy-dev.yml', 'deploy-staging.yml', 'deploy-production.yml']) {
      const caller = workflow(file).jobs.deploy;
      expect(caller.secrets).toBe('inherit');
      expect(caller.with?.['notify-on-success'] ?? false).toBe(file === 'deploy-production.yml');
    }
  });
});

describe("the deploy notification's message", () => {
  const compose = steps('deploy.yml').find((s) => s.id === 'notice')!;
  const slackStep = steps('deploy.yml').find((s) => /^slackapi\//.test(s.uses ?? ''))!;
  const snsStep = steps('deploy.yml').find((s) => (s.run ?? '').includes('aws sns publish'))!;

  /** Runs the compose step's script as the runner would and returns its outputs. */
  function composeWith(env: Record<string, string>): Record<string, string> {
    const dir = mkdtempSync(join(tmpdir(), 'notice-'));
    try {
      const output = join(dir, 'output');
      const run = spawnSync('bash', ['-e', '-c', compose.run!], {
        env: { PATH: process.env.PATH, GITHUB_OUTPUT: output, ...env },
        encoding: 'utf8',
        // A socket on standard input makes bash read ~/.bashrc; the runner gives it none.
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const outputs: Record<string, string> = {};
      const lines = readFileSync(output, 'utf8').split('\n');
      for (let i = 0; i < lines.length; i++) {
        const heredoc = /^([\w-]+)<<(.+)$/.exec(lines[i]);
        const single = /^([\w-]+)=(.*)$/.exec(lines[i]);
        if (heredoc) {
          const end = lines.indexOf(heredoc[2], i + 1);
          outputs[heredoc[1]] = lines.slice(i + 1, end).join('\n');
          i = end;
        } else if (single) outputs[single[1]] = single[2];
      }
      return outputs;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const failedGate = {
    JOB_STATUS: 'failure',
    ENVIRONMENT: 'production',
    SERVICE: 'app',
    CLUSTER: 'app-production',
    IMAGE: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:9f2c',
    FROM: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/app:41',
    TO: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/app:42',
    RELEASE: '',
    DEPLOY_STATUS: 'succeeded',
    DEPLOY_REASON: 'Deployed app:42.',
    MIGRATE_OUTCOME: 'skipped',
    MIGRATE_REASON: '',
    GATE_OUTCOME: 'failure',
    GATE_REASON: 'https://app.example.com/health became unhealthy: <3> & more',
    ROLLBACK_STATUS: 'succeeded',
    RUN_URL: 'https://github.com/acme/app/actions/runs/42',
  };

  test('the compose step is given every value the message needs from shipkit outputs', () => {
    expect(Object.keys(compose.env ?? {}).sort()).toEqual(Object.keys(failedGate).sort());
    expect(compose.env).toMatchObject({
      FROM: '${{ steps.deploy.outputs.previous-task-definition-arn }}',
      TO: '${{ steps.deploy.outputs.task-definition-arn }}',
      RELEASE: '${{ steps.deploy.outputs.services }}',
      DEPLOY_STATUS: '${{ steps.deploy.outputs.status }}',
      DEPLOY_REASON: '${{ steps.deploy.outputs.reason }}',
      GATE_REASON: '${{ steps.gate.outputs.reason }}',
      ROLLBACK_STATUS:
        '${{ steps.rollback.outputs.status || steps.rollback-release.outputs.status }}',
      IMAGE: '${{ steps.image.outputs.image }}',
      MIGRATE_OUTCOME: '${{ steps.migrate.outcome }}',
      MIGRATE_REASON: '${{ steps.migrate.outputs.reason }}',
    });
  });

  test('a failed migration says so and gives its reason; nothing was deployed', () => {
    const failedMigration = composeWith({
      JOB_STATUS: 'failure',
      ENVIRONMENT: 'staging',
      SERVICE: 'app',
      CLUSTER: 'app-staging',
      IMAGE: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:9f2c',
      MIGRATE_OUTCOME: 'failure',
      MIGRATE_REASON: 'Task 0123 exited with code 3: relation "users" already exists',
      RUN_URL: 'https://github.com/acme/app/actions/runs/8',
    });
    expect(failedMigration.text.split('\n').slice(3, 5)).toEqual([
      'Status: migration failed, deploy not started',
      'Reason: Task 0123 exited with code 3: relation "users" already exists',
    ]);
  });

  test('a failed gate names the service, both versions, every status, the gate reason and the run', () => {
    expect(composeWith(failedGate).text.split('\n')).toEqual([
      '❌ app: deploy to production failed',
      'Service: app (cluster app-production)',
      'Version: app:41 → app:42',
      'Image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:9f2c',
      'Status: deploy succeeded, health gate failed, rollback succeeded',
      'Reason: https://app.example.com/health became unhealthy: <3> & more',
      'Run: https://github.com/acme/app/actions/runs/42',
    ]);
  });

  test('the Slack text escapes the characters Slack reads as markup; SNS gets the plain text', () => {
    const out = composeWith(failedGate);
    expect(out['slack-text']).toContain('became unhealthy: &lt;3&gt; &amp; more');
    expect(out.subject).toBe('app: deploy to production failed');
    expect(slackStep.with?.payload).toContain('steps.notice.outputs.slack-text');
    expect(snsStep.env).toMatchObject({
      TEXT: '${{ steps.notice.outputs.text }}',
      SUBJECT: '${{ steps.notice.outputs.subject }}',
    });
  });

  test('a failed deploy gives the deploy reason; a job that stopped before it says so', () => {
    const failedDeploy = composeWith({
      ...failedGate,
      DEPLOY_STATUS: 'rolled-back',
      DEPLOY_REASON: 'Tasks stopped: Essential container in task exited (exit code 1).',
      GATE_OUTCOME: 'skipped',
      GATE_REASON: '',
    });
    expect(failedDeploy.text).toContain('Status: deploy rolled-back, rollback succeeded\n');
    expect(failedDeploy.text).toContain('Reason: Tasks stopped: Essential container');

    const early = composeWith({
      JOB_STATUS: 'failure',
      ENVIRONMENT: 'staging',
      SERVICE: 'app',
      CLUSTER: 'app-staging',
      RUN_URL: 'https://github.com/acme/app/actions/runs/7',
    });
    expect(early.text.split('\n')).toEqual([
      '❌ app: deploy to staging failed',
      'Service: app (cluster app-staging)',
      'Status: deploy not started',
      'Reason: the job stopped before the deploy finished (see the run)',
      'Run: https://github.com/acme/app/actions/runs/7',
    ]);
  });

  test('a release names every service, with its revisions and how each ended', () => {
    const arn = (revision: string): string =>
      `arn:aws:ecs:eu-west-1:111122223333:task-definition/${revision}`;
    const release = composeWith({
      ...failedGate,
      SERVICE: 'api\nworker\nweb\n',
      IMAGE: '',
      FROM: '',
      TO: '',
      RELEASE: JSON.stringify({
        api: {
          status: 'rolled-back',
          'task-definition-arn': arn('api:5'),
          'previous-task-definition-arn': arn('api:4'),
          reason: '',
        },
        worker: {
          status: 'rolled-back',
          'task-definition-arn': arn('worker:9'),
          'previous-task-definition-arn': arn('worker:8'),
          reason: 'Tasks stopped: exit code 1.',
        },
        web: {
          status: 'unchanged',
          'task-definition-arn': arn('web:2'),
          'previous-task-definition-arn': '',
          reason: '',
        },
      }),
      DEPLOY_STATUS: 'rolled-back',
      DEPLOY_REASON: 'worker failed: Tasks stopped: exit code 1. Rolled back: api, worker.',
      GATE_OUTCOME: 'skipped',
      GATE_REASON: '',
      ROLLBACK_STATUS: '',
    });
    expect(release.subject).toBe('api, worker, web: deploy to production failed');
    expect(release.text.split('\n')).toEqual([
      '❌ api, worker, web: deploy to production failed',
      'Service: api, worker, web (cluster app-production)',
      'api: api:4 → api:5 (rolled-back)',
      'worker: worker:8 → worker:9 (rolled-back)',
      'web: web:2 (unchanged)',
      'Status: deploy rolled-back',
      'Reason: worker failed: Tasks stopped: exit code 1. Rolled back: api, worker.',
      'Run: https://github.com/acme/app/actions/runs/42',
    ]);
  });

  test('a production success is announced as such', () => {
    const ok = composeWith({
      ...failedGate,
      JOB_STATUS: 'success',
      GATE_OUTCOME: 'success',
      GATE_REASON: 'passed',
      ROLLBACK_STATUS: '',
    });
    expect(ok.text.split('\n').slice(0, 1)).toEqual(['✅ app deployed to production']);
    expect(ok.text).toContain(
      'Status: deploy succeeded, health gate passed\nReason: Deployed app:42.',
    );
  });

  test('it runs on failure, or on success when asked, and only when a channel is configured', () => {
    expect(compose.if).toContain('failure() || inputs.notify-on-success');
    expect(compose.if).toContain("env.SLACK_CONFIGURED == 'true' || vars.SNS_TOPIC_ARN != ''");
    expect(compose.if).toContain('!cancelled()');
  });
});
