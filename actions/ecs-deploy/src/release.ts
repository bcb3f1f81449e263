// ecs-deploy with several services: one release, one GitHub Deployment, one summary.
import * as core from '../../../packages/kit/src/core';
import { ActionFailure } from '../../../packages/kit/src/errors';
import { formatDuration } from '../../../packages/kit/src/duration';
import { logSafe, markdownSafe } from '../../../packages/kit/src/log-text';
import { SummaryBuilder } from '../../../packages/kit/src/summary';
import { GitHubDeploymentRecord } from '../../../packages/kit/src/deployment-record';
import { runnerLog } from '../../../packages/kit/src/step-log';
import type { EcsApi } from '../../../packages/ecs/src/api';
import type { DeployStatus } from '../../../packages/ecs/src/deploy';
import {
  ReleaseCancelledError,
  type ReleaseResult,
} from '../../../packages/ecs/src/release/release';
import { shortTaskDefinition } from '../../../packages/ecs/src/task-definition';
import type { Clock } from '../../../packages/kit/src/poll';
import type { GitHubDeployments } from '../../../packages/kit/src/github-deployments';
import { phrased, type Inputs } from './inputs';
import type { ReleaseInputs } from './release-inputs';
import { servicesOutput } from './services-output';

const VERDICT: Record<DeployStatus, ['success' | 'failure' | 'warning' | 'neutral', string]> = {
  succeeded: ['success', 'released'],
  unchanged: ['neutral', 'unchanged'],
  'dry-run': ['neutral', 'dry run'],
  registered: ['success', 'registered, not deployed'],
  'in-progress': ['neutral', 'deployments started'],
  ready: ['neutral', 'waiting for a go-ahead'],
  failed: ['failure', 'failed'],
  'rolled-back': ['failure', 'rolled back'],
  'timed-out': ['failure', 'timed out'],
  unknown: ['warning', 'outcome unknown'],
};

/** A service's revisions as a reader takes them in: where it was, where it went, where it is. */
export function revisionCell(x: {
  status: string;
  taskDefinitionArn?: string;
  previousTaskDefinitionArn?: string;
}): string {
  const from = shortTaskDefinition(x.previousTaskDefinitionArn);
  const to = shortTaskDefinition(x.taskDefinitionArn);
  if (x.status === 'dry-run') return `${from} → (not registered)`;
  if (x.status === 'registered') return `${to} registered; runs ${from}`;
  if (!x.taskDefinitionArn || x.taskDefinitionArn === x.previousTaskDefinitionArn) return from;
  if (x.status === 'rolled-back') return `${from} → ${to} → back on ${from}`;
  return `${from} → ${to}`;
}

async function writeSummary(
  inputs: Inputs,
  names: string[],
  r: Pick<ReleaseResult, 'reason' | 'services' | 'failedService' | 'durationMs'> & {
    verdict: [kind: 'success' | 'failure' | 'warning' | 'neutral', word: string];
  },
  githubDeploymentId?: number,
): Promise<void> {
  const [kind, word] = r.verdict;
  const s = new SummaryBuilder(`ECS release of ${names.join(', ')}`);
  s.verdict(kind, word);
  s.text(markdownSafe(r.reason));
  s.table(
    ['Service', 'Status', 'Revision', 'Reason'],
    r.services.map((x) => [x.service, `\`${x.status}\``, revisionCell(x), markdownSafe(x.reason)]),
  );
  s.facts([
    ['Cluster', inputs.cluster ?? 'default'],
    ['Failed service', r.failedService],
    [
      'GitHub deployment',
      githubDeploymentId ? `${inputs.environmentName} (#${githubDeploymentId})` : undefined,
    ],
    ['Duration', formatDuration(r.durationMs)],
  ]);
  await s.write();
}

