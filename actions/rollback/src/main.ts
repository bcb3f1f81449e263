import * as core from '../../../packages/kit/src/core';
import {
  ActionFailure,
  ConfigurationError,
  describeAwsError,
  errorMessage,
  isAwsError,
} from '../../../packages/kit/src/errors';
import { formatDuration } from '../../../packages/kit/src/duration';
import { logSafe, markdownSafe } from '../../../packages/kit/src/log-text';
import { runAction } from '../../../packages/kit/src/run';
import { setStepTimeout } from '../../../packages/kit/src/run-signal';
import { SummaryBuilder } from '../../../packages/kit/src/summary';
import type { Clock } from '../../../packages/kit/src/poll';
import type { GitHubDeployments } from '../../../packages/kit/src/github-deployments';
import type { EcsApi } from '../../../packages/ecs/src/api';
import type { CodeDeployRollbackApi } from '../../../packages/ecs/src/codedeploy/api';
import type { RollbackResult, RollbackServicesResult } from '../../../packages/ecs/src/rollback';
import { getInputs, type Inputs } from './inputs';
import { GitHubDeploymentRecord } from '../../../packages/kit/src/deployment-record';
import { runnerLog } from '../../../packages/kit/src/step-log';
import {
  addServiceSections,
  ecsResourceName,
  serviceLabel,
} from '../../../packages/ecs/src/summary-sections';

/** What tests or other callers may inject instead of the real clients. */
export interface Deps {
  ecs?: EcsApi;
  /** CodeDeploy, for a service with the CODE_DEPLOY controller (built on first use when not given). */
  codeDeploy?: CodeDeployRollbackApi;
  github?: GitHubDeployments;
  clock?: Clock;
}

/** The summary's verdict for each rollback status. */
const VERDICTS: Record<
  RollbackResult['status'],
  ['success' | 'failure' | 'warning' | 'neutral', string]
> = {
  succeeded: ['success', 'rolled back'],
  unchanged: ['neutral', 'nothing to roll back'],
  'in-progress': ['neutral', 'rollback started'],
  failed: ['failure', 'rollback failed'],
  'timed-out': ['failure', 'rollback timed out'],
  unknown: ['warning', 'outcome unknown'],
};

async function writeSummary(inputs: Inputs, r: RollbackResult, githubId?: number): Promise<void> {
  const { shortTaskDefinition } = await import('../../../packages/ecs/src/task-definition');
  const [kind, word] = VERDICTS[r.status];
  const s = new SummaryBuilder(`Rollback of ${ecsResourceName(inputs.service)}`);
  s.verdict(kind, word);
  s.text(markdownSafe(r.reason));
  s.facts([
    ['Service', serviceLabel(inputs.cluster, inputs.service)],
    ['From', shortTaskDefinition(r.from)],
    ['To', shortTaskDefinition(r.to)],
    ['Method', r.method ? `\`${r.method}\`` : undefined],
    // The table escapes `|` itself; the rest of the Markdown and HTML in an echoed input is escaped here.
    ['Reason', inputs.reason && markdownSafe(inputs.reason)],
    [
      'Stopped CodeDeploy deployment',
      r.codeDeploy?.stoppedDeploymentId ? `\`${r.codeDeploy.stoppedDeploymentId}\`` : undefined,
    ],
    [
      'CodeDeploy deployment',
      r.codeDeploy?.deploymentId
        ? `[${r.codeDeploy.deploymentId}](${r.codeDeploy.consoleUrl}) (${markdownSafe(r.codeDeploy.application)} / ${markdownSafe(r.codeDeploy.deploymentGroup)})${
            r.codeDeploy.stoppedDeploymentId ? ', CodeDeploy’s rollback' : ''
          }`
        : undefined,
    ],
    ['CodeDeploy status', r.codeDeploy?.status],
    ['Target commit', r.targetGitSha],
    ['GitHub deployment', githubId ? `${inputs.environmentName} (#${githubId})` : undefined],
    ['Duration', formatDuration(r.durationMs)],
  ]);
  if (r.timeline.length) {
    s.heading('Timeline');
    s.table(
      ['Stage', 'Duration'],
      r.timeline.map((t) => [t.stage, t.endedAt ? formatDuration(t.endedAt - t.startedAt) : '–']),
    );
  }
  if (r.codeDeploy?.lifecycleEvents.length) {
    s.heading('CodeDeploy lifecycle events');
    s.table(
      ['Event', 'Status', 'Duration'],
      r.codeDeploy.lifecycleEvents.map((e) => [
        markdownSafe(e.name),
        markdownSafe(e.status),
        e.durationMs !== undefined ? formatDuration(e.durationMs) : '–',
      ]),
    );
  }
  addServiceSections(s, r);
  await s.write();
}

