/**
 * PutRetentionPolicy and DeleteRetentionPolicy, which setup scripts call right after
 * CreateLogGroup: the retention shows in DescribeLogGroups, only the model's day counts are
 * accepted, and an unknown group is ResourceNotFoundException. (Events are not expired:
 * CloudWatch Logs itself deletes them only up to 72 hours after they pass the retention.)
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';

let aws: LocalAws;
let logs: CloudWatchLogsClient;

beforeAll(async () => {
  aws = await startLocalAws({ port: 0 });
  logs = new CloudWatchLogsClient({
    endpoint: aws.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
  await logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/kept' }));
});

afterAll(async () => {
  logs?.destroy();
  await aws?.stop();
});

async function retention(): Promise<number | undefined> {
  const out = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/ecs/kept' }));
  return out.logGroups![0].retentionInDays;
}

test('PutRetentionPolicy sets retentionInDays and DeleteRetentionPolicy removes it', async () => {
  await logs.send(
    new PutRetentionPolicyCommand({ logGroupName: '/ecs/kept', retentionInDays: 14 }),
  );
  expect(await retention()).toBe(14);
  await logs.send(new DeleteRetentionPolicyCommand({ logGroupName: '/ecs/kept' }));
  expect(await retention()).toBeUndefined();
});

test.each([0, 8, 4000])(
  'PutRetentionPolicy with %d days is refused with InvalidParameterException',
  async (days) => {
    await expect(
      logs.send(
        new PutRetentionPolicyCommand({ logGroupName: '/ecs/kept', retentionInDays: days }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  },
);

test.each<[string, () => Promise<unknown>]>([
  [
    'PutRetentionPolicy',
    () => logs.send(new PutRetentionPolicyCommand({ logGroupName: '/nope', retentionInDays: 7 })),
  ],
  [
    'DeleteRetentionPolicy',
    () => logs.send(new DeleteRetentionPolicyCommand({ logGroupName: '/nope' })),
  ],
])('%s on an unknown group is ResourceNotFoundException', async (_n, call) => {
  await expect(call()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
});
