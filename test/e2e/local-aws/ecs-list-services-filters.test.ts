/**
 * ListServices filters by `launchType` and `schedulingStrategy`, as the ECS API reference
 * documents for ListServicesRequest.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  ECSClient,
  ListServicesCommand,
  RegisterTaskDefinitionCommand,
  type ListServicesCommandInput,
} from '@aws-sdk/client-ecs';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';

let aws: LocalAws;
let ecs: ECSClient;

beforeAll(async () => {
  aws = await startLocalAws({ port: 0 });
  ecs = new ECSClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
  await ecs.send(new CreateClusterCommand({ clusterName: 'filters' }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'web',
      containerDefinitions: [{ name: 'web', image: 'web:1', essential: true, memory: 128 }],
    }),
  );
  for (const [serviceName, launchType] of [
    ['on-fargate', 'FARGATE'],
    ['on-ec2', 'EC2'],
  ] as const) {
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'filters',
        serviceName,
        taskDefinition: 'web',
        desiredCount: 0,
        launchType,
      }),
    );
  }
});

afterAll(async () => {
  ecs?.destroy();
  await aws?.stop();
});

test.each<[string, Partial<ListServicesCommandInput>, string[]]>([
  ['no filter', {}, ['on-fargate', 'on-ec2']],
  ['launchType FARGATE', { launchType: 'FARGATE' }, ['on-fargate']],
  ['launchType EC2', { launchType: 'EC2' }, ['on-ec2']],
  ['launchType EXTERNAL', { launchType: 'EXTERNAL' }, []],
  ['schedulingStrategy REPLICA', { schedulingStrategy: 'REPLICA' }, ['on-fargate', 'on-ec2']],
  ['schedulingStrategy DAEMON', { schedulingStrategy: 'DAEMON' }, []],
])('ListServices with %s lists only the matching services', async (_name, filter, names) => {
  const out = await ecs.send(new ListServicesCommand({ cluster: 'filters', ...filter }));
  expect(out.serviceArns?.map((a) => a.split('/').pop())).toEqual(names);
});
