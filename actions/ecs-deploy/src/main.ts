import * as core from '../../../packages/kit/src/core';
import { ActionFailure, CancelledError } from '../../../packages/kit/src/errors';
import { formatDuration } from '../../../packages/kit/src/duration';
import { logSafe, markdownSafe } from '../../../packages/kit/src/log-text';
import { runAction } from '../../../packages/kit/src/run';
import { setStepTimeout } from '../../../packages/kit/src/run-signal';
import { SummaryBuilder } from '../../../packages/kit/src/summary';
import type { Clock } from '../../../packages/kit/src/poll';
import type { GitHubDeployments } from '../../../packages/kit/src/github-deployments';
import type { EcsApi } from '../../../packages/ecs/src/api';
import type { DeployResult } from '../../../packages/ecs/src/deploy';
import type { CodeDeployRollbackApi } from '../../../packages/ecs/src/codedeploy/api';
import { getInputs, phrased, type Inputs } from './inputs';
import { servicesOutput } from './services-output';
import { GitHubDeploymentRecord } from '../../../packages/kit/src/deployment-record';
import { runnerLog } from '../../../packages/kit/src/step-log';
import {
  addServiceSections,
  ecsResourceName,
  serviceLabel,
} from '../../../packages/ecs/src/summary-sections';
import { shortTaskDefinition } from '../../../packages/ecs/src/task-definition';

/** What tests or other callers may inject instead of the real clients. */
export interface Deps {
  ecs?: EcsApi;
  codeDeploy?: CodeDeployRollbackApi;
  github?: GitHubDeployments;
  clock?: Clock;
}

function workflowRun(): string | undefined {
  const { GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: id, GITHUB_RUN_ATTEMPT: attempt } = process.env;
  if (!repo || !id) return undefined;
  return `${repo}/actions/runs/${id}${attempt && attempt !== '1' ? `/attempts/${attempt}` : ''}`;
}

const VERDICT: Record<
  DeployResult['status'],
  ['success' | 'failure' | 'warning' | 'neutral', string]
> = {
  succeeded: ['success', 'deployed'],
  unchanged: ['neutral', 'unchanged'],
  'dry-run': ['neutral', 'dry run'],
  registered: ['success', 'registered, not deployed'],
  'in-progress': ['neutral', 'deployment started'],
  ready: ['neutral', 'green on the test listener'],
  failed: ['failure', 'failed'],
  'rolled-back': ['failure', 'rolled back'],
  'timed-out': ['failure', 'timed out'],
  unknown: ['warning', 'outcome unknown'],
};

async function writeSummary(
  inputs: Inputs,
  r: DeployResult,
  githubDeploymentId?: number,
): Promise<void> {
  const { describeChange, shortTaskDefinition } =
    await import('../../../packages/ecs/src/task-definition');
  const [kind, word] = VERDICT[r.status];
  const s = new SummaryBuilder(`ECS deploy of ${ecsResourceName(inputs.service)}`);
  s.verdict(kind, word);
  s.text(markdownSafe(r.reason));
  s.facts([
    ['Service', serviceLabel(inputs.cluster, inputs.service)],
    [
      'Revision',
      `${shortTaskDefinition(r.previousTaskDefinitionArn)} → ${r.status === 'dry-run' ? '(not registered)' : shortTaskDefinition(r.taskDefinitionArn)}`,
    ],
    ['Strategy', inputs.strategy ?? undefined],
    ['Desired count', r.desiredCount ? `${r.desiredCount.from} → ${r.desiredCount.to}` : undefined],
    ['Status', `\`${r.status}\``],
    ['Service deployment', r.serviceDeploymentArn],
    [
      'CodeDeploy deployment',
      r.codeDeploy?.deploymentId
        ? `[${r.codeDeploy.deploymentId}](${r.codeDeploy.consoleUrl}) (${markdownSafe(r.codeDeploy.application)} / ${markdownSafe(r.codeDeploy.deploymentGroup)}${r.codeDeploy.config ? `, ${markdownSafe(r.codeDeploy.config)}` : ''})`
        : undefined,
    ],
    ['CodeDeploy status', r.codeDeploy?.status],
    ['CodeDeploy error', r.codeDeploy?.error ? markdownSafe(r.codeDeploy.error) : undefined],
    [
      'Production traffic on green',
      r.codeDeploy?.greenPercent !== undefined ? `${r.codeDeploy.greenPercent}%` : undefined,
    ],
    [
      'GitHub deployment',
      githubDeploymentId ? `${inputs.environmentName} (#${githubDeploymentId})` : undefined,
    ],
    ['Duration', formatDuration(r.durationMs)],
  ]);
  s.heading('Changes from the previous revision');
  if (r.changes.length) s.list(r.changes.map(describeChange));
  else s.text('No change to the task definition.');
  if (r.unknownFields.length) {
    s.text(
      `⚠️ Not sent (unknown to the bundled AWS SDK): ${r.unknownFields.map((f) => `\`${f}\``).join(', ')}`,
    );
  }
  if (r.status === 'dry-run' && r.plannedCalls.length) {
    s.heading('Would call');
    s.list(r.plannedCalls.map((c) => `\`${c}\``));
  }
  if (r.codeDeploy?.lifecycleEvents.length) {
    s.heading('CodeDeploy lifecycle events');
    s.table(
      ['Event', 'Status', 'Duration', 'Diagnostics'],
      r.codeDeploy.lifecycleEvents.map((e) => [
        e.name,
        e.status,
        e.durationMs !== undefined ? formatDuration(e.durationMs) : '–',
        e.message ? markdownSafe(e.message) : '',
      ]),
    );
  }
  if (r.status === 'dry-run' && r.codeDeploy) {
    s.heading('AppSpec it would send');
    s.details('AppSpec', r.codeDeploy.appSpec, true);
  }
  if (r.timeline.length) {
    s.heading('Timeline');
    s.table(
      ['Stage', 'Started', 'Duration'],
      r.timeline.map((t) => [
        t.stage,
        `+${formatDuration(t.startedAt - r.startedAt)}`,
        t.endedAt ? formatDuration(t.endedAt - t.startedAt) : '–',
      ]),
    );
  }
  addServiceSections(s, r);
  await s.write();
}

