import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';

let aws: LocalAws;
let logs: CloudWatchLogsClient;
const T0 = 1_700_000_000_000;

beforeAll(async () => {
  aws = await startLocalAws();
  logs = new CloudWatchLogsClient({
    endpoint: aws.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
  });
  await logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/api' }));
  await logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/worker' }));
  for (const s of ['app/web/b', 'app/web/a'])
    await logs.send(new CreateLogStreamCommand({ logGroupName: '/ecs/api', logStreamName: s }));
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: '/ecs/api',
      logStreamName: 'app/web/a',
      logEvents: [0, 1, 2, 3, 4].map((i) => ({ timestamp: T0 + i * 10, message: `a${i}` })),
    }),
  );
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: '/ecs/api',
      logStreamName: 'app/web/b',
      logEvents: [{ timestamp: T0 + 15, message: 'b0 error here' }],
    }),
  );
});

afterAll(async () => {
  logs?.destroy();
  await aws?.stop();
});

test('CreateLogGroup on an existing group fails with ResourceAlreadyExistsException', async () => {
  await expect(
    logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/api' })),
  ).rejects.toBeInstanceOf(ResourceAlreadyExistsException);
});

test('a missing group or stream fails with ResourceNotFoundException', async () => {
  await expect(
    logs.send(new GetLogEventsCommand({ logGroupName: '/nope', logStreamName: 'x' })),
  ).rejects.toBeInstanceOf(ResourceNotFoundException);
  await expect(
    logs.send(new GetLogEventsCommand({ logGroupName: '/ecs/api', logStreamName: 'x' })),
  ).rejects.toThrow('The specified log stream does not exist.');
});

test('GetLogEvents from the head pages forward and returns the same token at the end', async () => {
  const seen: string[] = [];
  let token: string | undefined;
  for (let i = 0; i < 5; i++) {
    const out = await logs.send(
      new GetLogEventsCommand({
        logGroupName: '/ecs/api',
        logStreamName: 'app/web/a',
        startFromHead: true,
        limit: 2,
        nextToken: token,
      }),
    );
    seen.push(...out.events!.map((e) => e.message!));
    if (out.nextForwardToken === token) break;
    token = out.nextForwardToken;
  }
  expect(seen).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
  const again = await logs.send(
    new GetLogEventsCommand({
      logGroupName: '/ecs/api',
      logStreamName: 'app/web/a',
      nextToken: token,
    }),
  );
  expect(again.events).toEqual([]);
  expect(again.nextForwardToken).toBe(token);
});

test('GetLogEvents without startFromHead returns the newest events, timestamps in ms', async () => {
  const out = await logs.send(
    new GetLogEventsCommand({ logGroupName: '/ecs/api', logStreamName: 'app/web/a', limit: 2 }),
  );
  expect(out.events!.map((e) => [e.message, e.timestamp])).toEqual([
    ['a3', T0 + 30],
    ['a4', T0 + 40],
  ]);
  const back = await logs.send(
    new GetLogEventsCommand({
      logGroupName: '/ecs/api',
      logStreamName: 'app/web/a',
      limit: 2,
      nextToken: out.nextBackwardToken,
    }),
  );
  expect(back.events!.map((e) => e.message)).toEqual(['a1', 'a2']);
});

test('new events appear at the forward token a reader already holds', async () => {
  await logs.send(new CreateLogStreamCommand({ logGroupName: '/ecs/worker', logStreamName: 's' }));
  const first = await logs.send(
    new GetLogEventsCommand({
      logGroupName: '/ecs/worker',
      logStreamName: 's',
      startFromHead: true,
    }),
  );
  expect(first.events).toEqual([]);
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: '/ecs/worker',
      logStreamName: 's',
      logEvents: [{ timestamp: T0, message: 'late' }],
    }),
  );
  const next = await logs.send(
    new GetLogEventsCommand({
      logGroupName: '/ecs/worker',
      logStreamName: 's',
      nextToken: first.nextForwardToken,
    }),
  );
  expect(next.events!.map((e) => e.message)).toEqual(['late']);
});

test('FilterLogEvents merges streams in time order and paginates with nextToken', async () => {
  const seen: string[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const out = await logs.send(
      new FilterLogEventsCommand({ logGroupName: '/ecs/api', limit: 4, nextToken }),
    );
    seen.push(...out.events!.map((e) => `${e.logStreamName}:${e.message}`));
    nextToken = out.nextToken;
    pages++;
  } while (nextToken);
  expect(pages).toBe(2);
  expect(seen).toEqual([
    'app/web/a:a0',
    'app/web/a:a1',
    'app/web/b:b0 error here',
    'app/web/a:a2',
    'app/web/a:a3',
    'app/web/a:a4',
  ]);
  const errors = await logs.send(
    new FilterLogEventsCommand({
      logGroupName: '/ecs/api',
      filterPattern: 'error',
      startTime: T0 + 10,
    }),
  );
  expect(errors.events!.map((e) => e.message)).toEqual(['b0 error here']);
});

test('DescribeLogStreams and DescribeLogGroups list by name, prefix and last event time', async () => {
  const byName = await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/ecs/api' }));
  expect(byName.logStreams!.map((s) => s.logStreamName)).toEqual(['app/web/a', 'app/web/b']);
  expect(byName.logStreams![0]).toMatchObject({
    firstEventTimestamp: T0,
    lastEventTimestamp: T0 + 40,
    arn: 'arn:aws:logs:eu-west-1:000000000000:log-group:/ecs/api:log-stream:app/web/a',
  });
  const latest = await logs.send(
    new DescribeLogStreamsCommand({
      logGroupName: '/ecs/api',
      orderBy: 'LastEventTime',
      descending: true,
      limit: 1,
    }),
  );
  expect(latest.logStreams!.map((s) => s.logStreamName)).toEqual(['app/web/a']);
  const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/ecs/w' }));
  expect(groups.logGroups!.map((g) => g.logGroupName)).toEqual(['/ecs/worker']);
});

test('PutLogEvents refuses a batch out of chronological order', async () => {
  await expect(
    logs.send(
      new PutLogEventsCommand({
        logGroupName: '/ecs/api',
        logStreamName: 'app/web/b',
        logEvents: [
          { timestamp: T0 + 5, message: 'x' },
          { timestamp: T0, message: 'y' },
        ],
      }),
    ),
  ).rejects.toThrow('chronological order');
});
