// Rolling back a blue/green, linear or canary deployment still in progress or baking: stop it
// with ROLLBACK, so production traffic returns to the revision it started from at once.
import type { ServiceDeployment } from '@aws-sdk/client-ecs';
import { formatDuration } from '../../kit/src/duration';
import { errorMessage } from '../../kit/src/errors';
import { logSafe, parenthetical } from '../../kit/src/log-text';
import type { Clock } from '../../kit/src/poll';
import { followAndExplain, unreadableSentence } from './follow';
import { taskDefinitionOfRevisions, type RevisionCache } from './history';
import type { RollbackOptions, RollbackResult, RollbackStatus } from './rollback';
import type { RolloutState } from './rollout';
import { shortTaskDefinition, TAGS, tagValue } from './task-definition';

/**
 * Stops an in-progress blue/green (linear, canary) deployment with ROLLBACK and follows it until
 * production traffic is back on the revision it started from (or the rollback ends).
 */
export async function stopDeployment(
  opts: RollbackOptions,
  active: ServiceDeployment,
  serviceTaskDefinition: string | undefined,
  startedAt: number,
  deadline: number,
  clock: Clock,
  cache: RevisionCache,
): Promise<RollbackResult> {
  const { api, log } = opts;
  const revisions = await taskDefinitionOfRevisions(api, [
    active.targetServiceRevision?.arn ?? '',
    ...(active.sourceServiceRevisions ?? []).map((s) => s.arn ?? ''),
  ]);
  const from = revisions.get(active.targetServiceRevision?.arn ?? '') ?? serviceTaskDefinition;
  const to = revisions.get(active.sourceServiceRevisions?.[0]?.arn ?? '');
  if (from) opts.onFact?.('from-task-definition-arn', from);
  if (to) opts.onFact?.('to-task-definition-arn', to);
  opts.onFact?.('method', 'stop-deployment');
  const targetGitSha = to ? tagValue((await cache.get(to)).tags, TAGS.gitSha) : undefined;
  log.info(
    `Stopping ${active.deploymentConfiguration?.strategy ?? ''} deployment ${active.serviceDeploymentArn?.split('/').pop()} (${active.status}${
      active.lifecycleStage ? ` at ${active.lifecycleStage}` : ''
    }) with ROLLBACK: production traffic returns to ${shortTaskDefinition(to)}.`,
  );
  await api.stopServiceDeployment({
    serviceDeploymentArn: active.serviceDeploymentArn,
    stopType: 'ROLLBACK',
  });
  if (from) {
    try {
      await api.tagResource({
        resourceArn: from,
        tags: [
          { key: TAGS.rolledBackAt, value: new Date(clock.now()).toISOString() },
          ...(to ? [{ key: TAGS.rolledBackTo, value: shortTaskDefinition(to) }] : []),
        ],
      });
    } catch (error) {
      log.debug(`Could not tag ${from} as rolled back: ${logSafe(errorMessage(error))}`);
    }
  }
  await opts.onStarted?.({ targetGitSha });
  const base = {
    method: 'stop-deployment' as const,
    from,
    to,
    targetGitSha,
    serviceDeploymentArn: active.serviceDeploymentArn,
  };
  if (opts.waitUntil === 'none') {
    return {
      ...base,
      status: 'in-progress',
      reason: `Requested the rollback of deployment ${active.serviceDeploymentArn}; not waiting for it.`,
      timeline: [],
      events: [],
      stoppedTasks: [],
      durationMs: clock.now() - startedAt,
    };
  }
  const trafficBack = (s: RolloutState): boolean =>
    s.final ||
    (opts.waitUntil === 'traffic-shifted' &&
      s.status === 'ROLLBACK_IN_PROGRESS' &&
      (s.stage === undefined ||
        !['PRODUCTION_TRAFFIC_SHIFT', 'PRE_SCALE_UP', 'SCALE_UP'].includes(s.stage)));
  const followed = await followAndExplain(
    {
      api,
      cluster: opts.cluster,
      service: opts.service,
      serviceDeploymentArn: active.serviceDeploymentArn,
      strategy: active.deploymentConfiguration?.strategy ?? 'BLUE_GREEN',
      taskDefinitionArn: from ?? '',
      waitUntil: 'stable',
      satisfied: trafficBack,
      deadline,
      startedAt,
      log,
      signal: opts.signal,
      clock,
      fastChecks: 20,
      fastIntervalMs: 500,
      intervalMs: opts.intervalMs,
    },
    'Following the rollback',
  );
  const phase = followed.state.phase;
  const ok =
    phase === 'rolled-back' ||
    (opts.waitUntil === 'traffic-shifted' && followed.state.status === 'ROLLBACK_IN_PROGRESS');
  const status: RollbackStatus = followed.unreadable
    ? 'unknown'
    : followed.timedOut
      ? 'timed-out'
      : ok
        ? 'succeeded'
        : 'failed';
  const reason =
    status === 'unknown'
      ? unreadableSentence(`the rollback of ${shortTaskDefinition(from)}`, followed)
      : status === 'succeeded'
        ? `Stopped the deployment of ${shortTaskDefinition(from)}: production traffic is back on ${shortTaskDefinition(to)}${parenthetical(opts.reason)}.`
        : status === 'timed-out'
          ? `Timed out after ${formatDuration(opts.timeoutMs)} waiting for the rollback of ${shortTaskDefinition(from)}: the deployment is ${followed.state.status}${followed.state.stage ? ` at ${followed.state.stage}` : ''}.`
          : `Rolling back the deployment of ${shortTaskDefinition(from)} ended ${followed.state.status}${parenthetical(followed.state.reason)}.`;
  return {
    ...base,
    status,
    reason,
    timeline: followed.timeline,
    events: followed.events,
    stoppedTasks: [],
    state: followed.state,
    durationMs: clock.now() - startedAt,
  };
}