/**
 * Says what a cancel left: a deployment started goes on in ECS, unfollowed (a log line, and the
 * `services` output says so); else that the service was not updated.
 */
function reportCancel(service: string, facts: Record<string, string>): void {
  const to = facts['task-definition-arn'];
  const from = facts['previous-task-definition-arn'];
  const started = !!(facts['service-deployment-arn'] || facts['codedeploy-deployment-id']);
  if (!started || !to || to === from) {
    core.info(
      `Cancelled before ${service} was updated: it stays on ${from ? shortTaskDefinition(from) : 'the revision it ran'}.`,
    );
    return;
  }
  const reason = `The deployment of ${shortTaskDefinition(to)} to ${service} (from ${shortTaskDefinition(from)}) goes on in ECS, no longer followed and not rolled back.`;
  core.warning(`Cancelled: ${reason}`);
  core.setOutput(
    'services',
    servicesOutput([
      {
        service,
        status: 'in-progress',
        taskDefinitionArn: to,
        previousTaskDefinitionArn: from,
        reason,
      },
    ]),
  );
}

/** Runs ecs-deploy: validate, render, register, update, follow, report. */
export async function run(deps: Deps = {}): Promise<void> {
  await runAction(async ({ signal }) => {
    const inputs = getInputs();
    if (inputs.release) {
      // Following, then rolling the changed services back: each may take `timeout`.
      setStepTimeout(2 * inputs.timeoutMs);
      const { runRelease } = await import('./release');
      const provenance = {
        gitSha: process.env.GITHUB_SHA || undefined,
        workflowRun: workflowRun(),
      };
      return runRelease({ ...inputs, release: inputs.release }, deps, signal, provenance);
    }
    setStepTimeout(inputs.timeoutMs);
    const { deploy } = await import('../../../packages/ecs/src/deploy');
    const { meteredActionEcsApi, deregistrationDelayReader } =
      await import('../../../packages/ecs/src/client');
    const { lazyCodeDeployApi } = await import('../../../packages/ecs/src/codedeploy/lazy-api');
    const api = await meteredActionEcsApi(deps.ecs, signal, deps.clock);
    const record = new GitHubDeploymentRecord(deps.github, inputs.environmentUrl);
    const codeDeploy = {
      api: lazyCodeDeployApi(deps.codeDeploy),
      application: inputs.codeDeploy.application,
      deploymentGroup: inputs.codeDeploy.deploymentGroup,
      config: inputs.codeDeploy.config,
      appSpec: inputs.codeDeploy.appSpec
        ? { source: inputs.codeDeploy.appSpec.path, json: inputs.codeDeploy.appSpec.json }
        : undefined,
      region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION,
      githubDeploymentId: () => record.id,
    };
    /** The GitHub Deployments client, built on first need. */
    const github = async (): Promise<GitHubDeployments> => {
      if (!record.github) {
        const { GitHubDeployments } = await import('../../../packages/kit/src/github-deployments');
        record.github = new GitHubDeployments(inputs.githubToken ?? '');
      }
      return record.github;
    };
    const beforeChange = async (): Promise<void> => {
      if (!inputs.environmentName) return;
      const githubId = await (
        await github()
      ).create(
        {
          environment: inputs.environmentName,
          description: `Deploy ${inputs.service}`,
          payload: { service: inputs.service, cluster: inputs.cluster ?? 'default' },
        },
        signal,
      );
      record.id = githubId;
      core.setOutput('github-deployment-id', String(githubId));
      core.info(
        `Recorded GitHub deployment ${githubId} for environment ${inputs.environmentName}.`,
      );
      await record.mark('in_progress', `Deploying ${inputs.service}`);
    };
    let result: DeployResult;
    // What the deploy made known as it went (its outputs), to say what a cancel left.
    const facts: Record<string, string> = {};
    try {
      if (inputs.continueDeployment !== undefined) {
        const { continueCodeDeployment } =
          await import('../../../packages/ecs/src/codedeploy/continue');
        result = await continueCodeDeployment({
          cd: codeDeploy,
          ecs: api,
          cluster: inputs.cluster,
          service: inputs.service,
          deploymentId: inputs.continueDeployment,
          // `test-traffic` is refused with `continue-deployment` when inputs are read.
          waitUntil: inputs.waitUntil === 'test-traffic' ? 'stable' : inputs.waitUntil,
          timeoutMs: inputs.timeoutMs,
          log: runnerLog,
          signal,
          clock: deps.clock,
          // Finish the GitHub Deployment the step that created the deployment recorded.
          beforeChange: async (githubId) => {
            if (!inputs.environmentName) return;
            if (githubId === undefined) {
              core.info(
                `CodeDeploy deployment ${inputs.continueDeployment} names no GitHub deployment: recording a new one.`,
              );
              return beforeChange();
            }
            await github();
            record.id = githubId;
            core.setOutput('github-deployment-id', String(githubId));
            core.info(`Finishing GitHub deployment ${githubId}, recorded when it was created.`);
            await record.mark('in_progress', `Moving production traffic of ${inputs.service}`);
          },
        });
      } else {
        result = await deploy({
          api,
          cluster: inputs.cluster,
          service: inputs.service,
          source: inputs.taskDefinition,
          images: inputs.images,
          environment: inputs.environment,
          strategy: inputs.strategy,
          bakeTimeMinutes: inputs.bakeTimeMinutes,
          desiredCount: inputs.desiredCount,
          waitUntil: inputs.waitUntil,
          timeoutMs: inputs.timeoutMs,
          dryRun: inputs.dryRun,
          deploy: inputs.deploy,
          codeDeploy,
          provenance: { gitSha: process.env.GITHUB_SHA || undefined, workflowRun: workflowRun() },
          log: runnerLog,
          signal,
          deregistrationDelayMs: deregistrationDelayReader(),
          clock: deps.clock,
          onFact: (name, value) => {
            facts[name] = value;
            core.setOutput(name, value);
          },
          beforeChange,
        });
      }
    } catch (error) {
      await record.markThrown(error, 'Cancelled while deploying');
      if (error instanceof CancelledError && inputs.continueDeployment === undefined)
        reportCancel(inputs.service, facts);
      throw phrased(error, inputs.cluster);
    }
    // A cancel that came while the last answer was read wins: never `succeeded` after SIGTERM.
    if (signal.aborted) {
      await record.markThrown(signal.reason, 'Cancelled while deploying');
      throw signal.reason;
    }
    if (inputs.continueDeployment !== undefined) {
      core.setOutput('codedeploy-deployment-id', inputs.continueDeployment);
      if (result.taskDefinitionArn) core.setOutput('task-definition-arn', result.taskDefinitionArn);
    }
    core.setOutput('status', result.status);
    core.setOutput('reason', result.reason);
    core.setOutput(
      'services',
      servicesOutput([
        {
          service: inputs.service,
          status: result.status,
          taskDefinitionArn: result.taskDefinitionArn,
          previousTaskDefinitionArn: result.previousTaskDefinitionArn,
          reason: result.reason,
        },
      ]),
    );
    if (result.status === 'succeeded') await record.mark('success', result.reason);
    else if (result.status === 'registered' || result.status === 'dry-run')
      core.debug(`No GitHub deployment recorded: ${result.status}.`);
    else if (result.status === 'in-progress')
      core.info('GitHub deployment left in_progress: the rollout was not awaited.');
    else if (result.status === 'ready')
      core.info('GitHub deployment left in_progress: the deployment waits for a go-ahead.');
    else if (result.status === 'unknown') await record.mark('error', result.reason);
    else await record.mark('failure', result.reason);
    await writeSummary(inputs, result, record.id);
    if (['failed', 'rolled-back', 'timed-out', 'unknown'].includes(result.status))
      throw new ActionFailure(result.reason);
    core.info(logSafe(result.reason));
  });
}