/** Runs a release of several services: validate all, register, update, follow together, roll back together. */
export async function runRelease(
  inputs: Inputs & { release: ReleaseInputs },
  deps: { ecs?: EcsApi; github?: GitHubDeployments; clock?: Clock },
  signal: AbortSignal,
  provenance: { gitSha?: string; workflowRun?: string },
): Promise<void> {
  const { deployRelease } = await import('../../../packages/ecs/src/release/release');
  const { meteredActionEcsApi, deregistrationDelayReader } =
    await import('../../../packages/ecs/src/client');
  const names = inputs.release.services.map((s) => s.service);
  // Following is batched (one look for up to 10 services), but each service is described,
  // registered and updated once at the start: 3 calls more a minute for each service beyond one.
  const api = await meteredActionEcsApi(deps.ecs, signal, deps.clock, 30 + 3 * (names.length - 1));
  const record = new GitHubDeploymentRecord(deps.github, inputs.environmentUrl);
  const beforeChange = async (): Promise<void> => {
    if (!inputs.environmentName) return;
    if (!record.github) {
      const { GitHubDeployments } = await import('../../../packages/kit/src/github-deployments');
      record.github = new GitHubDeployments(inputs.githubToken ?? '');
    }
    const githubId = await record.github.create(
      {
        environment: inputs.environmentName,
        description: `Release ${names.join(', ')}`.slice(0, 140),
        payload: { services: names, cluster: inputs.cluster ?? 'default' },
      },
      signal,
    );
    record.id = githubId;
    core.setOutput('github-deployment-id', String(githubId));
    core.info(`Recorded GitHub deployment ${githubId} for environment ${inputs.environmentName}.`);
    await record.mark('in_progress', `Releasing ${names.join(', ')}`.slice(0, 140));
  };
  let result: ReleaseResult;
  try {
    result = await deployRelease({
      api,
      cluster: inputs.cluster,
      services: inputs.release.services,
      images: inputs.release.images,
      environment: inputs.release.environment,
      strategy: inputs.strategy,
      bakeTimeMinutes: inputs.bakeTimeMinutes,
      desiredCount: inputs.desiredCount,
      // `test-traffic` is refused for a release when inputs are read.
      waitUntil: inputs.waitUntil === 'test-traffic' ? 'stable' : inputs.waitUntil,
      timeoutMs: inputs.timeoutMs,
      dryRun: inputs.dryRun,
      deploy: inputs.deploy,
      provenance,
      log: runnerLog,
      signal,
      clock: deps.clock,
      deregistrationDelayMs: deregistrationDelayReader(),
      beforeChange,
    });
  } catch (error) {
    await record.markThrown(error, 'Cancelled while releasing');
    if (error instanceof ReleaseCancelledError) {
      // What the cancel left, for a later step (`if: cancelled()`) and for the reader.
      core.setOutput('services', servicesOutput(error.services));
      await writeSummary(
        inputs,
        names,
        {
          verdict: ['warning', 'cancelled'],
          reason: `Cancelled: ${error.message}`,
          services: error.services,
          durationMs: error.durationMs,
        },
        record.id,
      );
    }
    throw phrased(error, inputs.cluster);
  }
  if (signal.aborted) {
    await record.markThrown(signal.reason, 'Cancelled while releasing');
    throw signal.reason;
  }
  core.setOutput('services', servicesOutput(result.services));
  core.setOutput('status', result.status);
  core.setOutput('reason', result.reason);
  // One revision per service: the single-service outputs stay empty (read `services`).
  core.setOutput('task-definition-arn', '');
  core.setOutput('previous-task-definition-arn', '');
  const description = result.reason.slice(0, 140);
  if (result.status === 'succeeded') await record.mark('success', description);
  else if (result.status === 'in-progress')
    core.info('GitHub deployment left in_progress: the rollouts were not awaited.');
  else if (result.status === 'unknown') await record.mark('error', description);
  else if (['failed', 'rolled-back', 'timed-out'].includes(result.status))
    await record.mark('failure', description);
  await writeSummary(inputs, names, { ...result, verdict: VERDICT[result.status] }, record.id);
  if (['failed', 'rolled-back', 'timed-out', 'unknown'].includes(result.status))
    throw new ActionFailure(result.reason);
  core.info(logSafe(result.reason));
}
