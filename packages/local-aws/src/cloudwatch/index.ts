/**
 * CloudWatch alarms: PutMetricAlarm, DescribeAlarms, SetAlarmState, DeleteAlarms. Served both as
 * JSON 1.0 (query-compatible, current SDKs) and as the older query protocol; the operations take
 * the same PascalCase members either way (query values arrive as strings). Lists longer than
 * AWS allows (100 alarm names, 30 dimensions, 5 actions per state) are a `ValidationError`.
 */
import { AwsError, type RequestContext } from '../contracts';
import type { Clock } from '../clock';
import { arn } from '../ids';

/** A stored metric alarm, in DescribeAlarms' shape. */
export interface MetricAlarm {
  AlarmName: string;
  AlarmArn: string;
  AlarmDescription?: string;
  ActionsEnabled: boolean;
  OKActions: string[];
  AlarmActions: string[];
  InsufficientDataActions: string[];
  StateValue: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  StateReason: string;
  StateReasonData?: string;
  StateUpdatedTimestamp: Date;
  StateTransitionedTimestamp: Date;
  AlarmConfigurationUpdatedTimestamp: Date;
  MetricName?: string;
  Namespace?: string;
  Statistic?: string;
  ExtendedStatistic?: string;
  Dimensions: { Name: string; Value: string }[];
  Period?: number;
  Unit?: string;
  EvaluationPeriods?: number;
  DatapointsToAlarm?: number;
  Threshold?: number;
  ComparisonOperator?: string;
  TreatMissingData?: string;
}

type Input = Record<string, unknown>;

const STATES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const;

function str(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}
function num(v: unknown): number | undefined {
  return v === undefined || v === null || v === '' ? undefined : Number(v);
}
/** Longest lists AWS accepts, by member. */
const MAX_ITEMS = {
  AlarmNames: 100,
  AlarmTypes: 2,
  Dimensions: 30,
  OKActions: 5,
  AlarmActions: 5,
  InsufficientDataActions: 5,
} as const;

/** AWS's `ValidationError` for a member that breaks a constraint of the model. */
function validation(member: string, constraint: string): AwsError {
  const name = member[0].toLowerCase() + member.slice(1);
  return new AwsError(
    'ValidationError',
    `1 validation error detected: Value at '${name}' failed to satisfy constraint: ${constraint}`,
  );
}

/** The values the model allows for PutMetricAlarm's enum members. */
const ENUMS = {
  ComparisonOperator: [
    'GreaterThanOrEqualToThreshold',
    'GreaterThanThreshold',
    'LessThanThreshold',
    'LessThanOrEqualToThreshold',
    'LessThanLowerOrGreaterThanUpperThreshold',
    'LessThanLowerThreshold',
    'GreaterThanUpperThreshold',
  ],
  Statistic: ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'],
  Unit: [
    'Seconds',
    'Microseconds',
    'Milliseconds',
    'Bytes',
    'Kilobytes',
    'Megabytes',
    'Gigabytes',
    'Terabytes',
    'Bits',
    'Kilobits',
    'Megabits',
    'Gigabits',
    'Terabits',
    'Percent',
    'Count',
    'Bytes/Second',
    'Kilobytes/Second',
    'Megabytes/Second',
    'Gigabytes/Second',
    'Terabytes/Second',
    'Bits/Second',
    'Kilobits/Second',
    'Megabits/Second',
    'Gigabits/Second',
    'Terabits/Second',
    'Count/Second',
    'None',
  ],
} as const;

/** An enum member (absent: undefined), refused as AWS refuses a value outside the set. */
function enumValue(input: Input, member: keyof typeof ENUMS): string | undefined {
  const v = str(input[member]);
  const allowed: readonly string[] = ENUMS[member];
  if (v === undefined || allowed.includes(v)) return v;
  const name = member[0].toLowerCase() + member.slice(1);
  throw new AwsError(
    'ValidationError',
    `1 validation error detected: Value '${v}' at '${name}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`,
  );
}

