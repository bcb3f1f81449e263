import * as core from '../../../packages/kit/src/core';
import {
  ActionFailure,
  CancelledError,
  ConfigurationError,
  describeAwsError,
  isAwsError,
} from '../../../packages/kit/src/errors';
import { formatDuration } from '../../../packages/kit/src/duration';
import { logSafe, markdownSafe } from '../../../packages/kit/src/log-text';
import { systemClock, type Clock } from '../../../packages/kit/src/poll';
import { runAction } from '../../../packages/kit/src/run';
import { setStepTimeout } from '../../../packages/kit/src/run-signal';
import { SummaryBuilder } from '../../../packages/kit/src/summary';
import type { LogsReaderFor, RunTaskEcs } from '../../../packages/ecs/src/run-task/api';
import type { RunOneOffResult, RunTaskLog } from '../../../packages/ecs/src/run-task/run';
import type { RunTarget } from '../../../packages/ecs/src/run-task/target';
import { getInputs, type Inputs } from './inputs';

/** What tests or other callers may inject instead of the real clients. */
export interface Deps {
  ecs?: RunTaskEcs;
  logs?: LogsReaderFor;
  clock?: Clock;
}

const log: RunTaskLog = {
  info: (m) => core.info(logSafe(m)),
  warning: (m) => core.warning(logSafe(m)),
  debug: (m) => core.debug(logSafe(m)),
  taskLine: (task, line) => core.info(`${task ? `[${task.slice(0, 8)}] ` : ''}${logSafe(line)}`),
};

async function realClients(region: string): Promise<{ ecs: RunTaskEcs; logs: LogsReaderFor }> {
  const [{ ECSClient }, { CloudWatchLogsClient }, kitAws, api] = await Promise.all([
    import('@aws-sdk/client-ecs'),
    import('@aws-sdk/client-cloudwatch-logs'),
    import('../../../packages/kit/src/aws'),
    import('../../../packages/ecs/src/run-task/api'),
  ]);
  const ecs = await api.createRunTaskEcs(
    kitAws.withErrorContext(new ECSClient(kitAws.awsClientConfig(region)), 'ECS'),
  );
  const readers = new Map<
    string,
    Promise<import('../../../packages/ecs/src/run-task/api').LogsReader>
  >();
  const reader = (r: string) => {
    let found = readers.get(r);
    if (!found) {
      found = api.createLogsReader(
        kitAws.withErrorContext(
          new CloudWatchLogsClient(kitAws.awsClientConfig(r)),
          'CloudWatch Logs',
        ),
      );
      readers.set(r, found);
    }
    return found;
  };
  return {
    ecs,
    logs: (r) => ({ getLogEvents: async (i) => (await reader(r)).getLogEvents(i) }),
  };
}

function workflowRun(): string {
  const { GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: id } = process.env;
  return repo && id ? `${repo} run ${id}` : 'a local run';
}

const VERDICT: Record<RunOneOffResult['status'], ['success' | 'failure' | 'warning', string]> = {
  succeeded: ['success', 'exited 0'],
  failed: ['failure', 'failed'],
  'timed-out': ['failure', 'timed out'],
  cancelled: ['warning', 'cancelled'],
  'not-started': ['failure', 'not started'],
};

