import type { ServiceDeployment, ServiceEvent } from '@aws-sdk/client-ecs';
import { ActionFailure, errorMessage } from '../../kit/src/errors';
import { logSafe, parenthetical } from '../../kit/src/log-text';
import { formatDuration } from '../../kit/src/duration';
import { systemClock, type Clock } from '../../kit/src/poll';
import type { EcsApi } from './api';
import type { CodeDeployRollbackFacts, CodeDeployRollbackOptions } from './codedeploy/rollback';
import { followAndExplain, isSuccess, unreadableSentence } from './follow';
import { RevisionCache, taskDefinitionOfRevisions } from './history';
import { isDeploymentSource, resolveTarget } from './resolve-target';
import type { TargetSpec } from './rollback-target';
import { formatCounts, type RolloutState, type StageSpan } from './rollout';
import { describeService, type DeployLog } from './service';
import { stopDeployment } from './stop-deployment';
import { summarizeStoppedTasks, type StoppedTask } from './stopped-tasks';
import { shortTaskDefinition, TAGS, tagValue } from './task-definition';

/** How rollback ended. */
export type RollbackStatus =
  | 'succeeded'
  | 'failed'
  | 'timed-out'
  /** Following gave up on transient errors: the outcome could not be read. */
  | 'unknown'
  | 'unchanged'
  | 'in-progress';

/** Options of {@link rollback}. */
export interface RollbackOptions {
  api: EcsApi;
  cluster?: string;
  service: string;
  to: TargetSpec;
  reason?: string;
  waitUntil: 'stable' | 'traffic-shifted' | 'none';
  timeoutMs: number;
  log: DeployLog;
  signal?: AbortSignal;
  clock?: Clock;
  onFact?: (
    name: 'from-task-definition-arn' | 'to-task-definition-arn' | 'method',
    value: string,
  ) => void;
  /** Called once the rollback has been started (service updated or deployment stopped). */
  onStarted?: (info: { targetGitSha?: string }) => Promise<void> | void;
  intervalMs?: number;
  /** Reads the deregistration delay of target groups (ms), to look slowly while old tasks drain. */
  deregistrationDelayMs?: (targetGroupArns: string[]) => Promise<number | undefined>;
  /** Says whether an image exists in its repository, before a revision with it is registered. */
  imageExists?: (image: string) => Promise<'exists' | 'missing' | 'unknown'>;
  /** How a service with the CODE_DEPLOY deployment controller is rolled back (its client and names). */
  codeDeploy?: CodeDeployRollbackOptions;
  /** Called with the CodeDeploy deployment that moves production back, once it is known. */
  onCodeDeployDeployment?: (deploymentId: string) => void;
}

/** What {@link rollback} did. */
export interface RollbackResult {
  status: RollbackStatus;
  /** `codedeploy-deployment`: a CodeDeploy deployment of the target revision. */
  method?: 'stop-deployment' | 'update-service' | 'codedeploy-deployment';
  from?: string;
  to?: string;
  /** The commit the target revision was deployed from (its `shipkit:git-sha` tag). */
  targetGitSha?: string;
  /** One sentence saying what happened (the `reason` output), as a deploy's `reason`. */
  reason: string;
  serviceDeploymentArn?: string;
  timeline: StageSpan[];
  events: ServiceEvent[];
  stoppedTasks: StoppedTask[];
  state?: RolloutState;
  /** Milliseconds from the start to production traffic back on the target (stop-deployment) or to the end. */
  durationMs: number;
  /** The CodeDeploy side, for a service with the CODE_DEPLOY deployment controller. */
  codeDeploy?: CodeDeployRollbackFacts;
}

const SHIFTING_STRATEGIES = new Set(['BLUE_GREEN', 'LINEAR', 'CANARY']);
const ACTIVE = new Set(['PENDING', 'IN_PROGRESS']);
/**
 * Rolls a service back: stops a native blue/green (linear, canary) deployment still in progress
 * or baking with StopServiceDeployment ROLLBACK, else resolves the target and updates the
 * service to it. Rolling back to what already runs is a no-op. A service with the CODE_DEPLOY
 * controller goes through CodeDeploy (see `rollbackCodeDeploy`).
 */
export async function rollback(opts: RollbackOptions): Promise<RollbackResult> {
  return (await prepareRollback(opts)).start();
}

/**
 * A rollback resolved and checked, with nothing changed yet: {@link PreparedRollback.start}
 * makes the change (stops the deployment, registers, updates or deploys) and follows it.
 */
export interface PreparedRollback {
  service: string;
  /** How the rollback goes; undefined for a no-op. */
  method?: RollbackResult['method'];
  /** The revision rolled back from. */
  from?: string;
  /** The revision rolled back to, when known before the start (not a revision still to register). */
  to?: string;
  start(): Promise<RollbackResult>;
}

