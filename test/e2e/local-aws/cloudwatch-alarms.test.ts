/**
 * CloudWatch alarms through the SDK as a user's scripts call them: DescribeAlarms pages by
 * `MaxRecords` (1–100) and `NextToken`, and PutMetricAlarm refuses values outside the model's
 * enums with a `ValidationError` (the query error code the SDK names `ValidationException`).
 */
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  paginateDescribeAlarms,
  type PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';

let aws: LocalAws;
let cloudwatch: CloudWatchClient;

const alarm: PutMetricAlarmCommandInput = {
  AlarmName: 'unset',
  Namespace: 'AWS/ApplicationELB',
  MetricName: 'HTTPCode_Target_5XX_Count',
  Statistic: 'Sum',
  Period: 60,
  EvaluationPeriods: 1,
  Threshold: 5,
  ComparisonOperator: 'GreaterThanThreshold',
};

beforeAll(async () => {
  aws = await startLocalAws({ port: 0 });
  cloudwatch = new CloudWatchClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
  for (const name of ['alarm-1', 'alarm-2', 'alarm-3', 'alarm-4', 'alarm-5'])
    await cloudwatch.send(new PutMetricAlarmCommand({ ...alarm, AlarmName: name }));
});

afterAll(async () => {
  cloudwatch?.destroy();
  await aws?.stop();
});

test('DescribeAlarms with MaxRecords 2 answers 2 alarms and a NextToken that leads to the next 2', async () => {
  const first = await cloudwatch.send(new DescribeAlarmsCommand({ MaxRecords: 2 }));
  expect(first.MetricAlarms!.map((a) => a.AlarmName)).toEqual(['alarm-1', 'alarm-2']);
  expect(first.NextToken).toEqual(expect.any(String));
  const second = await cloudwatch.send(
    new DescribeAlarmsCommand({ MaxRecords: 2, NextToken: first.NextToken }),
  );
  expect(second.MetricAlarms!.map((a) => a.AlarmName)).toEqual(['alarm-3', 'alarm-4']);
});

test('the SDK paginator with pageSize 2 walks every alarm once and the last page has no NextToken', async () => {
  const pages: string[][] = [];
  let lastToken: string | undefined = 'unset';
  for await (const page of paginateDescribeAlarms({ client: cloudwatch, pageSize: 2 }, {})) {
    pages.push(page.MetricAlarms!.map((a) => a.AlarmName!));
    lastToken = page.NextToken;
  }
  expect(pages).toEqual([['alarm-1', 'alarm-2'], ['alarm-3', 'alarm-4'], ['alarm-5']]);
  expect(lastToken).toBeUndefined();
});

test('DescribeAlarms without MaxRecords answers every matching alarm without NextToken', async () => {
  const out = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'alarm-' }));
  expect(out.MetricAlarms).toHaveLength(5);
  expect(out.NextToken).toBeUndefined();
});

test.each([0, 101])(
  'DescribeAlarms with MaxRecords %d is refused with ValidationError',
  async (n) => {
    await expect(
      cloudwatch.send(new DescribeAlarmsCommand({ MaxRecords: n })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  },
);

test('DescribeAlarms with a NextToken no page handed out is refused with InvalidNextToken', async () => {
  await expect(
    cloudwatch.send(new DescribeAlarmsCommand({ NextToken: 'not-a-token' })),
  ).rejects.toMatchObject({ name: 'InvalidNextToken' });
});

test.each<[string, Partial<PutMetricAlarmCommandInput>, string]>([
  ['ComparisonOperator', { ComparisonOperator: 'Above' as never }, 'comparisonOperator'],
  ['Statistic', { Statistic: 'Total' as never }, 'statistic'],
  ['Unit', { Unit: 'Requests' as never }, 'unit'],
])(
  'PutMetricAlarm with a %s outside its enum is refused with ValidationError',
  async (_m, extra, member) => {
    const error = await cloudwatch
      .send(new PutMetricAlarmCommand({ ...alarm, AlarmName: 'bad-enum', ...extra }))
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(error?.name).toBe('ValidationException');
    expect(error?.message).toContain(
      `at '${member}' failed to satisfy constraint: Member must satisfy enum value set`,
    );
    const listed = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['bad-enum'] }));
    expect(listed.MetricAlarms).toEqual([]);
  },
);