async function writeSummary(
  inputs: Inputs,
  target: RunTarget,
  r: RunOneOffResult,
  logUrl: string | undefined,
): Promise<void> {
  const [kind, word] = VERDICT[r.status];
  const s = new SummaryBuilder(`Run task ${target.taskDefinition}`);
  s.verdict(kind, word);
  s.text(markdownSafe(r.reason.split('\n')[0]));
  s.facts([
    ['Cluster', inputs.cluster ?? 'default'],
    [
      'Task definition',
      `${target.taskDefinition}${target.registered && inputs.source.kind === 'file' ? ` (registered from \`${inputs.source.path}\`)` : ''}`,
    ],
    ['Service', target.service],
    ['Container', target.container],
    [
      'Command',
      inputs.command
        ? `\`${JSON.stringify(inputs.command).replace(/`/g, "'")}\``
        : "(the definition's)",
    ],
    ['Tasks', r.taskArns.length ? String(r.taskArns.length) : '0'],
    ['Status', `\`${r.status}\``],
    ['Exit code', r.exitCode],
    ['Duration', formatDuration(r.durationMs)],
    [
      'Stopped by this run',
      r.stoppedByRun.length ? r.stoppedByRun.map((a) => a.split('/').pop()).join(', ') : undefined,
    ],
    ['Logs', logUrl ? `[${markdownSafe(r.logStream?.stream)}](${logUrl})` : undefined],
  ]);
  if (r.failures.length) {
    s.heading('RunTask failures');
    s.list(
      r.failures.map((f) => markdownSafe([f.arn, f.reason, f.detail].filter(Boolean).join(': '))),
    );
  }
  if (r.tasks.length) {
    s.heading('Tasks');
    s.table(
      ['Task', 'Status', 'Exit code', 'Stopped reason', 'Ran for'],
      r.tasks.map((t) => [
        t.taskId,
        t.lastStatus ?? '',
        t.exitCode ?? '–',
        logSafe([t.stopCode, t.stoppedReason].filter(Boolean).join(': '), 300),
        t.startedAt && t.stoppedAt
          ? formatDuration(t.stoppedAt.getTime() - t.startedAt.getTime())
          : '–',
      ]),
    );
  }
  const withLines =
    r.tasks.find((t) => t.exitCode !== 0 && t.lastLines.length) ??
    r.tasks.find((t) => t.lastLines.length);
  if (withLines)
    s.details(
      `Last log lines of task ${withLines.taskId}`,
      withLines.lastLines.map((l) => logSafe(l, 500).replace(/`/g, "'")).join('\n'),
      true,
    );
  await s.write();
}

/** The input a resolving mistake is about, named in the message (the domain names none). */
const INPUT_OF_FIELD = {
  service: 'service',
  'task-definition': 'task-definition',
  container: 'container',
} as const;

/** Phrases what ECS or the domain found wrong with the input that asked for it. */
async function phrased(error: unknown, inputs: Inputs): Promise<unknown> {
  const { RunTargetError } = await import('../../../packages/ecs/src/run-task/target');
  if (error instanceof RunTargetError) {
    if (error.field === 'network')
      return new ConfigurationError(
        `Input \`network-configuration\` needs \`subnets=…\` (or set \`service\` to use that service's network): ${error.message}`,
      );
    return new ConfigurationError(`Input \`${INPUT_OF_FIELD[error.field]}\`: ${error.message}`);
  }
  if (isAwsError(error) && error.name === 'ClusterNotFoundException')
    return new ConfigurationError(
      `Input \`cluster\`: cluster \`${inputs.cluster ?? 'default'}\` was not found (${describeAwsError(error)}).`,
    );
  return error;
}

/** Runs run-task: validate, resolve, run, follow the logs, explain, never leave a task behind. */
export async function run(deps: Deps = {}): Promise<void> {
  await runAction(async ({ signal }) => {
    const inputs = getInputs();
    setStepTimeout(inputs.timeoutMs);
    const { resolveRunTarget, logStreamConsoleUrl } =
      await import('../../../packages/ecs/src/run-task/target');
    const { runOneOffTask } = await import('../../../packages/ecs/src/run-task/run');
    const clients = deps.ecs
      ? { ecs: deps.ecs, logs: deps.logs }
      : await realClients(inputs.region);
    const target = await resolveRunTarget(
      clients.ecs,
      {
        cluster: inputs.cluster,
        source: inputs.source,
        container: inputs.container,
        command: inputs.command,
        environment: inputs.environment,
        count: inputs.count,
        network: inputs.network,
        startedBy: inputs.startedBy,
        tags: inputs.tags,
      },
      inputs.region,
    ).catch(async (error: unknown) => {
      throw await phrased(error, inputs);
    });
    if (target.registered) core.info(`Registered ${target.taskDefinitionArn}.`);
    core.info(
      `Running ${inputs.count === 1 ? 'a task' : `${inputs.count} tasks`} of ${target.taskDefinition}${target.service ? ` (the definition of service ${target.service})` : ''}, container \`${target.container}\`${inputs.command ? `: ${logSafe(JSON.stringify(inputs.command))}` : ''}.`,
    );
    const result = await runOneOffTask({
      ecs: clients.ecs,
      logs: clients.logs,
      clock: deps.clock ?? systemClock,
      target,
      timeoutMs: inputs.timeoutMs,
      signal,
      log,
      stopReason: `Stopped by shipkit run-task (${workflowRun()})`,
      onStarted: (arns) => core.setOutput('task-arns', arns.join('\n')),
    }).catch(async (error: unknown) => {
      throw await phrased(error, inputs);
    });
    const logUrl = result.logStream
      ? logStreamConsoleUrl(
          result.logStream.region,
          result.logStream.group,
          result.logStream.stream,
        )
      : undefined;
    core.setOutput('task-arns', result.taskArns.join('\n'));
    core.setOutput('status', result.status);
    core.setOutput('exit-code', result.exitCode === undefined ? '' : String(result.exitCode));
    core.setOutput('reason', result.reason);
    core.setOutput('log-url', logUrl ?? '');
    await writeSummary(inputs, target, result, logUrl);
    if (result.status === 'cancelled') throw new CancelledError(result.reason);
    if (result.status !== 'succeeded') throw new ActionFailure(result.reason);
    core.info(result.reason);
  });
}