/**
 * The `services` output, shaped as ecs-deploy's: per service name its status, the revision it
 * runs after the rollback, the revision rolled back from, and why.
 */
function servicesOutput(outcome: RollbackServicesResult): string {
  return JSON.stringify(
    Object.fromEntries(
      outcome.services.map(({ service, result }) => [
        ecsResourceName(service),
        {
          status: result.status,
          'task-definition-arn': result.to ?? '',
          'previous-task-definition-arn': result.from ?? '',
          reason: result.reason,
        },
      ]),
    ),
  );
}

/** The summary of several services rolled back together: the verdict and a row per service. */
async function writeServicesSummary(
  inputs: Inputs,
  outcome: RollbackServicesResult,
  githubId?: number,
): Promise<void> {
  const { shortTaskDefinition } = await import('../../../packages/ecs/src/task-definition');
  const [kind, word] = VERDICTS[outcome.status];
  const s = new SummaryBuilder(`Rollback of ${inputs.services.join(', ')}`);
  s.verdict(kind, word);
  s.text(markdownSafe(outcome.reason));
  s.facts([
    ['Cluster', inputs.cluster ?? 'default'],
    ['Reason', inputs.reason && markdownSafe(inputs.reason)],
    ['GitHub deployment', githubId ? `${inputs.environmentName} (#${githubId})` : undefined],
  ]);
  s.table(
    ['Service', 'Status', 'From', 'To', 'Method', 'Duration', 'Reason'],
    outcome.services.map(({ service, result: r }) => [
      service,
      r.status,
      shortTaskDefinition(r.from),
      shortTaskDefinition(r.to),
      r.method ?? '–',
      formatDuration(r.durationMs),
      // AWS's words and the `reason` input: the table escapes `|` itself.
      markdownSafe(r.reason),
    ]),
  );
  await s.write();
}

/** Phrases what the domain found wrong (it states facts) with the input that asked for it. */
async function phrased(error: unknown, cluster?: string): Promise<unknown> {
  if (isAwsError(error) && error.name === 'ClusterNotFoundException')
    return new ConfigurationError(
      `Input \`cluster\`: cluster \`${cluster ?? 'default'}\` was not found (${describeAwsError(error)}).`,
    );
  const { RollbackTargetError } = await import('../../../packages/ecs/src/rollback-target');
  const { UnknownCodeDeployTargetError } =
    await import('../../../packages/ecs/src/codedeploy/group');
  if (error instanceof RollbackTargetError)
    return new ConfigurationError(`Input \`to\`: ${error.message}`);
  if (error instanceof UnknownCodeDeployTargetError) {
    const input =
      error.which === 'application' ? 'codedeploy-application' : 'codedeploy-deployment-group';
    return new ConfigurationError(
      `Input \`${input}\` (\`${error.resourceName}\`${error.defaulted ? ', the default name' : ''}): ${error.message}`,
    );
  }
  return error;
}

