import {
  ClusterNotFoundException,
  CreateClusterCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type RunTaskCommandInput,
} from '@aws-sdk/client-ecs';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';
import { FARGATE_CAPACITY_UNAVAILABLE } from '../../../packages/local-aws/src/ecs';

/** The subnets of every RunTask of the awsvpc task definition `job`. */
const NETWORK = { awsvpcConfiguration: { subnets: ['subnet-local'] } };

let aws: LocalAws;
let ecs: ECSClient;

beforeAll(async () => {
  aws = await startLocalAws();
  ecs = new ECSClient({
    endpoint: aws.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
  });
  await ecs.send(new CreateClusterCommand({ clusterName: 'jobs', capacityProviders: ['on-ec2'] }));
  const containerDefinitions = [{ name: 'job', image: 'job:1', command: ['true'] }];
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'job',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions,
    }),
  );
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'ec2-only',
      requiresCompatibilities: ['EC2'],
      containerDefinitions,
    }),
  );
});

/** Every task of the cluster, running or stopped. */
async function allTasks(): Promise<string[]> {
  const arns: string[] = [];
  for (const desiredStatus of ['RUNNING', 'STOPPED'] as const)
    arns.push(
      ...(await ecs.send(new ListTasksCommand({ cluster: 'jobs', desiredStatus }))).taskArns!,
    );
  return arns.sort();
}

afterAll(async () => {
  ecs?.destroy();
  await aws?.stop();
});

test('RunTask in an unknown cluster fails with ClusterNotFoundException, not with failures', async () => {
  await expect(
    ecs.send(
      new RunTaskCommand({ cluster: 'nope', taskDefinition: 'job', networkConfiguration: NETWORK }),
    ),
  ).rejects.toBeInstanceOf(ClusterNotFoundException);
});

test.each<[string, Partial<RunTaskCommandInput>, string]>([
  [
    'the EC2 launch type',
    { launchType: 'EC2' },
    'No Container Instances were found in your cluster.',
  ],
  [
    'the EXTERNAL launch type',
    { launchType: 'EXTERNAL' },
    'No Container Instances were found in your cluster.',
  ],
  [
    "a capacity provider of the cluster's own",
    { capacityProviderStrategy: [{ capacityProvider: 'on-ec2', weight: 1 }] },
    'No Container Instances were found in your cluster.',
  ],
  [
    'a capacity provider the cluster does not have',
    { capacityProviderStrategy: [{ capacityProvider: 'elsewhere', weight: 1 }] },
    'not associated with the cluster',
  ],
  [
    'both a launch type and a capacity provider strategy',
    { launchType: 'FARGATE', capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }] },
    'Specifying both a launch type and capacity provider strategy is not supported.',
  ],
  [
    'a task definition that requires EC2',
    { taskDefinition: 'ec2-only' },
    'Task definition does not support launch_type FARGATE.',
  ],
])('RunTask with %s is refused before any task exists', async (_what, extra, message) => {
  const error = await ecs
    .send(
      new RunTaskCommand({
        cluster: 'jobs',
        taskDefinition: 'job',
        networkConfiguration: NETWORK,
        ...extra,
      }),
    )
    .then(
      () => undefined,
      (e: Error) => e,
    );
  expect(error?.name).toBe('InvalidParameterException');
  expect(error?.message).toContain(message);
  const listed = await ecs.send(
    new ListTasksCommand({ cluster: 'jobs', desiredStatus: 'STOPPED' }),
  );
  const running = await ecs.send(new ListTasksCommand({ cluster: 'jobs' }));
  expect([...listed.taskArns!, ...running.taskArns!]).toEqual([]);
});

test('RunTask on FARGATE_SPOT places the task on Fargate', async () => {
  const out = await ecs.send(
    new RunTaskCommand({
      cluster: 'jobs',
      taskDefinition: 'job',
      networkConfiguration: NETWORK,
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
    }),
  );
  expect(out.failures).toEqual([]);
  expect(out.tasks!.map((t) => t.launchType)).toEqual(['FARGATE']);
});

test('while Fargate capacity is withheld RunTask answers with a failure per task and starts none; the next call runs', async () => {
  aws.ecs.withholdFargateCapacity({ runTasks: 1 });
  const before = await allTasks();
  const refused = await ecs.send(
    new RunTaskCommand({
      cluster: 'jobs',
      taskDefinition: 'job',
      networkConfiguration: NETWORK,
      count: 2,
    }),
  );
  expect(refused.tasks).toEqual([]);
  expect(refused.failures).toEqual([
    { reason: FARGATE_CAPACITY_UNAVAILABLE },
    { reason: FARGATE_CAPACITY_UNAVAILABLE },
  ]);
  expect(await allTasks()).toEqual(before);

  const placed = await ecs.send(
    new RunTaskCommand({ cluster: 'jobs', taskDefinition: 'job', networkConfiguration: NETWORK }),
  );
  expect(placed.failures).toEqual([]);
  expect(placed.tasks).toHaveLength(1);
});

