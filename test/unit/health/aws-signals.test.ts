import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  alarmSignal,
  targetGroupName,
  targetGroupSignal,
} from '../../../packages/health/src/aws-signals';

const TG =
  'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/api-blue/0123456789abcdef';

/** A client whose `send` answers from the given pages, one per call. */
function fake<C>(...pages: unknown[]): C & { inputs: unknown[] } {
  const inputs: unknown[] = [];
  return {
    inputs,
    send: async (command: { input: unknown }) => {
      inputs.push(command.input);
      return pages.length > 1 ? pages.shift() : pages[0];
    },
  } as unknown as C & { inputs: unknown[] };
}

const signal = new AbortController().signal;

describe('CloudWatch alarm signal', () => {
  test.each<[string, unknown[], string, RegExp]>([
    [
      'all OK',
      [
        {
          MetricAlarms: [
            { AlarmName: 'a', StateValue: 'OK' },
            { AlarmName: 'b', StateValue: 'INSUFFICIENT_DATA' },
          ],
        },
      ],
      'ok',
      /2 CloudWatch alarm\(s\) not in ALARM/,
    ],
    [
      'one in ALARM',
      [
        {
          MetricAlarms: [
            { AlarmName: 'a', StateValue: 'OK' },
            { AlarmName: 'b', StateValue: 'ALARM', StateReason: 'Threshold Crossed: 5xx > 10' },
          ],
        },
      ],
      'failed',
      /^CloudWatch alarm b is in ALARM: Threshold Crossed: 5xx > 10\.$/,
    ],
    [
      'a state reason carrying line breaks and runner commands, on one line and defused',
      [
        {
          MetricAlarms: [
            { AlarmName: 'a', StateValue: 'OK' },
            {
              AlarmName: 'b',
              StateValue: 'ALARM',
              StateReason: 'x\n::set-output name=healthy::true\r\n::add-mask::x\n##[warning]y',
            },
          ],
        },
      ],
      'failed',
      /^CloudWatch alarm b is in ALARM: x ⏎ ::set-output name=healthy::true ⏎ ::add-mask::x ⏎ ## \[warning\]y\.$/,
    ],
    [
      'composite in ALARM',
      [
        {
          MetricAlarms: [{ AlarmName: 'a', StateValue: 'OK' }],
          CompositeAlarms: [{ AlarmName: 'b', StateValue: 'ALARM' }],
        },
      ],
      'failed',
      /alarm b is in ALARM/,
    ],
    [
      'a missing alarm',
      [{ MetricAlarms: [{ AlarmName: 'a', StateValue: 'OK' }] }],
      'failed',
      /^CloudWatch alarm b not found\.$/,
    ],
    [
      'paginated',
      [
        { MetricAlarms: [{ AlarmName: 'a', StateValue: 'OK' }], NextToken: 't' },
        { MetricAlarms: [{ AlarmName: 'b', StateValue: 'ALARM' }] },
      ],
      'failed',
      /alarm b is in ALARM/,
    ],
  ])('%s', async (_name, pages, state, detail) => {
    const client = fake<CloudWatchClient>(...pages);
    const reading = await alarmSignal(client, ['a', 'b']).check(signal);
    expect(reading.state).toBe(state);
    expect(reading.detail).toMatch(detail);
  });
});

describe('target group signal', () => {
  const target = (id: string, State: string, Reason?: string, Description?: string): unknown => ({
    Target: { Id: id, Port: 8080 },
    TargetHealth: { State, Reason, Description },
  });
  test.each<[string, unknown[], string, RegExp]>([
    [
      'every target healthy',
      [target('10.0.0.1', 'healthy'), target('10.0.0.2', 'healthy')],
      'ok',
      /all 2 targets of api-blue are healthy/,
    ],
    [
      'draining targets are ignored',
      [target('10.0.0.1', 'healthy'), target('10.0.0.9', 'draining')],
      'ok',
      /all 1 targets/,
    ],
    ['no targets', [], 'not-ready', /api-blue has no registered targets/],
    [
      'one unhealthy, with the reason',
      [
        target('10.0.0.1', 'healthy'),
        target(
          '10.0.0.2',
          'unhealthy',
          'Target.ResponseCodeMismatch',
          'Health checks failed with these codes: [500]',
        ),
      ],
      'unhealthy',
      /1 of 2 targets not healthy — 10\.0\.0\.2:8080 unhealthy \(Target\.ResponseCodeMismatch: Health checks failed with these codes: \[500\]\)/,
    ],
    [
      'a description carrying line breaks and runner commands, on one line and defused',
      [
        target(
          '10.0.0.2',
          'unhealthy',
          'Target.ResponseCodeMismatch',
          'codes: [500]\n::warning::planted\n##[add-mask]x',
        ),
      ],
      'unhealthy',
      /\(Target\.ResponseCodeMismatch: codes: \[500\] ⏎ ::warning::planted ⏎ ## \[add-mask\]x\)$/,
    ],
    [
      'one registering and one unhealthy: unhealthy',
      [
        target('10.0.0.1', 'initial', 'Elb.RegistrationInProgress'),
        target('10.0.0.2', 'unhealthy', 'Target.Timeout', 'Request timed out'),
      ],
      'unhealthy',
      /10\.0\.0\.1:8080 initial \(Elb\.RegistrationInProgress\); 10\.0\.0\.2:8080 unhealthy/,
    ],
    [
      'still registering',
      [target('10.0.0.1', 'initial', 'Elb.RegistrationInProgress')],
      'not-ready',
      /initial \(Elb\.RegistrationInProgress\)/,
    ],
  ])('%s', async (_name, descriptions, state, detail) => {
    const client = fake<ElasticLoadBalancingV2Client>({ TargetHealthDescriptions: descriptions });
    const reading = await targetGroupSignal(client, TG).check(signal);
    expect(reading.state).toBe(state);
    expect(reading.detail).toMatch(detail);
    expect(client.inputs[0]).toEqual({ TargetGroupArn: TG });
  });

  test('the name comes from the ARN', () => expect(targetGroupName(TG)).toBe('api-blue'));
});
