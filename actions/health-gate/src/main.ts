import * as core from '../../../packages/kit/src/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionFailure, CancelledError } from '../../../packages/kit/src/errors';
import { formatDuration } from '../../../packages/kit/src/duration';
import { logSafe, markdownSafe } from '../../../packages/kit/src/log-text';
import { systemClock } from '../../../packages/kit/src/poll';
import { runAction } from '../../../packages/kit/src/run';
import { SummaryBuilder } from '../../../packages/kit/src/summary';
import { formatStatusRanges, type Expectations } from '../../../packages/health/src/expectations';
import {
  runGate,
  type GateResult,
  type SignalCheck,
  type UrlState,
} from '../../../packages/health/src/gate';
import type { ProbeResult } from '../../../packages/health/src/probe';
import { flapLimit } from '../../../packages/health/src/url-state';
import { getInputs, type Inputs } from './inputs';

function probeLine(r: ProbeResult, s: UrlState, inputs: Inputs, started: number): string {
  const t = `+${((Date.parse(r.time) - started) / 1000).toFixed(1)}s`.padStart(7);
  const status = String(r.status ?? '---');
  const latency = `${r.latencyMs}ms`.padStart(7);
  const progress: string[] = [];
  if (s.phase === 'waiting') {
    progress.push(`healthy ${s.consecutiveSuccesses}/${inputs.healthyThreshold}`);
    if (s.inStartPeriod && !r.ok) progress.push('start period: not counted');
  }
  if (s.consecutiveFailures) {
    progress.push(`failures ${s.consecutiveFailures}/${inputs.unhealthyThreshold}`);
  }
  if (s.windowStart === undefined && s.failuresBeforeHealthy > s.consecutiveFailures) {
    progress.push(`${s.failuresBeforeHealthy}/${flapLimit(inputs)} failed before healthy`);
  }
  if (!progress.length) progress.push(s.phase);
  return logSafe(
    `${t} ${r.ok ? '✓' : '✗'} ${status} ${latency}  ${r.url}${r.error ? `  ${r.error}` : ''}  (${progress.join(', ')})`,
  );
}

/** What a response must satisfy, in a few words: `status 200-299, status=UP, body contains "x"`. */
function expectedWords(e: Expectations): string {
  return [
    `status ${formatStatusRanges(e.status)}`,
    ...e.json.map((j) => j.text),
    ...(e.body ? [`body contains ${JSON.stringify(e.body)}`] : []),
  ].join(', ');
}

/** The counting rules in one sentence, for the log and the summary. */
function rulesSentence(inputs: Inputs): string {
  return `${inputs.healthyThreshold} successes in a row make a URL healthy; ${inputs.unhealthyThreshold} failures in a row, or ${flapLimit(inputs)} failures before it is healthy, fail it`;
}

/** What the start period does, in a few words. */
function startPeriodWords(inputs: Inputs): string {
  return inputs.startPeriodMs
    ? `${formatDuration(inputs.startPeriodMs)}: failures before it ends (or before a URL's first success) do not count`
    : '0s: failures count from the first probe';
}

function writeReport(result: GateResult, inputs: Inputs): string {
  const dir = process.env.RUNNER_TEMP || tmpdir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `health-gate-${Date.now()}-${process.pid}.json`);
  const report = {
    healthy: result.healthy,
    reason: result.reason,
    durationMs: result.durationMs,
    rules: {
      expectStatus: formatStatusRanges(inputs.expectations.status),
      expectJson: inputs.expectations.json.map((j) => j.text),
      expectBody: inputs.expectations.body,
      healthyThreshold: inputs.healthyThreshold,
      unhealthyThreshold: inputs.unhealthyThreshold,
      intervalMs: inputs.intervalMs,
      timeoutMs: inputs.timeoutMs,
      startPeriodMs: inputs.startPeriodMs,
      observeMs: inputs.observeMs,
      maxLatencyMs: inputs.maxLatencyMs,
      maxErrorRate: inputs.maxErrorRate,
    },
    urls: result.urls.map((u, i) => {
      const e = inputs.targets[i].expectations ?? inputs.expectations;
      return {
        ...u,
        expected: {
          status: formatStatusRanges(e.status),
          json: e.json.map((j) => j.text),
          body: e.body,
        },
      };
    }),
    signals: result.signals,
    probes: result.probes.map((p) => ({
      time: p.time,
      url: p.url,
      status: p.status ?? null,
      latencyMs: p.latencyMs,
      verdict: p.ok ? 'pass' : 'fail',
      error: p.error,
    })),
  };
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