/** DescribeAlarms' `MaxRecords` range. */
const MAX_RECORDS = 100;

/** The opaque DescribeAlarms token for the page starting at `offset`. */
function alarmsToken(offset: number): string {
  return Buffer.from(`alarms:${offset}`).toString('base64');
}

/** The offset an alarms token stands for; `InvalidNextToken` when no page handed it out. */
function alarmsOffset(token: string): number {
  const m = /^alarms:(\d{1,9})$/.exec(Buffer.from(token, 'base64').toString('utf8'));
  if (!m) throw new AwsError('InvalidNextToken', 'The service returned an invalid next token.');
  return Number(m[1]);
}

/** A list member (absent: empty), at most as long as AWS allows. */
function list(input: Input, member: keyof typeof MAX_ITEMS): unknown[] {
  const v = input[member];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw validation(member, 'Member must be a list');
  const max = MAX_ITEMS[member];
  if (v.length > max)
    throw validation(member, `Member must have length less than or equal to ${max}`);
  return v;
}

/** A list of strings (absent: empty), at most as long as AWS allows. */
function strings(input: Input, member: keyof typeof MAX_ITEMS): string[] {
  const v = list(input, member);
  if (!v.every((x) => typeof x === 'string'))
    throw validation(member, 'Member must be a list of strings');
  return v as string[];
}

/** `Dimensions`: at most 30 `{Name, Value}` pairs of strings. */
function dimensions(input: Input): { Name: string; Value: string }[] {
  return list(input, 'Dimensions').map((d) => {
    const o = (d ?? {}) as Input;
    if (typeof o.Name !== 'string' || typeof o.Value !== 'string')
      throw validation('Dimensions', 'Member must have a Name and a Value');
    return { Name: o.Name, Value: o.Value };
  });
}

function required(input: Input, name: string): string {
  const v = str(input[name]);
  if (!v) throw new AwsError('MissingParameter', `The parameter ${name} is required.`);
  return v;
}

/** The CloudWatch part of local-aws. */
export class CloudWatch {
  private alarms = new Map<string, MetricAlarm>();
  private listeners: ((alarm: MetricAlarm) => void)[] = [];

  constructor(private readonly clock: Clock) {}

  /** Current state of an alarm, or undefined when no alarm has that name. */
  alarmState(name: string): MetricAlarm['StateValue'] | undefined {
    return this.alarms.get(name)?.StateValue;
  }

  /** Calls `fn` whenever an alarm changes state. */
  onStateChange(fn: (alarm: MetricAlarm) => void): void {
    this.listeners.push(fn);
  }

  snapshot(): unknown {
    return { alarms: [...this.alarms.values()] };
  }

  restore(state: unknown): void {
    const alarms = (state as { alarms?: MetricAlarm[] } | undefined)?.alarms ?? [];
    this.alarms = new Map(alarms.map((a) => [a.AlarmName, a]));
  }

