import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  GetLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import { eventually, startHarness, type Harness } from './support';

let h: Harness;
let logs: CloudWatchLogsClient;
let image: string;

const SCRIPT = [
  'console.log("first line");',
  'console.error("to stderr");',
  'setTimeout(() => { process.stdout.write("third\\nlast without newline"); }, 20);',
].join('');

beforeAll(async () => {
  h = await startHarness({ timeScale: 30 });
  logs = new CloudWatchLogsClient({
    endpoint: h.aws.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
  });
  image = await h.pushApp('jobs', 'v1');
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'jobs' }));
});

afterAll(async () => {
  logs?.destroy();
  await h?.close();
});

async function register(family: string, options: Record<string, string>): Promise<void> {
  await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [
        {
          name: 'job',
          image,
          logConfiguration: { logDriver: 'awslogs', options },
        },
      ],
    }),
  );
}

async function runUntilStopped(family: string) {
  const run = await h.ecs.send(
    new RunTaskCommand({
      cluster: 'jobs',
      taskDefinition: family,
      overrides: { containerOverrides: [{ name: 'job', command: ['node', '-e', SCRIPT] }] },
    }),
  );
  const arn = run.tasks![0].taskArn!;
  return eventually(async () => {
    const out = await h.ecs.send(new DescribeTasksCommand({ cluster: 'jobs', tasks: [arn] }));
    const t = out.tasks![0];
    return t.lastStatus === 'STOPPED' && t;
  }, 'the task to stop');
}

test('an awslogs container writes each line to <prefix>/<container>/<task id> in its region', async () => {
  await logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/jobs' }));
  await register('with-logs', {
    'awslogs-group': '/ecs/jobs',
    'awslogs-region': 'eu-west-1',
    'awslogs-stream-prefix': 'migrate',
  });
  const task = await runUntilStopped('with-logs');
  expect(task.containers![0].exitCode).toBe(0);
  const taskId = task.taskArn!.split('/').pop();
  const out = await logs.send(
    new GetLogEventsCommand({
      logGroupName: '/ecs/jobs',
      logStreamName: `migrate/job/${taskId}`,
      startFromHead: true,
    }),
  );
  const messages = out.events!.map((e) => e.message);
  expect([...messages].sort()).toEqual(
    ['first line', 'last without newline', 'third', 'to stderr'].sort(),
  );
  expect(messages.indexOf('first line')).toBeLessThan(messages.indexOf('third'));
  expect(messages.indexOf('third')).toBeLessThan(messages.indexOf('last without newline'));
  for (const e of out.events!) {
    expect(e.timestamp).toBeGreaterThanOrEqual(task.createdAt!.getTime() - 1000);
    expect(e.timestamp).toBeLessThanOrEqual(task.stoppedAt!.getTime() + 1000);
  }
});

test('a missing log group stops the task before it starts, as ECS words it', async () => {
  await register('no-group', {
    'awslogs-group': '/ecs/missing',
    'awslogs-region': 'eu-west-1',
    'awslogs-stream-prefix': 'x',
  });
  const task = await runUntilStopped('no-group');
  expect(task.stopCode).toBe('TaskFailedToStart');
  expect(task.stoppedReason).toContain(
    'failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.',
  );
});

test('awslogs-create-group: true creates the group', async () => {
  await register('create-group', {
    'awslogs-group': '/ecs/created',
    'awslogs-region': 'eu-west-1',
    'awslogs-stream-prefix': 'p',
    'awslogs-create-group': 'true',
  });
  const task = await runUntilStopped('create-group');
  const out = await logs.send(
    new GetLogEventsCommand({
      logGroupName: '/ecs/created',
      logStreamName: `p/job/${task.taskArn!.split('/').pop()}`,
      startFromHead: true,
    }),
  );
  expect(out.events!.map((e) => e.message)).toContain('first line');
});