async function writeSummary(result: GateResult, inputs: Inputs, reportPath: string): Promise<void> {
  const s = new SummaryBuilder('Health gate');
  s.verdict(
    result.healthy ? 'success' : inputs.failOnUnhealthy ? 'failure' : 'warning',
    result.healthy ? 'healthy' : 'not healthy',
  );
  s.text(markdownSafe(result.reason));
  const perUrl = inputs.targets.some((t) => t.expectations);
  s.table(
    perUrl
      ? ['URL', 'Expected', 'Probes', 'Successes', 'p50', 'p95', 'Error rate', 'Verdict', 'Reason']
      : ['URL', 'Probes', 'Successes', 'p50', 'p95', 'Error rate', 'Verdict', 'Reason'],
    result.urls.map((u, i) => [
      u.url,
      ...(perUrl
        ? [markdownSafe(expectedWords(inputs.targets[i].expectations ?? inputs.expectations))]
        : []),
      u.probes,
      u.successes,
      u.p50Ms === undefined ? '–' : `${u.p50Ms}ms`,
      u.p95Ms === undefined ? '–' : `${u.p95Ms}ms`,
      `${u.errorRate}%`,
      u.verdict,
      u.reason ? markdownSafe(u.reason) : '–',
    ]),
  );
  // The AWS signals gate the release too: say which were read and what they last said.
  if (result.signals.length)
    s.table(
      ['Signal', 'Readings', 'Verdict', 'Last seen'],
      result.signals.map((g) => [
        markdownSafe(g.name),
        g.readings,
        g.verdict,
        g.detail ? markdownSafe(g.detail) : '–',
      ]),
    );
  s.facts([
    ['Rules', `${rulesSentence(inputs)}; a probe every ${formatDuration(inputs.intervalMs)}`],
    ['Expected', perUrl ? 'per URL, in the table' : expectedWords(inputs.expectations)],
    ['Start period', startPeriodWords(inputs)],
    ['Observe once healthy', inputs.observeMs ? formatDuration(inputs.observeMs) : undefined],
    [
      'Limits',
      [
        inputs.maxLatencyMs ? `p95 ≤ ${inputs.maxLatencyMs}ms` : '',
        inputs.maxErrorRate !== undefined ? `errors ≤ ${inputs.maxErrorRate}%` : '',
      ]
        .filter(Boolean)
        .join(', ') || undefined,
    ],
    ['Duration', formatDuration(result.durationMs)],
    ['Report', `\`${reportPath}\``],
  ]);
  await s.write();
}

/** CloudWatch alarm and target-group checks; the AWS SDK is loaded only when they are used. */
async function awsSignals(inputs: Inputs): Promise<SignalCheck[]> {
  if (!inputs.region) return [];
  const { awsClientConfig, withErrorContext } = await import('../../../packages/kit/src/aws');
  const { alarmSignal, targetGroupSignal } =
    await import('../../../packages/health/src/aws-signals');
  const config = awsClientConfig(inputs.region);
  const signals: SignalCheck[] = [];
  if (inputs.cloudwatchAlarms.length) {
    const { CloudWatchClient } = await import('@aws-sdk/client-cloudwatch');
    signals.push(
      alarmSignal(
        withErrorContext(new CloudWatchClient(config), 'CloudWatch'),
        inputs.cloudwatchAlarms,
      ),
    );
  }
  if (inputs.targetGroupArn) {
    const { ElasticLoadBalancingV2Client } =
      await import('@aws-sdk/client-elastic-load-balancing-v2');
    signals.push(
      targetGroupSignal(
        withErrorContext(new ElasticLoadBalancingV2Client(config), 'ELBv2'),
        inputs.targetGroupArn,
      ),
    );
  }
  return signals;
}

/** Runs the health gate: probe, decide, report. */
export async function run(): Promise<void> {
  await runAction(async ({ signal }) => {
    const inputs = await getInputs();
    const started = Date.now();
    core.info(
      `Gating on ${inputs.targets.length} URL(s), a probe every ${formatDuration(inputs.intervalMs)} for at most ${formatDuration(inputs.timeoutMs)}${inputs.observeMs ? `, then observing for ${formatDuration(inputs.observeMs)}` : ''}: ${rulesSentence(inputs)}; start period ${startPeriodWords(inputs)}.`,
    );
    for (const t of inputs.targets) {
      if (t.expectations)
        core.info(logSafe(`  ${t.method} ${t.displayUrl}: ${expectedWords(t.expectations)}`));
    }
    const signals = await awsSignals(inputs);
    const result = await runGate({
      ...inputs,
      signals,
      signal,
      clock: systemClock,
      onProbe: (r, s) => core.info(probeLine(r, s, inputs, started)),
      onEvent: (message) => core.info(logSafe(message)),
    });
    const reportPath = writeReport(result, inputs);
    core.setOutput('healthy', String(result.healthy));
    core.setOutput('reason', logSafe(result.reason));
    core.setOutput('attempts', String(result.attempts));
    core.setOutput('p95-ms', result.p95Ms === undefined ? '' : String(result.p95Ms));
    core.setOutput('error-rate', String(result.errorRate));
    core.setOutput('report-path', reportPath);
    await writeSummary(result, inputs, reportPath);
    if (result.cancelled)
      throw new CancelledError('the health gate was cancelled before it reached a verdict');
    if (result.healthy) {
      core.info(`Healthy: ${logSafe(result.reason)}`);
    } else if (inputs.failOnUnhealthy) {
      throw new ActionFailure(`Unhealthy: ${logSafe(result.reason)}`);
    } else {
      core.warning(
        `Unhealthy (fail-on-unhealthy is false, so the step passes): ${logSafe(result.reason)}`,
      );
    }
  });
}
