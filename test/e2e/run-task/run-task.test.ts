import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type ContainerDefinition,
} from '@aws-sdk/client-ecs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FARGATE_CAPACITY_UNAVAILABLE } from '../../../packages/local-aws/src/ecs';
import type { RequestLogEntry } from '../../../packages/local-aws/src';
import { runAction, type ActionRun, type RunOptions } from '../../support/run-action';
import { startHarness, type Harness } from '../local-aws/support';

let h: Harness;
let logs: CloudWatchLogsClient;
let image: string;
let tickets: string;
/** Every request local-aws answered, in order. */
const requests: RequestLogEntry[] = [];

const AWSLOGS = {
  logDriver: 'awslogs' as const,
  options: {
    'awslogs-group': '/ecs/jobs',
    'awslogs-region': 'us-east-1',
    'awslogs-stream-prefix': 'jobs',
  },
};

function env(): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: h.aws.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    GITHUB_RUN_ID: '4242',
    GITHUB_REPOSITORY: 'acme/shop',
  };
}

async function register(family: string, extra: Partial<ContainerDefinition> = {}, awsvpc = false) {
  await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      ...(awsvpc
        ? { networkMode: 'awsvpc', requiresCompatibilities: ['FARGATE'], cpu: '256', memory: '512' }
        : {}),
      containerDefinitions: [{ name: 'job', image, essential: true, ...extra }],
    }),
  );
}

/** Every task of the cluster by desired status (to prove none is left RUNNING). */
async function tasks(desiredStatus: 'RUNNING' | 'STOPPED'): Promise<string[]> {
  const out = await h.ecs.send(new ListTasksCommand({ cluster: 'jobs', desiredStatus }));
  return out.taskArns ?? [];
}

async function runTask(inputs: Record<string, string>, opts: RunOptions = {}): Promise<ActionRun> {
  const run = await runAction('run-task', {
    inputs: { cluster: 'jobs', ...inputs },
    env: env(),
    ...opts,
  });
  expect(await tasks('RUNNING')).toEqual([]);
  return run;
}

beforeAll(async () => {
  tickets = mkdtempSync(join(tmpdir(), 'shipkit-run-task-'));
  h = await startHarness({ timeScale: 30, logRequests: (entry) => requests.push(entry) });
  logs = new CloudWatchLogsClient({
    endpoint: h.aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/jobs' }));
  image = await h.pushApp('jobs', 'v1');
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'jobs' }));
  await register('migrate', { logConfiguration: AWSLOGS });
  await register('quiet');
});

afterAll(async () => {
  logs?.destroy();
  await h?.close();
  rmSync(tickets, { recursive: true, force: true });
});

test('exit 0 succeeds and the task log lines appear in the step log in order', async () => {
  const run = await runTask({
    'task-definition': 'migrate',
    command: `node -e "console.log('migration 1 applied'); console.log('migration 2 applied')"`,
  });
  expect(run.error).toBeUndefined();
  expect(run.code).toBe(0);
  expect(run.outputs.status).toBe('succeeded');
  expect(run.outputs['exit-code']).toBe('0');
  const first = run.stdout.indexOf('migration 1 applied');
  expect(first).toBeGreaterThan(-1);
  expect(run.stdout.indexOf('migration 2 applied')).toBeGreaterThan(first);
  const arn = run.outputs['task-arns'];
  expect(arn).toMatch(/^arn:aws:ecs:us-east-1:000000000000:task\/jobs\/[0-9a-f]{32}$/);
  expect(run.outputs['log-url']).toBe(
    `https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/$252Fecs$252Fjobs/log-events/jobs$252Fjob$252F${arn.split('/').pop()}`,
  );
  const described = await h.ecs.send(new DescribeTasksCommand({ cluster: 'jobs', tasks: [arn] }));
  expect(described.tasks![0].startedBy).toBe('shipkit/4242');
  expect(run.summary).toContain('Run task migrate:1: exited 0');
});