test('a request ECS refuses is still an error while capacity is withheld, and does not use the outage up', async () => {
  aws.ecs.withholdFargateCapacity({ runTasks: 1, reason: 'RESOURCE:FARGATE' });
  await expect(
    ecs.send(
      new RunTaskCommand({
        cluster: 'jobs',
        taskDefinition: 'job',
        networkConfiguration: NETWORK,
        launchType: 'EC2',
      }),
    ),
  ).rejects.toThrow('No Container Instances were found in your cluster.');
  const refused = await ecs.send(
    new RunTaskCommand({ cluster: 'jobs', taskDefinition: 'job', networkConfiguration: NETWORK }),
  );
  expect(refused.failures).toEqual([{ reason: 'RESOURCE:FARGATE' }]);
});

test('capacity withheld for two RunTask calls refuses exactly two, whatever their count', async () => {
  aws.ecs.withholdFargateCapacity({ runTasks: 2 });
  const answers = [];
  for (const count of [3, 1, 1])
    answers.push(
      await ecs.send(
        new RunTaskCommand({
          cluster: 'jobs',
          taskDefinition: 'job',
          networkConfiguration: NETWORK,
          count,
        }),
      ),
    );
  expect(answers.map((a) => [a.tasks!.length, a.failures!.length])).toEqual([
    [0, 3],
    [0, 1],
    [1, 0],
  ]);
});

test('withholding capacity for no RunTask call is refused', () => {
  expect(() => aws.ecs.withholdFargateCapacity({ runTasks: 0 })).toThrow(
    '`runTasks` must be a whole number of at least 1, got 0',
  );
});

test('POST /_local/faults no-fargate-capacity withholds capacity from the next RunTask calls, as the in-process call does', async () => {
  const res = await fetch(`${aws.endpoint}/_local/faults`, {
    method: 'POST',
    body: JSON.stringify({ kind: 'no-fargate-capacity', runTasks: 1, reason: 'RESOURCE:FARGATE' }),
  });
  expect(res.status).toBe(200);
  const refused = await ecs.send(
    new RunTaskCommand({ cluster: 'jobs', taskDefinition: 'job', networkConfiguration: NETWORK }),
  );
  expect(refused.failures).toEqual([{ reason: 'RESOURCE:FARGATE' }]);
  const placed = await ecs.send(
    new RunTaskCommand({ cluster: 'jobs', taskDefinition: 'job', networkConfiguration: NETWORK }),
  );
  expect(placed.tasks).toHaveLength(1);
});

test('a no-fargate-capacity fault for no RunTask call is refused with 400', async () => {
  const res = await fetch(`${aws.endpoint}/_local/faults`, {
    method: 'POST',
    body: JSON.stringify({ kind: 'no-fargate-capacity', runTasks: 0 }),
  });
  expect(res.status).toBe(400);
  expect(await res.text()).toContain('`runTasks` must be a whole number of at least 1, got 0');
});

test('a capacity outage shows in GET /_local/faults with the calls it still refuses, and DELETE ends it', async () => {
  await fetch(`${aws.endpoint}/_local/faults`, {
    method: 'POST',
    body: JSON.stringify({ kind: 'no-fargate-capacity', runTasks: 2 }),
  });
  const listed = (await (await fetch(`${aws.endpoint}/_local/faults`)).json()) as {
    faults: unknown[];
  };
  expect(listed.faults).toEqual([
    { kind: 'no-fargate-capacity', runTasks: 2, reason: FARGATE_CAPACITY_UNAVAILABLE },
  ]);
  await ecs.send(
    new RunTaskCommand({ cluster: 'jobs', taskDefinition: 'job', networkConfiguration: NETWORK }),
  );
  const after = (await (await fetch(`${aws.endpoint}/_local/faults`)).json()) as {
    faults: { runTasks: number }[];
  };
  expect(after.faults.map((f) => f.runTasks)).toEqual([1]);
  await fetch(`${aws.endpoint}/_local/faults`, { method: 'DELETE' });
  const placed = await ecs.send(
    new RunTaskCommand({ cluster: 'jobs', taskDefinition: 'job', networkConfiguration: NETWORK }),
  );
  expect(placed.failures).toEqual([]);
  expect(placed.tasks).toHaveLength(1);
});
