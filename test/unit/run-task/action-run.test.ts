/**
 * The run-task action's own layer, through `run(deps)` with a fake ECS, fake CloudWatch Logs and
 * a virtual clock: the outputs and the summary's verdict for a task that exits 0, one that exits
 * 3 and one that outlives its timeout (stopped with StopTask), and bad inputs refused before any
 * call.
 */
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { run } from '../../../actions/run-task/src/main';
import { logStreamConsoleUrl } from '../../../packages/ecs/src/run-task/target';
import { runInProcess, type InProcessRun } from '../rollback/in-process-run';
import { FakeClock, FakeEcs, FakeLogs, stoppedWith, type Script } from './fakes';

const TD_ARN = 'arn:aws:ecs:us-east-1:000000000000:task-definition/migrate:4';

/** `migrate:4`: one essential container `job` logging to CloudWatch with a stream prefix. */
const definition: TaskDefinition = {
  taskDefinitionArn: TD_ARN,
  family: 'migrate',
  revision: 4,
  containerDefinitions: [
    {
      name: 'job',
      image: 'registry.example/jobs:v4',
      essential: true,
      logConfiguration: {
        logDriver: 'awslogs',
        options: {
          'awslogs-group': '/ecs/jobs',
          'awslogs-region': 'us-east-1',
          'awslogs-stream-prefix': 'jobs',
        },
      },
    },
  ],
};

const ENV = {
  AWS_REGION: 'us-east-1',
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_RUN_ID: '7',
};

interface TaskRun {
  result: InProcessRun;
  ecs: FakeEcs;
  logs: FakeLogs;
}

/** Runs the action on one task following `script`, its log stream holding `lines`. */
async function runTask(
  inputs: Record<string, string>,
  script: Script,
  lines: string[] = [],
  env: Record<string, string | undefined> = ENV,
): Promise<TaskRun> {
  const ecs = new FakeEcs([script]);
  ecs.taskDefinition = { ...definition };
  const logs = new FakeLogs();
  logs.streams.set(`jobs/job/${ecs.arn(0).split('/').pop()}`, lines);
  const clock = new FakeClock();
  const result = await runInProcess(
    () => run({ ecs, logs: () => logs, clock }),
    { cluster: 'jobs', 'task-definition': 'migrate:4', ...inputs },
    env,
  );
  return { result, ecs, logs };
}

/** Running for the first two looks, then stopped with container `job` exiting `code`. */
const exitsWith =
  (code: number): Script =>
  (n) =>
    n < 3 ? { lastStatus: 'RUNNING' } : stoppedWith(code);

/** Running until StopTask, then stopped by the user with SIGKILL's exit code. */
const neverEnds: Script = (_n, stopped) =>
  stopped
    ? {
        lastStatus: 'STOPPED',
        stopCode: 'UserInitiated',
        stoppedReason: 'Stopped by shipkit run-task',
        containers: [{ name: 'job', exitCode: 137 }],
      }
    : { lastStatus: 'RUNNING' };

const verdictLine = (summary: string): string => summary.split('\n')[0];

