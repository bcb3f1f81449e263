/**
 * Found by driving the health-gate bundle by hand: with `target-group-arn` or
 * `cloudwatch-alarms` the gate waited on them, but the job summary never said they were read.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { runAction } from '../../support/run-action';
import { startHarness, type Harness } from '../local-aws/support';

let h: Harness;
let server: Server;
let url: string;

beforeAll(async () => {
  h = await startHarness();
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"UP"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
  await h.cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: 'api-5xx',
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
  await h.cloudwatch.send(
    new SetAlarmStateCommand({ AlarmName: 'api-5xx', StateValue: 'OK', StateReason: 'quiet' }),
  );
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await h?.close();
});

test('the summary lists the AWS signals the gate read, with their verdict', async () => {
  const run = await runAction('health-gate', {
    env: {
      AWS_ENDPOINT_URL: h.aws.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    inputs: {
      url,
      'expect-json': 'status=UP',
      interval: '100ms',
      'cloudwatch-alarms': 'api-5xx',
    },
  });
  expect(run.error).toBeUndefined();
  expect(run.outputs.healthy).toBe('true');
  expect(run.summary).toContain('| Signal | Readings | Verdict | Last seen |');
  const row = run.summary.split('\n').find((l) => l.includes('api-5xx') && l.includes('| ok |'));
  expect(row).toBeDefined();
}, 60_000);
