import * as core from '../../../packages/kit/src/core';
import { ActionFailure, CancelledError, errorMessage } from '../../../packages/kit/src/errors';
import { formatDuration } from '../../../packages/kit/src/duration';
import { runAction } from '../../../packages/kit/src/run';
import { SummaryBuilder } from '../../../packages/kit/src/summary';
import type { Clock } from '../../../packages/kit/src/poll';
import type {
  DeploymentState,
  GitHubDeployments,
} from '../../../packages/kit/src/github-deployments';
import type { EcsApi } from '../../../packages/ecs/src/api';
import type { RollbackResult } from '../../../packages/ecs/src/rollback';
import type { DeployLog } from '../../../packages/ecs/src/deploy';
import { getInputs, type Inputs } from './inputs';

/** What tests or other callers may inject instead of the real clients. */
export interface Deps {
  ecs?: EcsApi;
  github?: GitHubDeployments;
  clock?: Clock;
}

const coreLog: DeployLog = {
  info: (m) => core.info(m),
  debug: (m) => core.debug(m),
  warning: (m) => core.warning(m),
  group: (name, fn) => core.group(name, fn),
};

async function realEcsApi(): Promise<EcsApi> {
  const [{ ECSClient }, kitAws, { createEcsApi }] = await Promise.all([
    import('@aws-sdk/client-ecs'),
    import('../../../packages/kit/src/aws'),
    import('../../../packages/ecs/src/api'),
  ]);
  return createEcsApi(
    kitAws.withErrorContext(new ECSClient(kitAws.awsClientConfig(kitAws.resolveRegion())), 'ECS'),
  );
}

async function writeSummary(inputs: Inputs, r: RollbackResult, githubId?: number): Promise<void> {
  const { shortTaskDefinition } = await import('../../../packages/ecs/src/task-definition');
  const { describeStoppedTask } = await import('../../../packages/ecs/src/stopped-tasks');
  const verdicts: Record<RollbackResult['status'], ['success' | 'failure' | 'neutral', string]> = {
    succeeded: ['success', 'rolled back'],
    unchanged: ['neutral', 'nothing to roll back'],
    'in-progress': ['neutral', 'rollback started'],
    failed: ['failure', 'rollback failed'],
    'timed-out': ['failure', 'rollback timed out'],
  };
  const [kind, word] = verdicts[r.status];
  const s = new SummaryBuilder(`Rollback of ${inputs.service}`);
  s.verdict(kind, word);
  s.text(r.message);
  s.facts([
    ['Service', `${inputs.cluster ? `${inputs.cluster}/` : ''}${inputs.service}`],
    ['From', shortTaskDefinition(r.from)],
    ['To', shortTaskDefinition(r.to)],
    ['Method', r.method ? `\`${r.method}\`` : undefined],
    ['Reason', inputs.reason],
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
  if (r.stoppedTasks.length) {
    s.heading('Stopped tasks');
    s.list(r.stoppedTasks.map(describeStoppedTask));
  }
  if (r.events.length) {
    s.details(
      `Service events (${r.events.length})`,
      r.events.map((e) => `${e.createdAt?.toISOString() ?? ''} ${e.message ?? ''}`).join('\n'),
      true,
    );
  }
  await s.write();
}

/** Runs rollback: validate, resolve, stop or update, follow, report. */
export async function run(deps: Deps = {}): Promise<void> {
  await runAction(async ({ signal }) => {
    const inputs = getInputs();
    const { rollback } = await import('../../../packages/ecs/src/rollback');
    const { meteredEcsApi, newCallCounter } = await import('../../../packages/ecs/src/api');
    const { sleep } = await import('../../../packages/kit/src/poll');
    // At most 30 ECS calls in any minute, whatever the rollout does: the account's API budget is shared.
    const api = meteredEcsApi(deps.ecs ?? (await realEcsApi()), newCallCounter(), {
      maxPerMinute: 30,
      sleep,
      signal,
    });
    let github = deps.github;
    if (inputs.environmentName && !github) {
      const { GitHubDeployments } = await import('../../../packages/kit/src/github-deployments');
      github = new GitHubDeployments(inputs.githubToken ?? '');
    }
    let githubId: number | undefined;
    const mark = async (state: DeploymentState, description: string): Promise<void> => {
      if (!github || githubId === undefined) return;
      try {
        await github.setStatus(githubId, state, { description });
      } catch (error) {
        core.warning(`Could not record GitHub deployment status ${state}: ${errorMessage(error)}`);
      }
    };
    if (inputs.reason) core.info(`Reason: ${inputs.reason}`);
    let result: RollbackResult;
    try {
      result = await rollback({
        api,
        cluster: inputs.cluster,
        service: inputs.service,
        to: inputs.to,
        reason: inputs.reason,
        waitUntil: inputs.waitUntil,
        timeoutMs: inputs.timeoutMs,
        log: coreLog,
        signal,
        clock: deps.clock,
        onFact: (name, value) => core.setOutput(name, value),
        onStarted: async ({ targetGitSha }) => {
          if (!github || !inputs.environmentName) return;
          try {
            githubId = await github.create({
              environment: inputs.environmentName,
              ref: targetGitSha,
              task: 'deploy:rollback',
              description: `Rollback of ${inputs.service}${inputs.reason ? `: ${inputs.reason}` : ''}`,
              payload: {
                service: inputs.service,
                cluster: inputs.cluster ?? 'default',
                rollback: true,
              },
            });
            core.info(
              `Recorded GitHub deployment ${githubId} for environment ${inputs.environmentName}.`,
            );
            await mark('in_progress', `Rolling back ${inputs.service}`);
          } catch (error) {
            core.warning(`Could not record a GitHub deployment: ${errorMessage(error)}`);
          }
        },
      });
    } catch (error) {
      if (error instanceof CancelledError) await mark('error', 'Cancelled while rolling back');
      else await mark('failure', errorMessage(error).slice(0, 140));
      throw error;
    }
    core.setOutput('status', result.status);
    if (result.status === 'succeeded') await mark('success', result.message);
    else if (result.status !== 'in-progress') await mark('failure', result.message);
    await writeSummary(inputs, result, githubId);
    if (result.status === 'failed' || result.status === 'timed-out')
      throw new ActionFailure(result.message);
    core.info(result.message);
  });
}