describe('run-task through run(deps): outputs and summary verdict', () => {
  test.each([
    {
      name: 'a task that exits 0 succeeds: exit code 0, the step passes',
      script: exitsWith(0),
      timeout: '5m',
      status: 'succeeded',
      exitCode: '0',
      reason: /^Task 0{32} of migrate:4 exited with code 0 after \d+(\.\d+)?s\.$/,
      verdict: '### ✅ Run task migrate:4: exited 0',
      stepExitCode: undefined,
      stops: 0,
    },
    {
      name: 'a task that exits 3 fails: exit code 3, the step fails with the reason',
      script: exitsWith(3),
      timeout: '5m',
      status: 'failed',
      exitCode: '3',
      reason:
        /essential container `job` exited with code 3; stopped: EssentialContainerExited: Essential container in task exited\./,
      verdict: '### ❌ Run task migrate:4: failed',
      stepExitCode: 1,
      stops: 0,
    },
    {
      name: 'a task that outlives its timeout is stopped with StopTask and the step fails',
      script: neverEnds,
      timeout: '10s',
      status: 'timed-out',
      exitCode: '137',
      reason: /^Task 0{32} did not stop within 10s: stopped 0{32} \(StopTask\)\./,
      verdict: '### ❌ Run task migrate:4: timed out',
      stepExitCode: 1,
      stops: 1,
    },
  ])('$name', async (c) => {
    const { result, ecs } = await runTask({ timeout: c.timeout }, c.script, ['migrating', 'done']);

    expect(result.outputs.status).toBe(c.status);
    expect(result.outputs['exit-code']).toBe(c.exitCode);
    expect(result.outputs.reason).toMatch(c.reason);
    expect(result.outputs['task-arns']).toBe(ecs.arn(0));
    expect(result.outputs['log-url']).toBe(
      logStreamConsoleUrl('us-east-1', '/ecs/jobs', `jobs/job/${ecs.arn(0).split('/').pop()}`),
    );
    expect(verdictLine(result.summary)).toBe(c.verdict);
    expect(result.summary).toContain(`| **Status** | \`${c.status}\` |`);
    expect(result.summary).toContain(`| **Exit code** | ${c.exitCode} |`);
    expect(result.exitCode).toBe(c.stepExitCode);
    expect(result.errors).toEqual(c.stepExitCode ? [result.outputs.reason] : []);
    expect(ecs.stops).toHaveLength(c.stops);
    // The container's log lines reach the step's log.
    expect(result.lines).toEqual(expect.arrayContaining(['migrating', 'done']));
  });

  test('RunTask places no task: not-started with no exit code, nothing to stop, the step fails', async () => {
    const ecs = new FakeEcs([]);
    ecs.taskDefinition = { ...definition };
    ecs.failures = [
      { arn: 'arn:aws:ecs:us-east-1:000000000000:container-instance/x', reason: 'RESOURCE:MEMORY' },
    ];
    const result = await runInProcess(
      () => run({ ecs, logs: () => new FakeLogs(), clock: new FakeClock() }),
      { cluster: 'jobs', 'task-definition': 'migrate:4' },
      ENV,
    );

    expect(result.outputs.status).toBe('not-started');
    expect(result.outputs['exit-code']).toBe('');
    expect(result.outputs['task-arns']).toBe('');
    expect(result.outputs.reason).toBe(
      'RunTask started 0 of 1 task(s): arn:aws:ecs:us-east-1:000000000000:container-instance/x: RESOURCE:MEMORY.',
    );
    expect(verdictLine(result.summary)).toBe('### ❌ Run task migrate:4: not started');
    expect(result.summary).toContain('RESOURCE:MEMORY');
    expect(result.exitCode).toBe(1);
    expect(ecs.stops).toEqual([]);
  });

  test('the timeout stops the task it started, saying who stopped it and why', async () => {
    const { ecs } = await runTask({ timeout: '10s' }, neverEnds);
    expect(ecs.stops).toEqual([
      {
        cluster: 'jobs',
        task: ecs.arn(0),
        reason: 'Stopped by shipkit run-task (acme/shop run 7): timed out after 10s',
      },
    ]);
  });

  test('the RunTask request carries the inputs: cluster, definition, command and started-by', async () => {
    const { ecs } = await runTask(
      { command: 'npx prisma migrate deploy', 'started-by': 'deploy/7' },
      exitsWith(0),
    );
    expect(ecs.runInput).toMatchObject({
      cluster: 'jobs',
      taskDefinition: TD_ARN,
      count: 1,
      startedBy: 'deploy/7',
      overrides: {
        containerOverrides: [{ name: 'job', command: ['npx', 'prisma', 'migrate', 'deploy'] }],
      },
    });
  });
});

describe('run-task through run(deps): bad inputs fail before any ECS or logs call', () => {
  test.each<{ inputs: Record<string, string>; says: string }>([
    {
      inputs: { 'task-definition': '' },
      says: 'Input `task-definition` (a family, `family:revision`, an ARN or a `.json` file) or `service` is required.',
    },
    {
      inputs: { service: 'web' },
      says: 'Inputs `service` and `task-definition` are exclusive',
    },
    { inputs: { 'task-definition': 'migrate:four' }, says: 'Input `task-definition` must be' },
    { inputs: { count: '0' }, says: 'Input `count` must be a whole number' },
    { inputs: { timeout: 'forever' }, says: 'Input `timeout` must be' },
    { inputs: { command: '["npx", 3]' }, says: 'Input `command` must be a JSON array of strings' },
    { inputs: { cluster: 'no spaces allowed' }, says: 'Input `cluster` must be a cluster name' },
    {
      inputs: { 'network-configuration': 'subnets=net-1' },
      says: 'Input `network-configuration` must be `subnets=` followed by',
    },
    { inputs: { tags: 'aws:owner=me' }, says: 'Input `tags` must be tags whose keys do not start' },
    {
      inputs: { 'container-images': 'job=registry.example/jobs:v5' },
      says: 'Input `container-images` applies to a task definition file',
    },
  ])('$says', async ({ inputs, says }) => {
    const { result, ecs, logs } = await runTask(inputs, exitsWith(0));

    expect(result.exitCode).toBe(1);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toContain(`Invalid configuration: ${says}`);
    expect(ecs.calls).toEqual([]);
    expect(logs.calls).toBe(0);
    expect(result.outputs).toEqual({});
  });

  test('no AWS region fails before any call, saying which variable to set', async () => {
    const { result, ecs } = await runTask({}, exitsWith(0), [], {
      ...ENV,
      AWS_REGION: undefined,
      AWS_DEFAULT_REGION: undefined,
    });
    expect(result.exitCode).toBe(1);
    expect(result.errors).toEqual([
      'Invalid configuration: No AWS region: set the AWS_REGION environment variable (aws-actions/configure-aws-credentials sets it).',
    ]);
    expect(ecs.calls).toEqual([]);
  });
});
