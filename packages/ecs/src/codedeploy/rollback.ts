// Rolling back a service deployed by CodeDeploy: stop the deployment under way with automatic
// rollback (production traffic returns to blue), or, when none is, deploy the chosen revision
// through a CodeDeploy deployment of its own.
import type { DeploymentInfo } from '@aws-sdk/client-codedeploy';
import type { Service } from '@aws-sdk/client-ecs';
import { ActionFailure, errorMessage } from '../../../kit/src/errors';
import { formatDuration } from '../../../kit/src/duration';
import { logSafe, parenthetical } from '../../../kit/src/log-text';
import type { Clock } from '../../../kit/src/poll';
import { followAndExplain, unreadableSentence } from '../follow';
import type { RevisionCache } from '../history';
import { namesRevision, resolveTarget } from '../resolve-target';
import type {
  PreparedRollback,
  RollbackOptions,
  RollbackResult,
  RollbackStatus,
} from '../rollback';
import type { RolloutState } from '../rollout';
import { shortTaskDefinition, TAGS, tagValue } from '../task-definition';
import type { CodeDeployRollbackApi } from './api';
import {
  IN_FLIGHT_STATUSES,
  getDeployments,
  listGroupDeployments,
  loadCodeDeployHistory,
  taskDefinitionOfAppSpec,
  appSpecContentOf,
} from './history';
import { consoleUrl, prepareCodeDeploy, startAndFollow, type PreparedCodeDeploy } from './rollout';
import {
  codeDeployStatusReader,
  errorText,
  greenTrafficPercent,
  type EndedLifecycleEvent,
} from './status-reader';

/** How a service with the CODE_DEPLOY controller is rolled back (its client and names). */
export interface CodeDeployRollbackOptions {
  api: CodeDeployRollbackApi;
  /** Default `AppECS-<cluster>-<service>`. */
  application?: string;
  /** Default `DgpECS-<cluster>-<service>`. */
  deploymentGroup?: string;
  /** The region, for the console link. */
  region?: string;
}

/** What the CodeDeploy side of a rollback did. */
export interface CodeDeployRollbackFacts {
  application: string;
  deploymentGroup: string;
  /** The deployment under way that rollback stopped. */
  stoppedDeploymentId?: string;
  /** The deployment that moved production back: CodeDeploy's rollback deployment, or rollback's own. */
  deploymentId?: string;
  consoleUrl?: string;
  lifecycleEvents: EndedLifecycleEvent[];
  /** CodeDeploy's status of that deployment when following ended. */
  status?: string;
}

/** Where the rollback stands when it starts. */
export interface CodeDeployRollbackContext {
  service: Service;
  current: string;
  startedAt: number;
  deadline: number;
  clock: Clock;
  cache: RevisionCache;
}

function requireCodeDeploy(opts: RollbackOptions): CodeDeployRollbackOptions {
  if (!opts.codeDeploy)
    throw new ActionFailure(
      'The service is deployed by CodeDeploy, and no CodeDeploy client was given.',
    );
  return opts.codeDeploy;
}

/**
 * Prepares the rollback of a service whose deployment controller is CODE_DEPLOY. The application and
 * deployment group are read first (an unknown one fails before anything changes). A deployment
 * of the group under way (Created, Queued, InProgress, Ready) is stopped with automatic rollback
 * when `to` is `previous` or names the revision it started from; otherwise the target is resolved
 * against the group's deployment history and deployed through a CodeDeploy deployment.
 */
export async function prepareCodeDeployRollback(
  opts: RollbackOptions,
  ctx: CodeDeployRollbackContext,
): Promise<PreparedRollback> {
  const cd = requireCodeDeploy(opts);
  const prepared = await opts.log.group('Reading the CodeDeploy deployment group', () =>
    prepareCodeDeploy(
      {
        api: cd.api,
        application: cd.application,
        deploymentGroup: cd.deploymentGroup,
        region: cd.region,
      },
      ctx.service,
      {
        testTraffic: false,
        log: opts.log,
      },
    ),
  );
  const { application, deploymentGroup } = prepared.target;
  const inFlightIds = await listGroupDeployments(cd.api, application, deploymentGroup, {
    statuses: IN_FLIGHT_STATUSES,
  });
  const inFlight = (await getDeployments(cd.api, inFlightIds))[0];
  if (inFlight) return prepareStop(opts, cd, prepared, inFlight, ctx);
  return prepareDeploy(opts, cd, prepared, ctx);
}