/** Runs rollback: validate, resolve, stop or update, follow, report. */
export async function run(deps: Deps = {}): Promise<void> {
  await runAction(async ({ signal }) => {
    const inputs = getInputs();
    setStepTimeout(inputs.timeoutMs);
    const { rollback } = await import('../../../packages/ecs/src/rollback');
    const { meteredActionEcsApi, deregistrationDelayReader, ecrImageChecker } =
      await import('../../../packages/ecs/src/client');
    const { lazyCodeDeployApi } = await import('../../../packages/ecs/src/codedeploy/lazy-api');
    const api = await meteredActionEcsApi(deps.ecs, signal, deps.clock);
    const record = new GitHubDeploymentRecord(deps.github);
    if (inputs.environmentName && !record.github) {
      const { GitHubDeployments } = await import('../../../packages/kit/src/github-deployments');
      record.github = new GitHubDeployments(inputs.githubToken ?? '');
    }
    if (inputs.reason) core.info(`Reason: ${logSafe(inputs.reason)}`);
    const several = inputs.services.length > 1;
    const names = inputs.services.join(', ');
    const common = {
      api,
      cluster: inputs.cluster,
      to: inputs.to,
      reason: inputs.reason,
      waitUntil: inputs.waitUntil,
      timeoutMs: inputs.timeoutMs,
      log: runnerLog,
      signal,
      deregistrationDelayMs: deregistrationDelayReader(),
      imageExists: ecrImageChecker(),
      clock: deps.clock,
      codeDeploy: {
        api: lazyCodeDeployApi(deps.codeDeploy),
        application: inputs.codeDeploy.application,
        deploymentGroup: inputs.codeDeploy.deploymentGroup,
        region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION,
      },
      onStarted: async ({ targetGitSha }: { targetGitSha?: string }) => {
        const github = record.github;
        if (!github || !inputs.environmentName) return;
        try {
          const githubId = await github.create({
            environment: inputs.environmentName,
            ref: targetGitSha,
            task: 'deploy:rollback',
            description: `Rollback of ${names}${inputs.reason ? `: ${inputs.reason}` : ''}`,
            payload: {
              ...(several ? { services: inputs.services } : { service: inputs.service }),
              cluster: inputs.cluster ?? 'default',
              rollback: true,
            },
          });
          record.id = githubId;
          core.info(
            `Recorded GitHub deployment ${githubId} for environment ${inputs.environmentName}.`,
          );
          await record.mark('in_progress', `Rolling back ${names}`);
        } catch (error) {
          core.warning(`Could not record a GitHub deployment: ${logSafe(errorMessage(error))}`);
        }
      },
    };
    let outcome: RollbackServicesResult;
    try {
      if (several) {
        const { rollbackServices } = await import('../../../packages/ecs/src/rollback');
        outcome = await rollbackServices({ ...common, services: inputs.services });
      } else {
        const result = await rollback({
          ...common,
          service: inputs.service,
          onFact: (name, value) => core.setOutput(name, value),
          onCodeDeployDeployment: (id) => core.setOutput('codedeploy-deployment-id', id),
        });
        outcome = {
          status: result.status,
          reason: result.reason,
          services: [{ service: inputs.service, result }],
        };
      }
    } catch (error) {
      await record.markThrown(error, 'Cancelled while rolling back');
      throw await phrased(error, inputs.cluster);
    }
    // A cancel that came while the last answer was read wins: never `succeeded` after SIGTERM.
    if (signal.aborted) {
      await record.markThrown(signal.reason, 'Cancelled while rolling back');
      throw signal.reason;
    }
    core.setOutput('status', outcome.status);
    core.setOutput('reason', outcome.reason);
    core.setOutput('services', servicesOutput(outcome));
    if (outcome.status === 'succeeded') await record.mark('success', outcome.reason);
    else if (outcome.status === 'unknown') await record.mark('error', outcome.reason);
    else if (outcome.status !== 'in-progress') await record.mark('failure', outcome.reason);
    if (several) await writeServicesSummary(inputs, outcome, record.id);
    else await writeSummary(inputs, outcome.services[0].result, record.id);
    if (['failed', 'timed-out', 'unknown'].includes(outcome.status))
      throw new ActionFailure(outcome.reason);
    core.info(logSafe(outcome.reason));
  });
}