test('exit 3 fails with exit-code 3 and the last log lines in reason', async () => {
  const run = await runTask({
    'task-definition': 'migrate:1',
    command: JSON.stringify([
      'node',
      '-e',
      "console.log('applying 0042_add_orders'); console.error('relation orders already exists'); process.exit(3)",
    ]),
  });
  expect(run.code).toBe(1);
  expect(run.outputs.status).toBe('failed');
  expect(run.outputs['exit-code']).toBe('3');
  expect(run.outputs.reason).toContain('essential container `job` exited with code 3');
  expect(run.outputs.reason).toContain('relation orders already exists');
  expect(run.error).toContain('relation orders already exists');
});

test('SIGTERM when the first log line appears stops the task and exits', async () => {
  let sent = false;
  const run = await runTask(
    {
      'task-definition': 'migrate',
      // The line is assembled by the task, so the command echoed in the log does not contain it.
      command: `node -e "console.log(['crawl', 'started'].join(' ')); setInterval(() => {}, 1000)"`,
    },
    {
      onStart: (child) =>
        child.stdout!.on('data', (d: Buffer) => {
          if (!sent && /^crawl started$/m.test(d.toString())) {
            sent = true;
            child.kill('SIGTERM');
          }
        }),
    },
  );
  expect(sent).toBe(true);
  expect(run.outputs.status).toBe('cancelled');
  expect(run.code).not.toBe(0);
  expect(run.stdout).toMatch(/Stopped task [0-9a-f]{32} \(StopTask\)/);
  const arn = run.outputs['task-arns'];
  const described = await h.ecs.send(new DescribeTasksCommand({ cluster: 'jobs', tasks: [arn] }));
  expect(described.tasks![0].lastStatus).toBe('STOPPED');
  expect(described.tasks![0].stoppedReason).toContain(
    'Stopped by shipkit run-task (acme/shop run 4242)',
  );
});

test('a task that runs past the timeout is stopped and reported', async () => {
  const run = await runTask({
    'task-definition': 'migrate',
    command: `node -e "console.log('still crawling'); setInterval(() => {}, 1000)"`,
    timeout: '3s',
  });
  expect(run.code).toBe(1);
  expect(run.outputs.status).toBe('timed-out');
  expect(run.outputs.reason).toMatch(
    /did not stop within 3\.?0?s: stopped [0-9a-f]{32} \(StopTask\)/,
  );
  expect(run.outputs.reason).toContain('still crawling');
});

test('count 3 with one failing task fails naming that task', async () => {
  // Each task takes the next ticket; the second one exits 5.
  const script = [
    "const fs = require('fs');",
    'let n = 0;',
    "for (;; n++) { try { fs.writeFileSync(process.env.TICKETS + '/' + n, '', { flag: 'wx' }); break; } catch {} }",
    "console.log('worker ticket ' + n);",
    'process.exit(n === 1 ? 5 : 0);',
  ].join(' ');
  const run = await runTask({
    'task-definition': 'migrate',
    command: JSON.stringify(['node', '-e', script]),
    'environment-variables': `TICKETS=${tickets}`,
    count: '3',
  });
  expect(run.code).toBe(1);
  expect(run.outputs['task-arns'].split('\n')).toHaveLength(3);
  expect(run.outputs['exit-code']).toBe('5');
  const failed = /^1 of 3 tasks failed\. Task ([0-9a-f]{32}) /.exec(run.outputs.reason);
  expect(failed).not.toBeNull();
  expect(run.outputs.reason).toContain('worker ticket 1');
  // Lines of several tasks carry the task's id.
  expect(run.stdout).toContain(`[${failed![1].slice(0, 8)}] worker ticket 1`);
});