/** Blue and green of a deployment under way: from its ECS target's task sets and its AppSpec. */
async function revisionsOf(
  cd: CodeDeployRollbackOptions,
  prepared: PreparedCodeDeploy,
  d: DeploymentInfo,
  service: Service,
): Promise<{ blue?: string; green?: string }> {
  const green = taskDefinitionOfAppSpec(await appSpecContentOf(cd.api, d));
  let blueSetId: string | undefined;
  try {
    const target = (
      await cd.api.getDeploymentTarget({
        deploymentId: d.deploymentId,
        targetId: prepared.targetId,
      })
    ).deploymentTarget?.ecsTarget;
    blueSetId = target?.taskSetsInfo?.find((t) => t.taskSetLabel === 'Blue')?.identifer;
  } catch {
    blueSetId = undefined;
  }
  const sets = service.taskSets ?? [];
  const blue =
    sets.find((t) => blueSetId && t.id === blueSetId)?.taskDefinition ??
    sets.find((t) => t.status === 'PRIMARY' && t.taskDefinition !== green)?.taskDefinition;
  return { blue, green };
}

async function prepareStop(
  opts: RollbackOptions,
  cd: CodeDeployRollbackOptions,
  prepared: PreparedCodeDeploy,
  d: DeploymentInfo,
  ctx: CodeDeployRollbackContext,
): Promise<PreparedRollback> {
  const id = d.deploymentId ?? '';
  const { blue, green } = await revisionsOf(cd, prepared, d, ctx.service);
  if (opts.to.kind !== 'previous' && !(blue && (await namesRevision(opts, blue, ctx.cache)))) {
    throw new ActionFailure(
      `CodeDeploy deployment ${id}${green ? ` of ${shortTaskDefinition(green)}` : ''} (${d.status}) is still in progress on ${opts.service}, and \`${opts.to.value}\` is not the revision it started from${
        blue ? ` (${shortTaskDefinition(blue)})` : ''
      }. Nothing was changed: roll back to the previous revision to stop it and return traffic to blue at once, or wait until it ends.`,
    );
  }
  const from = green ?? ctx.current;
  return {
    service: opts.service,
    method: 'stop-deployment',
    from,
    to: blue,
    start: () => stopInFlight(opts, cd, prepared, { d, from, blue, green }, ctx),
  };
}

