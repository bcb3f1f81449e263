import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { runWorkflow } from '../../../packages/workflow/src/runner';
import { startHarness, type Harness } from '../local-aws/support';

// The example scheduled task, run by the local runner with the real bundle against local-aws:
// run-task starts the service's task definition with the job's command and streams its logs.
const ROOT = join(__dirname, '..', '..', '..');
let h: Harness;
let out: string;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'shipkit-scheduled-task-workflow-'));
  h = await startHarness({ timeScale: 30 });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'app-production' }));
  const image = await h.pushApp('app-production', 'v1');
  const td = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'app',
      containerDefinitions: [
        {
          name: 'app',
          image,
          portMappings: [{ containerPort: 8080 }],
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': '/ecs/app-production',
              'awslogs-region': 'us-east-1',
              'awslogs-stream-prefix': 'app',
              'awslogs-create-group': 'true',
            },
          },
        },
      ],
    }),
  );
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'app-production',
      serviceName: 'app',
      taskDefinition: td.taskDefinition!.taskDefinitionArn!,
      desiredCount: 0,
    }),
  );
});

afterAll(async () => {
  await h?.close();
  rmSync(out, { recursive: true, force: true });
});

test.each<[string, string, string, string]>([
  ['succeeds with', 'success', '0', 'succeeded'],
  ['fails with', 'failure', '3', 'failed'],
])(
  'scheduled-task.yml runs the job in the service task and %s its exit code',
  async (_what, outcome, exitCode, status) => {
    const command = JSON.stringify([
      'node',
      '-e',
      `console.log('crawled 3 pages'); process.exit(${exitCode})`,
    ]);
    const run = await runWorkflow(join(ROOT, 'workflows-examples', 'scheduled-task.yml'), {
      root: ROOT,
      event: 'workflow_dispatch',
      inputs: { command },
      vars: { ECS_CLUSTER: 'app-production', ECS_SERVICE: 'app', AWS_REGION: 'us-east-1' },
      awsEnv: {
        AWS_ENDPOINT_URL: h.aws.endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      },
      outDir: out,
    });
    const [job] = run.jobs;
    const crawl = job.steps.find((s) => s.id === 'crawl')!;
    expect(crawl.outcome).toBe(outcome);
    if (outcome === 'failure')
      expect(crawl.error).toMatch(/exited with code 3[\s\S]*crawled 3 pages/);
    expect(crawl.outputs).toMatchObject({ 'exit-code': exitCode, status });
    expect(readFileSync(crawl.log, 'utf8')).toContain('crawled 3 pages');
    // Notifications are configured in neither case, so no notification step runs.
    expect(job.steps.filter((s) => /^Notify/.test(s.name)).map((s) => s.outcome)).toEqual([
      'skipped',
      'skipped',
    ]);
    const left = await h.ecs.send(new ListTasksCommand({ cluster: 'app-production' }));
    expect(left.taskArns).toEqual([]);
  },
);