/**
 * Everything {@link rollback} does before it changes anything: reads the service, decides between
 * stopping a deployment under way and moving to a resolved target, and refuses (throws) what it
 * cannot do. Several services are rolled back together by preparing each, then starting all.
 */
export async function prepareRollback(opts: RollbackOptions): Promise<PreparedRollback> {
  const clock = opts.clock ?? systemClock;
  const startedAt = clock.now();
  const deadline = startedAt + opts.timeoutMs;
  const { api, log } = opts;
  const cache = new RevisionCache(api);
  const empty = {
    timeline: [] as StageSpan[],
    events: [] as ServiceEvent[],
    stoppedTasks: [] as StoppedTask[],
  };

  const service = await describeService(api, opts.cluster, opts.service);
  const current = service.taskDefinition;
  if (!current)
    throw new ActionFailure(`Service ${opts.service} has no task definition to roll back from.`);
  if (service.deploymentController?.type === 'CODE_DEPLOY') {
    const { prepareCodeDeployRollback } = await import('./codedeploy/rollback');
    return prepareCodeDeployRollback(opts, { service, current, startedAt, deadline, clock, cache });
  }
  opts.onFact?.('from-task-definition-arn', current);

  let active: ServiceDeployment | undefined;
  if (service.currentServiceDeployment) {
    const out = await api.describeServiceDeployments({
      serviceDeploymentArns: [service.currentServiceDeployment],
    });
    active = out.serviceDeployments?.[0];
  }
  const strategy =
    active?.deploymentConfiguration?.strategy ??
    service.deploymentConfiguration?.strategy ??
    'ROLLING';
  if (active && ACTIVE.has(active.status ?? '') && SHIFTING_STRATEGIES.has(strategy)) {
    // A shifting deployment is still in progress or baking: starting another deployment on top
    // of it is refused by ECS. Asking for the revision traffic came from is stopping it.
    if (opts.to.kind === 'previous' || (await isDeploymentSource(opts, active, cache))) {
      const stopping = active;
      return {
        service: opts.service,
        method: 'stop-deployment',
        from: current,
        start: () =>
          stopDeployment(opts, stopping, service.taskDefinition, startedAt, deadline, clock, cache),
      };
    }
    const source = (
      await taskDefinitionOfRevisions(api, [active.sourceServiceRevisions?.[0]?.arn ?? ''])
    ).get(active.sourceServiceRevisions?.[0]?.arn ?? '');
    throw new ActionFailure(
      `A ${strategy} deployment (${active.serviceDeploymentArn?.split('/').pop()}, ${active.status}${
        active.lifecycleStage ? ` at ${active.lifecycleStage}` : ''
      }) is still in progress on ${opts.service}, and \`${opts.to.value}\` is not the revision it started from${
        source ? ` (${shortTaskDefinition(source)})` : ''
      }. Nothing was changed: roll back to the previous revision to stop it and return traffic at once, or wait until it ends.`,
    );
  }

  const resolution = await resolveTarget(opts, current, cache);
  if (resolution.kind === 'not-found') throw new ActionFailure(resolution.message);
  if (
    resolution.kind === 'noop' ||
    (resolution.kind === 'target' && resolution.target === current)
  ) {
    const reason =
      resolution.kind === 'noop'
        ? resolution.message
        : `The service already runs ${shortTaskDefinition(current)} (${resolution.why}); nothing to roll back.`;
    const targetGitSha = tagValue((await cache.get(current)).tags, TAGS.gitSha);
    return {
      service: opts.service,
      from: current,
      to: current,
      start: async () => {
        log.info(logSafe(reason));
        opts.onFact?.('to-task-definition-arn', current);
        return {
          ...empty,
          status: 'unchanged',
          from: current,
          to: current,
          reason,
          targetGitSha,
          durationMs: clock.now() - startedAt,
        };
      },
    };
  }
  const resolved = resolution;
  return {
    service: opts.service,
    method: 'update-service',
    from: current,
    to: resolved.kind === 'target' ? resolved.target : undefined,
    start: () =>
      updateTo(opts, {
        current,
        target: resolved.kind === 'target' ? resolved.target : resolved.register,
        why: resolved.why,
        strategy,
        circuitBreakerRollback:
          !!service.deploymentConfiguration?.deploymentCircuitBreaker?.enable &&
          !!service.deploymentConfiguration.deploymentCircuitBreaker.rollback,
        startedAt,
        deadline,
        clock,
        cache,
      }),
  };
}

