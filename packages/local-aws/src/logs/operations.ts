/**
 * The CloudWatch Logs operations (awsJson1_1, `X-Amz-Target: Logs_20140328.<Op>`):
 * CreateLogGroup, DeleteLogGroup, Put/DeleteRetentionPolicy, CreateLogStream, DescribeLogGroups,
 * DescribeLogStreams, PutLogEvents, GetLogEvents and FilterLogEvents. Timestamps are epoch
 * milliseconds.
 */
import { AwsError, type JsonOperation, type RequestContext } from '../contracts';
import type { LogEvent, LogGroup, LogStream, LogsState } from './state';

type Input = Record<string, unknown>;

/** The retention periods (days) the model's `Days` allows. */
const RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
];

function invalid(message: string): AwsError {
  return new AwsError('InvalidParameterException', message);
}

function requireName(input: Input, key: string): string {
  const v = input[key];
  if (typeof v !== 'string' || !v)
    throw invalid(
      `1 validation error detected: Value null at '${key}' failed to satisfy constraint: Member must not be null`,
    );
  return v;
}

/** `logGroupName`, or the name inside `logGroupIdentifier` (a name or an ARN). */
function groupName(input: Input): string {
  if (typeof input.logGroupName === 'string' && input.logGroupName) return input.logGroupName;
  if (typeof input.logGroupIdentifier === 'string' && input.logGroupIdentifier) {
    const m = /^arn:[^:]+:logs:[^:]*:[^:]*:log-group:(.+?)(:\*)?$/.exec(input.logGroupIdentifier);
    return m ? m[1] : input.logGroupIdentifier;
  }
  throw invalid('Either logGroupName or logGroupIdentifier must be specified.');
}

function limitOf(input: Input, max: number, fallback: number): number {
  if (input.limit === undefined) return fallback;
  const n = Number(input.limit);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw invalid(
      `1 validation error detected: Value '${String(input.limit)}' at 'limit' failed to satisfy constraint: Member must have value between 1 and ${max}`,
    );
  return n;
}

/** Opaque page tokens: the offset into a listing. */
function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64');
}

function decodeToken(token: unknown): number {
  if (token === undefined) return 0;
  try {
    const o = (JSON.parse(Buffer.from(String(token), 'base64').toString('utf8')) as { o: unknown })
      .o;
    if (typeof o === 'number' && Number.isInteger(o) && o >= 0) return o;
  } catch {
    // falls through
  }
  throw invalid('The specified nextToken is invalid.');
}

function page<T>(items: T[], input: Input, limit: number): { items: T[]; nextToken?: string } {
  const from = decodeToken(input.nextToken);
  const slice = items.slice(from, from + limit);
  return {
    items: slice,
    nextToken: from + limit < items.length ? encodeToken(from + limit) : undefined,
  };
}

function groupArn(rc: RequestContext, name: string): string {
  return `arn:aws:logs:${rc.region}:${rc.accountId}:log-group:${name}`;
}

function groupView(g: LogGroup, rc: RequestContext): unknown {
  return {
    logGroupName: g.logGroupName,
    creationTime: g.creationTime,
    retentionInDays: g.retentionInDays,
    metricFilterCount: 0,
    arn: `${groupArn(rc, g.logGroupName)}:*`,
    logGroupArn: groupArn(rc, g.logGroupName),
    storedBytes: [...g.streams.values()].reduce((n, s) => n + s.storedBytes, 0),
    logGroupClass: 'STANDARD',
  };
}

function streamView(g: LogGroup, s: LogStream, rc: RequestContext): unknown {
  const first = s.events[0];
  const last = s.events[s.events.length - 1];
  return {
    logStreamName: s.logStreamName,
    creationTime: s.creationTime,
    firstEventTimestamp: first?.timestamp,
    lastEventTimestamp: last?.timestamp,
    lastIngestionTime: last ? Math.max(...s.events.map((e) => e.ingestionTime)) : undefined,
    arn: `${groupArn(rc, g.logGroupName)}:log-stream:${s.logStreamName}`,
    storedBytes: s.storedBytes,
  };
}

function timeFilter(input: Input): (e: LogEvent) => boolean {
  const start = typeof input.startTime === 'number' ? input.startTime : undefined;
  const end = typeof input.endTime === 'number' ? input.endTime : undefined;
  return (e) =>
    (start === undefined || e.timestamp >= start) && (end === undefined || e.timestamp < end);
}

