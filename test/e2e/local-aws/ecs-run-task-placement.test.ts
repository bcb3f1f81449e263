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
  for (const [family, requiresCompatibilities] of [
    ['job', ['FARGATE']],
    ['ec2-only', ['EC2']],
  ] as const)
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        requiresCompatibilities: [...requiresCompatibilities],
        containerDefinitions: [{ name: 'job', image: 'job:1', command: ['true'] }],
      }),
    );
});

afterAll(async () => {
  ecs?.destroy();
  await aws?.stop();
});

test('RunTask in an unknown cluster fails with ClusterNotFoundException, not with failures', async () => {
  await expect(
    ecs.send(new RunTaskCommand({ cluster: 'nope', taskDefinition: 'job' })),
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
    .send(new RunTaskCommand({ cluster: 'jobs', taskDefinition: 'job', ...extra }))
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
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
    }),
  );
  expect(out.failures).toEqual([]);
  expect(out.tasks!.map((t) => t.launchType)).toEqual(['FARGATE']);
});