/** Updates the service to the target (registering it first when it is still to register) and follows. */
async function updateTo(
  opts: RollbackOptions,
  ctx: {
    current: string;
    target: string | (() => Promise<string>);
    why: string;
    strategy: string;
    circuitBreakerRollback: boolean;
    startedAt: number;
    deadline: number;
    clock: Clock;
    cache: RevisionCache;
  },
): Promise<RollbackResult> {
  const { api, log } = opts;
  const { current, strategy, startedAt, deadline, clock, cache } = ctx;
  const empty = {
    timeline: [] as StageSpan[],
    events: [] as ServiceEvent[],
    stoppedTasks: [] as StoppedTask[],
  };
  const target = typeof ctx.target === 'string' ? ctx.target : await ctx.target();
  const targetGitSha = tagValue((await cache.get(target)).tags, TAGS.gitSha);
  log.info(
    `Rolling back ${opts.service} from ${shortTaskDefinition(current)} to ${shortTaskDefinition(target)}: ${ctx.why}.`,
  );
  opts.onFact?.('to-task-definition-arn', target);
  opts.onFact?.('method', 'update-service');

  const updated = await api.updateService({
    cluster: opts.cluster,
    service: opts.service,
    taskDefinition: target,
    forceNewDeployment: true,
  });
  const serviceDeploymentArn = updated.service?.currentServiceDeployment;
  // The mark names the rollback's own service deployment: when ECS undoes that deployment, the
  // mark no longer holds, and the revision it started from is not taken for a bad one.
  try {
    await api.tagResource({
      resourceArn: current,
      tags: [
        { key: TAGS.rolledBackAt, value: new Date(clock.now()).toISOString() },
        { key: TAGS.rolledBackTo, value: shortTaskDefinition(target) },
        ...(serviceDeploymentArn ? [{ key: TAGS.rolledBackBy, value: serviceDeploymentArn }] : []),
      ],
    });
  } catch (error) {
    log.warning(
      `Could not mark ${shortTaskDefinition(current)} as rolled back (${logSafe(errorMessage(error))}); rolling back to the previous revision again later may pick it.`,
    );
  }
  await opts.onStarted?.({ targetGitSha });
  const base = {
    method: 'update-service' as const,
    from: current,
    to: target,
    targetGitSha,
    serviceDeploymentArn,
  };
  if (opts.waitUntil === 'none') {
    return {
      ...empty,
      ...base,
      status: 'in-progress',
      reason: `Started rolling back to ${shortTaskDefinition(target)}; not waiting for it.`,
      durationMs: clock.now() - startedAt,
    };
  }
  const followed = await followAndExplain(
    {
      api,
      cluster: opts.cluster,
      service: opts.service,
      serviceDeploymentArn,
      strategy,
      taskDefinitionArn: target,
      waitUntil: opts.waitUntil,
      explainWith: target,
      circuitBreakerRollback: ctx.circuitBreakerRollback,
      deregistrationDelayMs: opts.deregistrationDelayMs,
      deadline,
      startedAt,
      log,
      signal: opts.signal,
      clock,
      intervalMs: opts.intervalMs,
    },
    'Following the rollback',
  );
  const status: RollbackStatus = followed.unreadable
    ? 'unknown'
    : followed.endedOnCrash
      ? 'failed'
      : followed.timedOut
        ? 'timed-out'
        : isSuccess(followed.state)
          ? 'succeeded'
          : 'failed';
  const stoppedTasks = followed.stoppedTasks;
  const stopped = summarizeStoppedTasks(stoppedTasks);
  const to = shortTaskDefinition(target);
  let reason: string;
  switch (status) {
    case 'succeeded':
      reason = `Rolled back ${opts.service} from ${shortTaskDefinition(current)} to ${to}${parenthetical(opts.reason)}.`;
      break;
    case 'unknown':
      reason = unreadableSentence(`the rollback to ${to}`, followed);
      break;
    case 'timed-out':
      reason = `Timed out after ${formatDuration(opts.timeoutMs)} rolling back to ${to}: the deployment is ${followed.state.status ?? 'in progress'}${followed.state.stage ? ` at ${followed.state.stage}` : ''}${followed.state.phase === 'settling' ? ', but the service has not settled on it' : ''}${formatCounts(followed.state.counts) ? ` (${formatCounts(followed.state.counts)})` : ''}.${stopped ? ` ${stopped}.` : ''}`;
      break;
    default:
      reason = followed.endedOnCrash
        ? `The rollback to ${to} failed: tasks of ${to} stopped on their own${stopped ? ` (${stopped})` : ''}.`
        : `The rollback to ${to} failed${parenthetical(followed.state.reason)}${stopped ? `: ${stopped}` : ''}.${
            followed.state.phase === 'rolled-back'
              ? ` ECS undid it: the service is back on ${shortTaskDefinition(current)}, which is not marked as rolled back.`
              : ''
          }`;
  }
  return {
    ...base,
    status,
    reason,
    timeline: followed.timeline,
    events: followed.events,
    stoppedTasks,
    state: followed.state,
    durationMs: clock.now() - startedAt,
  };
}

