import * as core from '../../../packages/kit/src/core';
import { InputParser } from '../../../packages/kit/src/inputs';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import { redactUrl } from '../../../packages/kit/src/redact';
import { resolveRegion } from '../../../packages/kit/src/aws';
import { parseJsonAssertion, parseStatusRanges } from '../../../packages/health/src/expectations';
import type { GateOptions } from '../../../packages/health/src/gate';
import { isHttpUrl } from '../../../packages/health/src/probe';
import { maskHeaderValues, parseHeaders } from './headers';
import { METHODS, parseChecks } from './checks';

/** Everything health-gate reads from its inputs, validated: the gate's own options plus the action's. */

export interface Inputs extends Pick<
  GateOptions,
  | 'targets'
  | 'expectations'
  | 'healthyThreshold'
  | 'unhealthyThreshold'
  | 'intervalMs'
  | 'requestTimeoutMs'
  | 'timeoutMs'
  | 'startPeriodMs'
  | 'observeMs'
  | 'maxLatencyMs'
  | 'maxErrorRate'
> {
  failOnUnhealthy: boolean;
  cloudwatchAlarms: string[];
  targetGroupArn?: string;
  /** Only read when an AWS signal is used. */
  region?: string;
}

const TARGET_GROUP_ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/;

function regionOf(arn?: string): string | undefined {
  return arn?.split(':')[3];
}

/**
 * Reads and validates every input; throws ConfigurationError naming the first bad one. Header
 * values are masked before anything is parsed, and credentials in URLs as soon as they are read.
 * `url` and `checks` exclude each other: with `checks`, every URL is an entry of it, and each
 * entry takes `method`, `headers` and the `expect-*` inputs for the fields it omits.
 */
export async function getInputs(p = new InputParser()): Promise<Inputs> {
  const headerText = p.string('headers') ?? '';
  maskHeaderValues(headerText);
  const checksText = p.string('checks');
  // A URL listed twice is probed once (as `checks` refuses it twice), and a warning says so.
  const urls: string[] = [];
  for (const url of p.lines('url')) {
    if (!urls.includes(url)) urls.push(url);
    else
      core.warning(`Input \`url\` lists \`${redactUrl(url)}\` more than once: it is probed once.`);
  }
  if (checksText && urls.length) {
    throw new ConfigurationError(
      'Inputs `url` and `checks` cannot both be set: list every URL as an entry of `checks` (an entry may set only its `url` and take the step inputs for the rest).',
    );
  }
  if (!checksText && !urls.length)
    throw new ConfigurationError('Input `url` or `checks` is required and neither was set.');
  // Masks the user name, password and credential-like query values of every URL at once.
  const displayUrls = urls.map((url) => redactUrl(url));
  urls.forEach((url, i) => {
    if (!isHttpUrl(url))
      p.fail('url', displayUrls[i], 'one or more http:// or https:// URLs, one per line');
  });
  // url-health-check splits on `|`, and a comma list is a habit: such a line is one URL here.
  urls.forEach((url, i) => {
    if (/[,|]\s*https?:\/\//i.test(url))
      core.warning(
        `Input \`url\`, line ${i + 1}, looks like several URLs on one line (a \`,\` or \`|\` before \`http\`): it is probed as one URL. Put one URL per line.`,
      );
  });
  const method = (p.string('method') ?? 'GET').toUpperCase();
  if (!(METHODS as readonly string[]).includes(method))
    p.fail('method', method, `one of ${METHODS.join(', ')}`);
  const headers = parseHeaders(headerText);

  const statusText = p.string('expect-status') ?? '200-299';
  const status = parseStatusRanges(statusText);
  if (!status)
    p.fail(
      'expect-status',
      statusText,
      'status codes and ranges from 100 to 599 such as `200,204,300-399`',
    );
  const json = p
    .lines('expect-json')
    .map(
      (line) =>
        parseJsonAssertion(line) ??
        p.fail(
          'expect-json',
          line,
          'one `path=value` or `path=value1|value2` per line, the path dotted',
        ),
    );
  const body = p.string('expect-body');
  const expectations = { status: status!, json, body };
  const targets = checksText
    ? await parseChecks(checksText, { method, headers, expectations })
    : urls.map((url, i) => ({ url, displayUrl: displayUrls[i], method, headers }));

  const healthyThreshold = p.int('healthy-threshold', { default: 2, min: 1, max: 100 }) as number;
  const unhealthyThreshold = p.int('unhealthy-threshold', {
    default: 3,
    min: 1,
    max: 100,
  }) as number;
  const intervalMs = p.duration('interval', { default: '5s', min: 100, max: 3_600_000 }) as number;
  const requestTimeoutMs = p.duration('request-timeout', {
    default: '5s',
    min: 50,
    max: 600_000,
  }) as number;
  const timeoutMs = p.duration('timeout', {
    default: '5m',
    min: 100,
    max: 6 * 3_600_000,
  }) as number;
  const startPeriodMs = p.duration('start-period', { default: '0s', max: 6 * 3_600_000 }) as number;
  if (startPeriodMs > 0 && startPeriodMs >= timeoutMs) {
    p.fail(
      'start-period',
      core.getInput('start-period'),
      `a duration shorter than \`timeout\` (${core.getInput('timeout') || '5m'}), or \`0s\``,
    );
  }
  const observeMs = p.duration('observe', { default: '0s', max: 6 * 3_600_000 }) as number;
  const maxLatencyMs = p.duration('max-latency', { min: 1 });
  p.warnBareSeconds('max-latency', 'ms', 'milliseconds');
  const maxErrorRate = p.number('max-error-rate', { min: 0, max: 100 });
  const failOnUnhealthy = p.bool('fail-on-unhealthy', true);
  const cloudwatchAlarms = p.list('cloudwatch-alarms');
  for (const name of cloudwatchAlarms) {
    if (name.length > 255)
      p.fail('cloudwatch-alarms', name, 'alarm names of at most 255 characters');
  }
  const targetGroupArn = p.string('target-group-arn');
  if (targetGroupArn && !TARGET_GROUP_ARN.test(targetGroupArn)) {
    p.fail(
      'target-group-arn',
      targetGroupArn,
      'a target group ARN such as `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api/0123456789abcdef`',
    );
  }
  const usesAws = cloudwatchAlarms.length > 0 || targetGroupArn !== undefined;
  const region = usesAws
    ? resolveRegion(p.string('region') ?? regionOf(targetGroupArn))
    : undefined;

  return {
    targets,
    expectations,
    healthyThreshold,
    unhealthyThreshold,
    intervalMs,
    requestTimeoutMs,
    timeoutMs,
    startPeriodMs,
    observeMs,
    maxLatencyMs,
    maxErrorRate,
    failOnUnhealthy,
    cloudwatchAlarms,
    targetGroupArn,
    region,
  };
}