async function stopInFlight(
  opts: RollbackOptions,
  cd: CodeDeployRollbackOptions,
  prepared: PreparedCodeDeploy,
  stop: { d: DeploymentInfo; from: string; blue?: string; green?: string },
  ctx: CodeDeployRollbackContext,
): Promise<RollbackResult> {
  const { log } = opts;
  const { clock, startedAt } = ctx;
  const { d, from, blue, green } = stop;
  const id = d.deploymentId ?? '';
  opts.onFact?.('from-task-definition-arn', from);
  if (blue) opts.onFact?.('to-task-definition-arn', blue);
  opts.onFact?.('method', 'stop-deployment');
  const targetGitSha = blue ? tagValue((await ctx.cache.get(blue)).tags, TAGS.gitSha) : undefined;
  log.info(
    `Stopping CodeDeploy deployment ${id}${green ? ` of ${shortTaskDefinition(green)}` : ''} (${d.status}) with automatic rollback: production traffic returns to blue${
      blue ? ` (${shortTaskDefinition(blue)})` : ''
    }.`,
  );
  await cd.api.stopDeployment({ deploymentId: id, autoRollbackEnabled: true });
  if (green && blue) {
    try {
      await opts.api.tagResource({
        resourceArn: green,
        tags: [
          { key: TAGS.rolledBackAt, value: new Date(clock.now()).toISOString() },
          { key: TAGS.rolledBackTo, value: shortTaskDefinition(blue) },
        ],
      });
    } catch (error) {
      log.debug(`Could not tag ${green} as rolled back: ${logSafe(errorMessage(error))}`);
    }
  }
  await opts.onStarted?.({ targetGitSha });
  const facts: CodeDeployRollbackFacts = {
    application: prepared.target.application,
    deploymentGroup: prepared.target.deploymentGroup,
    stoppedDeploymentId: id,
    lifecycleEvents: [],
  };
  const base = {
    method: 'stop-deployment' as const,
    from,
    to: blue,
    targetGitSha,
    codeDeploy: facts,
  };
  if (opts.waitUntil === 'none') {
    return {
      ...base,
      status: 'in-progress',
      reason: `Requested the stop of CodeDeploy deployment ${id} with automatic rollback; not waiting for it.`,
      timeline: [],
      events: [],
      stoppedTasks: [],
      durationMs: clock.now() - startedAt,
    };
  }
  const reader = codeDeployStatusReader({
    api: cd.api,
    deploymentId: id,
    targetId: prepared.targetId,
    onTraffic: (percent) => log.info(`traffic: ${percent}% → green`),
  });
  let trafficBackAt: number | undefined;
  const onBlue = (s: RolloutState): boolean => {
    const back =
      s.phase === 'rolled-back' ||
      (s.phase === 'rolling-back' && (greenTrafficPercent(reader.look().target) ?? 0) === 0);
    if (back && trafficBackAt === undefined) {
      trafficBackAt = clock.now();
      log.info(
        `Production traffic is back on blue${blue ? ` (${shortTaskDefinition(blue)})` : ''} ${formatDuration(trafficBackAt - startedAt)} after the rollback started.`,
      );
    }
    return back;
  };
  const followed = await followAndExplain(
    {
      api: opts.api,
      cluster: opts.cluster,
      service: opts.service,
      reader,
      taskDefinitionArn: from,
      waitUntil: 'stable',
      satisfied: (s) => {
        const back = onBlue(s);
        return s.final || (opts.waitUntil === 'traffic-shifted' && back);
      },
      succeeded: (s) => s.phase === 'rolled-back' || onBlue(s),
      deadline: ctx.deadline,
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
  const look = reader.look();
  facts.deploymentId = look.deployment?.rollbackInfo?.rollbackDeploymentId;
  facts.status = look.rollback?.status;
  if (facts.deploymentId) {
    facts.consoleUrl = consoleUrl(facts.deploymentId, cd.region);
    opts.onCodeDeployDeployment?.(facts.deploymentId);
  }
  const state = followed.state;
  const ok =
    state.phase === 'rolled-back' ||
    (opts.waitUntil === 'traffic-shifted' && trafficBackAt !== undefined);
  const status: RollbackStatus = followed.unreadable
    ? 'unknown'
    : ok
      ? 'succeeded'
      : followed.timedOut
        ? 'timed-out'
        : 'failed';
  const by = facts.deploymentId ? ` (rollback deployment ${facts.deploymentId})` : '';
  let reason: string;
  switch (status) {
    case 'succeeded':
      reason = `Stopped CodeDeploy deployment ${id}${green ? ` of ${shortTaskDefinition(green)}` : ''}: production traffic is back on ${blue ? shortTaskDefinition(blue) : 'blue'}${by}${parenthetical(opts.reason)}.`;
      break;
    case 'unknown':
      reason = unreadableSentence(`the rollback of CodeDeploy deployment ${id}`, followed);
      break;
    case 'timed-out':
      reason = `Timed out after ${formatDuration(opts.timeoutMs)} waiting for the rollback of CodeDeploy deployment ${id}: it is ${state.status ?? 'in progress'}${by}.`;
      break;
    default:
      reason = `Stopping CodeDeploy deployment ${id} with automatic rollback ended ${state.status ?? 'in an unknown state'}${
        look.rollback
          ? `, its rollback deployment ${look.rollback.status}`
          : ', without a rollback deployment'
      }${parenthetical(errorText(look.rollback) ?? errorText(look.deployment))}.`;
  }
  return {
    ...base,
    status,
    reason,
    timeline: followed.timeline,
    events: [],
    stoppedTasks: [],
    state,
    durationMs: (trafficBackAt ?? clock.now()) - startedAt,
  };
}

async function prepareDeploy(
  opts: RollbackOptions,
  cd: CodeDeployRollbackOptions,
  prepared: PreparedCodeDeploy,
  ctx: CodeDeployRollbackContext,
): Promise<PreparedRollback> {
  const { log } = opts;
  const { clock, startedAt, current, cache } = ctx;
  const { application, deploymentGroup } = prepared.target;
  const history = await loadCodeDeployHistory(cd.api, application, deploymentGroup);
  if (history.unreadable.length)
    log.debug(
      `The AppSpec of ${history.unreadable.length} deployment(s) could not be read: ${history.unreadable.join(', ')}.`,
    );
  let resolution = await resolveTarget(opts, current, cache, async () => history.entries);
  if (resolution.kind === 'not-found' && opts.to.kind === 'previous')
    resolution = {
      ...resolution,
      message: `No earlier revision completed a CodeDeploy deployment of ${opts.service} before ${shortTaskDefinition(current)} (in the ${history.entries.length} deployment(s) of group ${deploymentGroup} read; the revision the service was created with is not a CodeDeploy deployment). Name the revision to roll back to.`,
    };
  if (resolution.kind === 'not-found') throw new ActionFailure(resolution.message);
  const facts: CodeDeployRollbackFacts = { application, deploymentGroup, lifecycleEvents: [] };
  if (
    resolution.kind === 'noop' ||
    (resolution.kind === 'target' && resolution.target === current)
  ) {
    const reason =
      resolution.kind === 'noop'
        ? resolution.message.replace(/^ECS already rolled back/, 'CodeDeploy already rolled back')
        : `The service already runs ${shortTaskDefinition(current)} (${resolution.why}); nothing to roll back.`;
    const targetGitSha = tagValue((await cache.get(current)).tags, TAGS.gitSha);
    return {
      service: opts.service,
      from: current,
      to: current,
      start: async () => {
        opts.onFact?.('from-task-definition-arn', current);
        log.info(logSafe(reason));
        opts.onFact?.('to-task-definition-arn', current);
        return {
          timeline: [],
          events: [],
          stoppedTasks: [],
          status: 'unchanged',
          from: current,
          to: current,
          reason,
          codeDeploy: facts,
          targetGitSha,
          durationMs: clock.now() - startedAt,
        };
      },
    };
  }
  const resolved = resolution;
  return {
    service: opts.service,
    method: 'codedeploy-deployment',
    from: current,
    to: resolved.kind === 'target' ? resolved.target : undefined,
    start: () =>
      deployTarget(
        opts,
        cd,
        prepared,
        {
          target: resolved.kind === 'target' ? resolved.target : resolved.register,
          why: resolved.why,
          template: history.latestAppSpec,
          facts,
        },
        ctx,
      ),
  };
}

async function deployTarget(
  opts: RollbackOptions,
  cd: CodeDeployRollbackOptions,
  prepared: PreparedCodeDeploy,
  plan: {
    target: string | (() => Promise<string>);
    why: string;
    template?: { deploymentId: string; json: unknown };
    facts: CodeDeployRollbackFacts;
  },
  ctx: CodeDeployRollbackContext,
): Promise<RollbackResult> {
  const { log } = opts;
  const { clock, startedAt, current, cache } = ctx;
  const { facts, template } = plan;
  opts.onFact?.('from-task-definition-arn', current);
  const target = typeof plan.target === 'string' ? plan.target : await plan.target();
  const targetGitSha = tagValue((await cache.get(target)).tags, TAGS.gitSha);
  log.info(
    `Rolling back ${opts.service} from ${shortTaskDefinition(current)} to ${shortTaskDefinition(target)} through CodeDeploy: ${plan.why}.`,
  );
  opts.onFact?.('to-task-definition-arn', target);
  opts.onFact?.('method', 'codedeploy-deployment');
  if (template)
    log.info(
      `AppSpec: the one of deployment ${template.deploymentId} (hooks and settings kept), with the task definition replaced.`,
    );
  const run = await startAndFollow({
    cd: {
      api: cd.api,
      region: cd.region,
      appSpec: template
        ? { source: `the AppSpec of deployment ${template.deploymentId}`, json: template.json }
        : undefined,
    },
    prepared,
    ecs: opts.api,
    cluster: opts.cluster,
    service: opts.service,
    taskDefinitionArn: target,
    previousTaskDefinitionArn: current,
    waitUntil: opts.waitUntil,
    timeoutMs: opts.timeoutMs,
    deadline: ctx.deadline,
    startedAt,
    log,
    signal: opts.signal,
    clock,
    intervalMs: opts.intervalMs,
    onDeploymentId: (id) => {
      facts.deploymentId = id;
      facts.consoleUrl = consoleUrl(id, cd.region);
      opts.onCodeDeployDeployment?.(id);
    },
    onDeploymentStarted: async () => {
      // The mark names the rollback's own deployment: when CodeDeploy rolls that back, the mark
      // no longer holds, and the revision it started from is not taken for a bad one.
      try {
        await opts.api.tagResource({
          resourceArn: current,
          tags: [
            { key: TAGS.rolledBackAt, value: new Date(clock.now()).toISOString() },
            { key: TAGS.rolledBackTo, value: shortTaskDefinition(target) },
            ...(facts.deploymentId ? [{ key: TAGS.rolledBackBy, value: facts.deploymentId }] : []),
          ],
        });
      } catch (error) {
        log.warning(
          `Could not mark ${shortTaskDefinition(current)} as rolled back (${logSafe(errorMessage(error))}); rolling back to the previous revision again later may pick it.`,
        );
      }
      await opts.onStarted?.({ targetGitSha });
    },
  });
  facts.lifecycleEvents = run.facts.lifecycleEvents;
  facts.status = run.facts.status;
  const status: RollbackStatus =
    run.status === 'succeeded'
      ? 'succeeded'
      : run.status === 'rolled-back' || run.status === 'ready'
        ? 'failed'
        : run.status;
  const to = shortTaskDefinition(target);
  const reason =
    status === 'succeeded'
      ? `Rolled back ${opts.service} from ${shortTaskDefinition(current)} to ${to} through CodeDeploy deployment ${facts.deploymentId}${parenthetical(opts.reason)}.`
      : status === 'failed'
        ? `The rollback to ${to} failed: ${run.reason}`
        : run.reason;
  return {
    method: 'codedeploy-deployment',
    from: current,
    to: target,
    targetGitSha,
    codeDeploy: facts,
    status,
    reason,
    timeline: run.timeline,
    events: [],
    stoppedTasks: run.stoppedTasks,
    state: run.state,
    durationMs: clock.now() - startedAt,
  };
}