/** Options of {@link rollbackServices}: one `to` for every service. */
export interface RollbackServicesOptions extends Omit<
  RollbackOptions,
  'service' | 'onFact' | 'onCodeDeployDeployment'
> {
  /** The services, in the order given (at least one). */
  services: string[];
  /** Called once, when the first service's rollback has started. */
  onStarted?: (info: { targetGitSha?: string }) => Promise<void> | void;
}

/** What {@link rollbackServices} did: the verdict over all services and each service's result. */
export interface RollbackServicesResult {
  status: RollbackStatus;
  /** One sentence over all services. */
  reason: string;
  services: { service: string; result: RollbackResult }[];
}

/** Which status wins when several services end differently (the worst first). */
const STATUS_ORDER: RollbackStatus[] = [
  'failed',
  'timed-out',
  'unknown',
  'in-progress',
  'succeeded',
  'unchanged',
];

/** A log whose lines name the service; groups are headings (rollbacks run side by side). */
function serviceLog(log: DeployLog, service: string): DeployLog {
  const tag = (m: string): string => `[${service}] ${m}`;
  return {
    info: (m) => log.info(tag(m)),
    debug: (m) => log.debug(tag(m)),
    warning: (m) => log.warning(tag(m)),
    group: async (name, fn) => {
      log.info(tag(name));
      return fn();
    },
  };
}

/**
 * Rolls several services back together: every service is prepared first (read, target resolved
 * and checked: `previous` for each its own, or one commit or image every service has), so one
 * that cannot be rolled back fails the whole before anything changes, naming it; then every
 * rollback starts at once and is followed side by side.
 */
export async function rollbackServices(
  opts: RollbackServicesOptions,
): Promise<RollbackServicesResult> {
  let started = false;
  const onStarted = async (info: { targetGitSha?: string }): Promise<void> => {
    if (started) return;
    started = true;
    await opts.onStarted?.(info);
  };
  const prepared: PreparedRollback[] = [];
  for (const service of opts.services) {
    try {
      prepared.push(
        await prepareRollback({ ...opts, service, log: serviceLog(opts.log, service), onStarted }),
      );
    } catch (error) {
      // With several services the message says which one could not be rolled back.
      if (error instanceof Error && opts.services.length > 1) {
        const message = error.message
          .replace(/\s*Nothing was changed[^.]*\./, '')
          // One target is given for every service: this one is rolled back on its own.
          .replace(
            'Name the revision to roll back to.',
            'Roll it back on its own, naming the revision.',
          );
        const named = message.startsWith(`Service \`${service}\``);
        error.message = `${named ? '' : `service \`${service}\`: `}${message} Nothing was rolled back.`;
      }
      throw error;
    }
  }
  // Every rollback runs to its end: one that cannot start does not leave the others unobserved.
  const settled = await Promise.allSettled(prepared.map((p) => p.start()));
  opts.signal?.throwIfAborted();
  const services = settled.map((s, i) => ({
    service: prepared[i].service,
    result:
      s.status === 'fulfilled'
        ? s.value
        : ({
            status: 'failed',
            method: prepared[i].method,
            from: prepared[i].from,
            to: prepared[i].to,
            reason: `The rollback of ${prepared[i].service} could not start: ${logSafe(errorMessage(s.reason))}.`,
            timeline: [],
            events: [],
            stoppedTasks: [],
            durationMs: 0,
          } satisfies RollbackResult),
  }));
  const status =
    STATUS_ORDER.find((s) => services.some((r) => r.result.status === s)) ?? 'unchanged';
  const moved = services.filter((r) => r.result.status === 'succeeded');
  const unchanged = services.filter((r) => r.result.status === 'unchanged');
  const others = services.filter((r) => !['succeeded', 'unchanged'].includes(r.result.status));
  const parts: string[] = [];
  if (others.length) parts.push(...others.map((r) => `${r.service}: ${r.result.reason}`));
  if (moved.length)
    parts.push(
      `Rolled back ${moved
        .map(
          (r) =>
            `${r.service} from ${shortTaskDefinition(r.result.from)} to ${shortTaskDefinition(r.result.to)}`,
        )
        .join(', ')}${others.length ? '' : parenthetical(opts.reason)}.`,
    );
  if (unchanged.length)
    parts.push(
      `${unchanged.map((r) => r.service).join(', ')} already on the target (${unchanged
        .map((r) => shortTaskDefinition(r.result.to))
        .join(', ')}).`,
    );
  return { status, reason: parts.join(' '), services };
}