/**
 * A small part of the filter pattern syntax: space-separated terms that must all appear
 * (case-sensitive), a `"quoted phrase"`, and `-term` for a term that must not appear. An empty
 * pattern matches everything.
 */
export function matchesPattern(pattern: string, message: string): boolean {
  const terms = pattern.match(/-?"[^"]*"|\S+/g) ?? [];
  return terms.every((raw) => {
    const negate = raw.startsWith('-');
    const term = (negate ? raw.slice(1) : raw).replace(/^"|"$/g, '');
    return negate ? !message.includes(term) : message.includes(term);
  });
}

/** GetLogEvents' position tokens: `f/<index>` forward and `b/<index>` backward. */
function positionToken(direction: 'f' | 'b', index: number): string {
  return `${direction}/${String(index).padStart(20, '0')}/s`;
}

function parsePosition(token: string): { direction: 'f' | 'b'; index: number } {
  const m = /^([fb])\/(\d+)(\/s)?$/.exec(token);
  if (!m) throw invalid('The specified nextToken is invalid.');
  return { direction: m[1] as 'f' | 'b', index: Number(m[2]) };
}

/** The Logs operations over `state`. */
export function logsOperations(state: LogsState): Record<string, JsonOperation> {
  return {
    CreateLogGroup: (input: Input, rc: RequestContext) => {
      const name = requireName(input, 'logGroupName');
      if (!/^[\w\-./#]{1,512}$/.test(name))
        throw invalid(
          `1 validation error detected: Value '${name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+`,
        );
      state.createGroup(rc.region, name, (input.tags as Record<string, string>) ?? {});
      return {};
    },
    DeleteLogGroup: (input: Input, rc: RequestContext) => {
      state.deleteGroup(rc.region, groupName(input));
      return {};
    },
    PutRetentionPolicy: (input: Input, rc: RequestContext) => {
      const group = state.group(rc.region, requireName(input, 'logGroupName'));
      const days = Number(input.retentionInDays);
      if (!RETENTION_DAYS.includes(days))
        throw invalid(
          `1 validation error detected: Value '${String(input.retentionInDays)}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${RETENTION_DAYS.join(', ')}]`,
        );
      group.retentionInDays = days;
      return {};
    },
    DeleteRetentionPolicy: (input: Input, rc: RequestContext) => {
      delete state.group(rc.region, requireName(input, 'logGroupName')).retentionInDays;
      return {};
    },
    CreateLogStream: (input: Input, rc: RequestContext) => {
      const group = requireName(input, 'logGroupName');
      const name = requireName(input, 'logStreamName');
      if (name.includes(':') || name.includes('*') || name.length > 512)
        throw invalid(
          `1 validation error detected: Value '${name}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*`,
        );
      state.createStream(rc.region, group, name);
      return {};
    },
    DescribeLogGroups: (input: Input, rc: RequestContext) => {
      const prefix = typeof input.logGroupNamePrefix === 'string' ? input.logGroupNamePrefix : '';
      const pattern =
        typeof input.logGroupNamePattern === 'string'
          ? input.logGroupNamePattern.toLowerCase()
          : undefined;
      if (prefix && pattern !== undefined)
        throw invalid('LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive.');
      const groups = state
        .listGroups(rc.region)
        .filter(
          (g) =>
            g.logGroupName.startsWith(prefix) &&
            (pattern === undefined || g.logGroupName.toLowerCase().includes(pattern)),
        );
      const { items, nextToken } = page(groups, input, limitOf(input, 50, 50));
      return { logGroups: items.map((g) => groupView(g, rc)), nextToken };
    },
    DescribeLogStreams: (input: Input, rc: RequestContext) => {
      const g = state.group(rc.region, groupName(input));
      const prefix = typeof input.logStreamNamePrefix === 'string' ? input.logStreamNamePrefix : '';
      const orderBy = input.orderBy ?? 'LogStreamName';
      if (orderBy !== 'LogStreamName' && orderBy !== 'LastEventTime')
        throw invalid(
          `1 validation error detected: Value '${String(orderBy)}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]`,
        );
      if (prefix && orderBy === 'LastEventTime')
        throw invalid('Cannot order by LastEventTime with a logStreamNamePrefix.');
      const last = (s: LogStream): number => s.events[s.events.length - 1]?.timestamp ?? 0;
      const streams = [...g.streams.values()]
        .filter((s) => s.logStreamName.startsWith(prefix))
        .sort((a, b) =>
          orderBy === 'LastEventTime'
            ? last(a) - last(b)
            : a.logStreamName < b.logStreamName
              ? -1
              : a.logStreamName > b.logStreamName
                ? 1
                : 0,
        );
      if (input.descending === true) streams.reverse();
      const { items, nextToken } = page(streams, input, limitOf(input, 50, 50));
      return { logStreams: items.map((s) => streamView(g, s, rc)), nextToken };
    },
    PutLogEvents: (input: Input, rc: RequestContext) => {
      const stream = state.stream(
        rc.region,
        requireName(input, 'logGroupName'),
        requireName(input, 'logStreamName'),
      );
      const events = input.logEvents;
      if (!Array.isArray(events) || events.length < 1 || events.length > 10_000)
        throw invalid(
          "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000 and greater than or equal to 1",
        );
      const list = events as { timestamp?: unknown; message?: unknown }[];
      for (let i = 0; i < list.length; i++) {
        if (typeof list[i].timestamp !== 'number' || typeof list[i].message !== 'string')
          throw invalid(`Log event ${i} needs a numeric timestamp and a message.`);
        if (i > 0 && (list[i].timestamp as number) < (list[i - 1].timestamp as number))
          throw invalid(
            'Log events in a single PutLogEvents request must be in chronological order.',
          );
      }
      state.append(stream, list as { timestamp: number; message: string }[]);
      return {};
    },
    GetLogEvents: (input: Input, rc: RequestContext) => {
      const stream = state.stream(rc.region, groupName(input), requireName(input, 'logStreamName'));
      const limit = limitOf(input, 10_000, 10_000);
      const events = stream.events.filter(timeFilter(input));
      let from: number;
      let to: number;
      if (typeof input.nextToken === 'string') {
        const { direction, index } = parsePosition(input.nextToken);
        if (direction === 'f') {
          from = Math.min(index, events.length);
          to = Math.min(from + limit, events.length);
        } else {
          to = Math.min(index, events.length);
          from = Math.max(0, to - limit);
        }
      } else if (input.startFromHead === true) {
        from = 0;
        to = Math.min(limit, events.length);
      } else {
        to = events.length;
        from = Math.max(0, to - limit);
      }
      return {
        events: events.slice(from, to).map((e) => ({
          timestamp: e.timestamp,
          message: e.message,
          ingestionTime: e.ingestionTime,
        })),
        nextForwardToken: positionToken('f', to),
        nextBackwardToken: positionToken('b', from),
      };
    },
    FilterLogEvents: (input: Input, rc: RequestContext) => {
      const g = state.group(rc.region, groupName(input));
      const names = Array.isArray(input.logStreamNames)
        ? (input.logStreamNames as string[])
        : undefined;
      const prefix =
        typeof input.logStreamNamePrefix === 'string' ? input.logStreamNamePrefix : undefined;
      if (names && prefix !== undefined)
        throw invalid('logStreamNames and logStreamNamePrefix are mutually exclusive.');
      if (names)
        for (const n of names)
          if (!g.streams.has(n))
            throw new AwsError(
              'ResourceNotFoundException',
              'The specified log stream does not exist.',
            );
      const pattern = typeof input.filterPattern === 'string' ? input.filterPattern : '';
      const inTime = timeFilter(input);
      const events = [...g.streams.values()]
        .filter((s) =>
          names ? names.includes(s.logStreamName) : s.logStreamName.startsWith(prefix ?? ''),
        )
        .flatMap((s) =>
          s.events
            .filter((e) => inTime(e) && matchesPattern(pattern, e.message))
            .map((e) => ({
              logStreamName: s.logStreamName,
              timestamp: e.timestamp,
              message: e.message,
              ingestionTime: e.ingestionTime,
              eventId: e.eventId,
            })),
        )
        .sort((a, b) => a.timestamp - b.timestamp || a.ingestionTime - b.ingestionTime);
      const { items, nextToken } = page(events, input, limitOf(input, 10_000, 10_000));
      return { events: items, searchedLogStreams: [], nextToken };
    },
  };
}
