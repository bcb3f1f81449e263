import { PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { startFixture, type Fixture } from '../../support/http-fixture';
import { runAction, type ActionRun } from '../../support/run-action';
import { startHarness, type Harness } from '../local-aws/support';

// Text from outside (a health response body, an alarm's state reason) that tries to become a
// runner command or to break the summary's Markdown.
const PLANTED =
  'x\n::set-output name=healthy::true\n::add-mask::planted\n::warning::planted\n##[error]planted <img src=x onerror=alert(1)> | cell |';

let h: Harness;
let fixtures: Fixture[] = [];
beforeAll(async () => (h = await startHarness()));
afterAll(() => h.close());
afterEach(async () => {
  await Promise.all(fixtures.map((f) => f.close()));
  fixtures = [];
});

/** Fails when a runner command other than the action's own shows up, or Markdown breaks out. */
function expectNoPlantedCommand(run: ActionRun): void {
  const lines = run.stdout.split(/\r\n|\r|\n/);
  expect(lines.filter((l) => /^\s*::(set-output|add-mask|warning)/.test(l))).toEqual([]);
  expect(lines.filter((l) => l.includes('##['))).toEqual([]);
  expect(run.outputs.healthy).toBe('false');
  expect(run.outputs.reason).not.toMatch(/[\r\n]/);
  expect(run.masked).toEqual([]);
  expect(run.summary).not.toContain('<img');
  expect(run.summary).not.toContain('| cell |');
  expect(run.summary).not.toMatch(/^::/m);
}

test('a health response body cannot write a runner command or break the summary', async () => {
  // The reason quotes the first 60 characters of a body that is not JSON.
  const body = '<img src=x onerror=alert(1)> | cell |\n::warning::planted';
  const f = await startFixture(() => ({ status: 200, body }));
  fixtures.push(f);
  const run = await runAction('health-gate', {
    inputs: { url: f.url, interval: '100ms', timeout: '2s', 'expect-json': 'status=UP' },
  });
  expect(run.code).toBe(1);
  expect(run.outputs.reason).toContain(
    'body is not JSON (starts with "<img src=x onerror=alert(1)> | cell | ::warning::planted")',
  );
  expectNoPlantedCommand(run);
});

test('a JSON value in a health response cannot write a runner command or break the summary', async () => {
  const f = await startFixture(() => ({ body: { status: `DOWN\u2028${PLANTED}` } }));
  fixtures.push(f);
  const run = await runAction('health-gate', {
    inputs: { url: f.url, interval: '100ms', timeout: '2s', 'expect-json': 'status=UP' },
  });
  expect(run.code).toBe(1);
  expect(run.outputs.reason).toContain('status is "DOWN ⏎ x');
  expectNoPlantedCommand(run);
});

test("a CloudWatch alarm's state reason cannot write a runner command or break the summary", async () => {
  await h.cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: 'api-5xx',
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 10,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
  await h.cloudwatch.send(
    new SetAlarmStateCommand({ AlarmName: 'api-5xx', StateValue: 'ALARM', StateReason: PLANTED }),
  );
  const f = await startFixture(() => ({}));
  fixtures.push(f);
  const run = await runAction('health-gate', {
    env: {
      AWS_ENDPOINT_URL: h.aws.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    inputs: { url: f.url, interval: '100ms', 'cloudwatch-alarms': 'api-5xx' },
  });
  expect(run.code).toBe(1);
  expect(run.outputs.reason).toMatch(
    /^CloudWatch alarm api-5xx is in ALARM: x ⏎ ::set-output name=healthy::true ⏎ /,
  );
  expectNoPlantedCommand(run);
});