  /** Operations by name, shared by both protocols. */
  readonly operations: Record<string, (input: Input, ctx: RequestContext) => unknown> = {
    PutMetricAlarm: (input, ctx) => {
      const name = required(input, 'AlarmName');
      const now = this.clock.now();
      const existing = this.alarms.get(name);
      const alarm: MetricAlarm = {
        AlarmName: name,
        AlarmArn: arn('cloudwatch', ctx.region, ctx.accountId, `alarm:${name}`),
        AlarmDescription: str(input.AlarmDescription),
        ActionsEnabled:
          input.ActionsEnabled === undefined ? true : String(input.ActionsEnabled) === 'true',
        OKActions: strings(input, 'OKActions'),
        AlarmActions: strings(input, 'AlarmActions'),
        InsufficientDataActions: strings(input, 'InsufficientDataActions'),
        StateValue: existing?.StateValue ?? 'INSUFFICIENT_DATA',
        StateReason: existing?.StateReason ?? 'Unchecked: Initial alarm creation',
        StateUpdatedTimestamp: existing?.StateUpdatedTimestamp ?? now,
        StateTransitionedTimestamp: existing?.StateTransitionedTimestamp ?? now,
        AlarmConfigurationUpdatedTimestamp: now,
        MetricName: str(input.MetricName),
        Namespace: str(input.Namespace),
        Statistic: enumValue(input, 'Statistic'),
        ExtendedStatistic: str(input.ExtendedStatistic),
        Dimensions: dimensions(input),
        Period: num(input.Period),
        Unit: enumValue(input, 'Unit'),
        EvaluationPeriods: num(input.EvaluationPeriods),
        DatapointsToAlarm: num(input.DatapointsToAlarm),
        Threshold: num(input.Threshold),
        ComparisonOperator: enumValue(input, 'ComparisonOperator'),
        TreatMissingData: str(input.TreatMissingData),
      };
      if (alarm.EvaluationPeriods === undefined) {
        throw new AwsError('MissingParameter', 'The parameter EvaluationPeriods is required.');
      }
      if (!alarm.ComparisonOperator)
        throw new AwsError('MissingParameter', 'The parameter ComparisonOperator is required.');
      this.alarms.set(name, alarm);
      return {};
    },
    DescribeAlarms: (input) => {
      const names = strings(input, 'AlarmNames');
      const prefix = str(input.AlarmNamePrefix);
      const state = str(input.StateValue);
      const types = strings(input, 'AlarmTypes');
      const metric =
        types.length === 0 || types.includes('MetricAlarm')
          ? [...this.alarms.values()].filter(
              (a) =>
                (names.length === 0 || names.includes(a.AlarmName)) &&
                (!prefix || a.AlarmName.startsWith(prefix)) &&
                (!state || a.StateValue === state),
            )
          : [];
      const max = num(input.MaxRecords);
      if (max !== undefined && !(Number.isInteger(max) && max >= 1 && max <= MAX_RECORDS)) {
        throw new AwsError(
          'ValidationError',
          `1 validation error detected: Value '${String(input.MaxRecords)}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and ${MAX_RECORDS}`,
        );
      }
      const token = str(input.NextToken);
      const start = token === undefined ? 0 : alarmsOffset(token);
      const end = max === undefined ? metric.length : start + max;
      const sorted = metric.sort((a, b) => a.AlarmName.localeCompare(b.AlarmName));
      return {
        MetricAlarms: sorted.slice(start, end),
        CompositeAlarms: [],
        ...(end < sorted.length ? { NextToken: alarmsToken(end) } : {}),
      };
    },
    SetAlarmState: (input) => {
      const name = required(input, 'AlarmName');
      const value = required(input, 'StateValue');
      const reason = required(input, 'StateReason');
      if (!(STATES as readonly string[]).includes(value)) {
        throw new AwsError(
          'InvalidParameterValue',
          `StateValue \`${value}\` is not one of ${STATES.join(', ')}.`,
        );
      }
      const alarm = this.alarms.get(name);
      if (!alarm) throw new AwsError('ResourceNotFound', `Alarm ${name} not found`, 404);
      const now = this.clock.now();
      const changed = alarm.StateValue !== value;
      alarm.StateValue = value as MetricAlarm['StateValue'];
      alarm.StateReason = reason;
      alarm.StateReasonData = str(input.StateReasonData);
      alarm.StateUpdatedTimestamp = now;
      if (changed) {
        alarm.StateTransitionedTimestamp = now;
        for (const fn of this.listeners) fn(alarm);
      }
      return {};
    },
    DeleteAlarms: (input) => {
      const names = strings(input, 'AlarmNames');
      const missing = names.filter((n) => !this.alarms.has(n));
      if (missing.length)
        throw new AwsError('ResourceNotFound', `Alarm(s) ${missing.join(', ')} not found`, 404);
      for (const n of names) this.alarms.delete(n);
      return {};
    },
  };
}