test('no Fargate capacity: not-started with the reason from RunTask, nothing waited on, nothing left', async () => {
  h.aws.ecs.withholdFargateCapacity({ runTasks: 1 });
  const stopped = await tasks('STOPPED');
  const first = requests.length;
  const run = await runAction('run-task', {
    inputs: { cluster: 'jobs', 'task-definition': 'migrate', command: 'node -e 0', count: '2' },
    env: env(),
  });
  const asked = requests.slice(first).map((r) => `${r.service} ${r.operation}`);
  expect(run.code).toBe(1);
  expect(run.outputs.status).toBe('not-started');
  expect(run.outputs['exit-code']).toBe('');
  expect(run.outputs.reason).toBe(
    `RunTask started 0 of 2 task(s): ${FARGATE_CAPACITY_UNAVAILABLE} (2 tasks).`,
  );
  expect(run.error).toContain(FARGATE_CAPACITY_UNAVAILABLE);
  expect(run.summary).toContain('RunTask failures');
  // The run asked for the tasks and stopped there: no DescribeTasks, no log reads, no StopTask.
  expect(asked.filter((r) => r === 'ecs RunTask')).toHaveLength(1);
  expect(asked.slice(asked.indexOf('ecs RunTask') + 1)).toEqual([]);
  expect(await tasks('RUNNING')).toEqual([]);
  expect(await tasks('STOPPED')).toEqual(stopped);
});

test('a task definition without awslogs says so once and still reports the exit code', async () => {
  const run = await runTask({ 'task-definition': 'quiet', command: 'node -e "process.exit(0)"' });
  expect(run.code).toBe(0);
  expect(run.stdout.match(/has no awslogs log configuration/g)).toHaveLength(1);
  expect(run.outputs['log-url']).toBe('');
});

test("a service's network configuration is used when none is given", async () => {
  await register(
    'api',
    { logConfiguration: AWSLOGS, portMappings: [{ containerPort: 8080 }] },
    true,
  );
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'jobs',
      serviceName: 'api',
      taskDefinition: 'api',
      desiredCount: 0,
      launchType: 'FARGATE',
      networkConfiguration: {
        awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'] },
      },
    }),
  );
  const run = await runTask({
    service: 'api',
    command: 'node -e "console.log(\'from the api image\')"',
  });
  expect(run.error).toBeUndefined();
  expect(run.stdout).toContain('from the api image');
  // Without the service's network, an awsvpc definition cannot start.
  const bare = await runTask({ 'task-definition': 'api', command: 'node -e 0' });
  expect(bare.error).toContain('awsvpc network mode, which needs subnets');
});

test('a task definition file is rendered with container-images, registered and run', async () => {
  writeFileSync(
    join(tickets, 'migrate-task.json'),
    JSON.stringify({
      family: 'rendered',
      containerDefinitions: [
        { name: 'job', image: 'placeholder', essential: true, logConfiguration: AWSLOGS },
      ],
    }),
  );
  const run = await runTask(
    {
      'task-definition': 'migrate-task.json',
      'container-images': `job=${image}`,
      command: 'node -e "console.log(\'rendered and ran\')"',
    },
    { cwd: tickets },
  );
  expect(run.error).toBeUndefined();
  expect(run.stdout).toContain(
    'Registered arn:aws:ecs:us-east-1:000000000000:task-definition/rendered:1.',
  );
  expect(run.stdout).toMatch(/^rendered and ran$/m);
  expect(run.summary).toContain('rendered:1 (registered from `migrate-task.json`)');
});

test.each([
  [
    { 'task-definition': 'migrate', command: '["node", "-e"' },
    'Input `command` must be a JSON array',
  ],
  [
    { 'task-definition': 'migrate', count: '11' },
    'Input `count` must be a whole number from 1 to 10',
  ],
  [
    { 'task-definition': 'migrate', service: 'api' },
    '`service` and `task-definition` are exclusive',
  ],
  [{ 'task-definition': 'migrate', timeout: 'soon' }, 'Input `timeout` must be a duration'],
  [
    { 'task-definition': 'migrate', 'network-configuration': 'subnets=net-1' },
    'Input `network-configuration`',
  ],
  [{}, 'Input `task-definition`'],
  [
    { 'task-definition': 'migrate', 'container-images': 'job=x:1' },
    'Input `container-images` applies to a task definition file',
  ],
  [{ 'task-definition': 'missing.json' }, 'file `missing.json` was not found'],
])('bad inputs %j fail before any call and start nothing', async (inputs, message) => {
  const before = (await tasks('STOPPED')).length;
  const run = await runTask(inputs);
  expect(run.code).toBe(1);
  expect(run.error).toContain(message);
  expect(run.outputs['task-arns']).toBeUndefined();
  expect((await tasks('STOPPED')).length).toBe(before);
});
