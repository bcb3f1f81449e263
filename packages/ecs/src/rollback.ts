import type { ServiceDeployment, ServiceEvent, Tag, TaskDefinition } from '@aws-sdk/client-ecs';
import { ActionFailure, errorMessage } from '../../kit/src/errors';
import { logSafe } from '../../kit/src/log-text';
import { formatDuration } from '../../kit/src/duration';
import { systemClock, type Clock } from '../../kit/src/poll';
import type { EcsApi } from './api';
import { followAndExplain, isSuccess, unreadableSentence } from './follow';
import { describeService, type DeployLog } from './service';
import { withImageVersion } from './image-ref';
import { formatCounts, type RolloutState, type StageSpan } from './rollout';
import {
  deployedContainers,
  findByImage,
  findBySha,
  resolvePrevious,
  RollbackTargetError,
  type HistoryEntry,
  type Resolution,
  type RevisionInfo,
  type TargetSpec,
} from './rollback-target';
import { summarizeStoppedTasks, type StoppedTask } from './stopped-tasks';
import { fromDescribed, mergeTags, shortTaskDefinition, TAGS, tagValue } from './task-definition';

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
}

/** What {@link rollback} did. */
export interface RollbackResult {
  status: RollbackStatus;
  method?: 'stop-deployment' | 'update-service';
  from?: string;
  to?: string;
  /** The commit the target revision was deployed from (its `shipkit:git-sha` tag). */
  targetGitSha?: string;
  message: string;
  serviceDeploymentArn?: string;
  timeline: StageSpan[];
  events: ServiceEvent[];
  stoppedTasks: StoppedTask[];
  state?: RolloutState;
  /** Milliseconds from the start to production traffic back on the target (stop-deployment) or to the end. */
  durationMs: number;
}

const SHIFTING_STRATEGIES = new Set(['BLUE_GREEN', 'LINEAR', 'CANARY']);
const ACTIVE = new Set(['PENDING', 'IN_PROGRESS']);

async function taskDefinitionOfRevisions(
  api: EcsApi,
  revisionArns: string[],
): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  const unique = [...new Set(revisionArns.filter(Boolean))];
  for (let i = 0; i < unique.length; i += 20) {
    const out = await api.describeServiceRevisions({
      serviceRevisionArns: unique.slice(i, i + 20),
    });
    for (const r of out.serviceRevisions ?? []) {
      if (r.serviceRevisionArn && r.taskDefinition) map.set(r.serviceRevisionArn, r.taskDefinition);
    }
  }
  return map;
}

/**
 * The service's deployment history as ECS keeps it (ListServiceDeployments keeps deployments
 * longer than `deployments[]`), newest first, with target, source and rollback revisions
 * resolved to task definitions. At most `max` entries.
 */
export async function loadHistory(
  api: EcsApi,
  cluster: string | undefined,
  service: string,
  max = 40,
): Promise<HistoryEntry[]> {
  const briefs: { arn: string; createdAt?: Date }[] = [];
  let nextToken: string | undefined;
  do {
    const out = await api.listServiceDeployments({ cluster, service, nextToken, maxResults: 100 });
    for (const b of out.serviceDeployments ?? []) {
      if (b.serviceDeploymentArn)
        briefs.push({ arn: b.serviceDeploymentArn, createdAt: b.createdAt });
    }
    nextToken = out.nextToken;
  } while (nextToken && briefs.length < max);
  briefs.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
  const wanted = briefs.slice(0, max).map((b) => b.arn);
  const details: ServiceDeployment[] = [];
  for (let i = 0; i < wanted.length; i += 20) {
    const out = await api.describeServiceDeployments({
      serviceDeploymentArns: wanted.slice(i, i + 20),
    });
    details.push(...(out.serviceDeployments ?? []));
  }
  const revisions = await taskDefinitionOfRevisions(
    api,
    details.flatMap((d) => [
      d.targetServiceRevision?.arn ?? '',
      d.rollback?.serviceRevisionArn ?? '',
      ...(d.sourceServiceRevisions ?? []).map((s) => s.arn ?? ''),
    ]),
  );
  const td = (arn?: string): string | undefined => (arn ? revisions.get(arn) : undefined);
  return details
    .map((d) => ({
      serviceDeploymentArn: d.serviceDeploymentArn ?? '',
      status: d.status ?? 'UNKNOWN',
      createdAt: d.createdAt,
      finishedAt: d.finishedAt,
      target: td(d.targetServiceRevision?.arn),
      sources: (d.sourceServiceRevisions ?? [])
        .map((s) => td(s.arn))
        .filter((s): s is string => !!s),
      rolledBackTo:
        td(d.rollback?.serviceRevisionArn) ??
        (d.status === 'ROLLBACK_SUCCESSFUL' ? td(d.sourceServiceRevisions?.[0]?.arn) : undefined),
      strategy: d.deploymentConfiguration?.strategy,
      lifecycleStage: d.lifecycleStage,
    }))
    .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
}

/** Describes task definitions with their tags, memoised. */
class RevisionCache {
  private readonly cache = new Map<string, { td?: TaskDefinition; tags: Tag[] }>();

  constructor(private readonly api: EcsApi) {}

  async get(arn: string): Promise<{ td?: TaskDefinition; tags: Tag[] }> {
    const hit = this.cache.get(arn);
    if (hit) return hit;
    let value: { td?: TaskDefinition; tags: Tag[] };
    try {
      const out = await this.api.describeTaskDefinition({ taskDefinition: arn, include: ['TAGS'] });
      value = { td: out.taskDefinition, tags: out.tags ?? [] };
    } catch (error) {
      if ((error as { name?: string }).name !== 'ClientException') throw error;
      value = { tags: [] };
    }
    this.cache.set(arn, value);
    if (value.td?.taskDefinitionArn && value.td.taskDefinitionArn !== arn)
      this.cache.set(value.td.taskDefinitionArn, value);
    return value;
  }

  tags(arn: string): Tag[] | undefined {
    return this.cache.get(arn)?.tags;
  }

  async info(arn: string): Promise<RevisionInfo | undefined> {
    const { td, tags } = await this.get(arn);
    if (!td?.taskDefinitionArn) return undefined;
    return {
      arn: td.taskDefinitionArn,
      tags,
      images: (td.containerDefinitions ?? []).map((c) => ({
        container: c.name ?? '',
        image: c.image,
      })),
    };
  }
}

/** Revisions to search for a commit or image: the history's first, then the family's newest 50. */
async function candidateRevisions(
  api: EcsApi,
  cache: RevisionCache,
  history: HistoryEntry[],
  family: string | undefined,
  accept: (r: RevisionInfo) => boolean,
): Promise<{ found?: RevisionInfo; searched: number }> {
  const seen = new Set<string>();
  const fromHistory = history
    .flatMap((h) => [h.target, ...h.sources])
    .filter((a): a is string => !!a);
  for (const arn of fromHistory) {
    if (seen.has(arn)) continue;
    seen.add(arn);
    const info = await cache.info(arn);
    if (info && accept(info)) return { found: info, searched: seen.size };
  }
  if (family) {
    const listed = await api.listTaskDefinitions({
      familyPrefix: family,
      sort: 'DESC',
      maxResults: 50,
    });
    for (const arn of listed.taskDefinitionArns ?? []) {
      if (shortTaskDefinition(arn).replace(/:\d+$/, '') !== family || seen.has(arn)) continue;
      seen.add(arn);
      const info = await cache.info(arn);
      if (info && accept(info)) return { found: info, searched: seen.size };
    }
  }
  return { searched: seen.size };
}

async function resolveTarget(
  opts: RollbackOptions,
  current: string,
  cache: RevisionCache,
): Promise<Resolution> {
  const { api, to } = opts;
  const family = shortTaskDefinition(current).replace(/:\d+$/, '');
  switch (to.kind) {
    case 'arn':
    case 'revision': {
      const { td } = await cache.get(to.value);
      if (!td?.taskDefinitionArn) {
        throw new RollbackTargetError(`task definition \`${to.value}\` was not found.`);
      }
      return { kind: 'target', target: td.taskDefinitionArn, why: `requested ${to.value}` };
    }
    case 'previous': {
      const history = await loadHistory(api, opts.cluster, opts.service);
      const toDescribe = new Set<string>();
      const latest = history[0];
      for (const s of latest?.sources ?? []) toDescribe.add(s);
      for (const h of history) if (h.status === 'SUCCESSFUL' && h.target) toDescribe.add(h.target);
      for (const arn of [...toDescribe].slice(0, 25)) await cache.get(arn);
      return resolvePrevious(current, history, (arn) => cache.tags(arn));
    }
    case 'sha':
    case 'image': {
      const history = await loadHistory(api, opts.cluster, opts.service);
      const search = (match: Parameters<typeof candidateRevisions>[4]) =>
        candidateRevisions(api, cache, history, family, match);
      if (to.kind === 'sha') {
        const bySha = await search((r) => !!findBySha(to.value, [r]));
        if (bySha.found) {
          return {
            kind: 'target',
            target: bySha.found.arn,
            why: `${shortTaskDefinition(bySha.found.arn)} is tagged with commit ${tagValue(bySha.found.tags, TAGS.gitSha)}`,
          };
        }
      }
      const byImage = await search((r) => !!findByImage(to.value, [r]));
      if (byImage.found) {
        return {
          kind: 'target',
          target: byImage.found.arn,
          why: `${shortTaskDefinition(byImage.found.arn)} runs image ${to.value}`,
        };
      }
      if (to.kind === 'sha') {
        // A commit-like value is never guessed into a new image tag: that would deploy an image nobody named.
        throw new RollbackTargetError(
          `no revision of \`${family}\` is tagged with commit \`${to.value}\` or runs an image tagged \`${to.value}\` (searched ${byImage.searched} revisions).`,
        );
      }
      // An image tag or digest no revision ran: the running revision with that image.
      return {
        kind: 'target',
        target: await registerWithImage(opts, current, cache, to.value),
        why: `the running revision with image ${to.value}`,
      };
    }
  }
}

async function registerWithImage(
  opts: RollbackOptions,
  current: string,
  cache: RevisionCache,
  version: string,
): Promise<string> {
  const info = await cache.info(current);
  const { td, tags } = await cache.get(current);
  if (!info || !td)
    throw new ActionFailure(`Could not read the running task definition ${current}.`);
  const containers = deployedContainers(info);
  const source = fromDescribed(td, tags);
  const def = structuredClone(source.definition);
  const changed: string[] = [];
  for (const c of def.containerDefinitions ?? []) {
    if (!containers.includes(c.name ?? '') || !c.image) continue;
    const image = withImageVersion(c.image, version);
    if (image && image !== c.image) {
      c.image = image;
      changed.push(`${c.name}=${image}`);
    }
  }
  if (!changed.length) {
    throw new RollbackTargetError(
      `no revision runs image \`${version}\` and the running revision's images cannot take it.`,
    );
  }
  for (const change of changed) {
    const image = change.slice(change.indexOf('=') + 1);
    const found = opts.imageExists ? await opts.imageExists(image) : 'unknown';
    if (found === 'missing') {
      throw new RollbackTargetError(
        `no revision of \`${shortTaskDefinition(current).replace(/:\d+$/, '')}\` runs an image tagged \`${version}\`, and \`${image}\` is not in its repository; nothing was registered.`,
      );
    }
    if (found === 'unknown')
      opts.log.warning(
        `Could not check that ${image} exists (not an Amazon ECR image, or not readable); registering it as asked.`,
      );
  }
  const imageTags = (def.containerDefinitions ?? [])
    .filter((c) => containers.includes(c.name ?? ''))
    .map((c) => ({ key: `${TAGS.imagePrefix}${c.name}`, value: (c.image ?? '').slice(0, 256) }));
  def.tags = mergeTags(
    tags.filter((t) => t.key !== TAGS.gitSha),
    imageTags,
  );
  const out = await opts.api.registerTaskDefinition(def);
  const arn = out.taskDefinition?.taskDefinitionArn;
  if (!arn) throw new ActionFailure('ECS RegisterTaskDefinition returned no task definition ARN.');
  opts.log.info(
    `Registered ${shortTaskDefinition(arn)} from the running revision with ${changed.join(', ')}.`,
  );
  return arn;
}

/**
 * Rolls a service back: stops a native blue/green (linear, canary) deployment still in progress
 * or baking with StopServiceDeployment ROLLBACK, else resolves the target and updates the
 * service to it. Rolling back to what already runs is a no-op.
 */
export async function rollback(opts: RollbackOptions): Promise<RollbackResult> {
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
      return stopDeployment(
        opts,
        active,
        service.taskDefinition,
        startedAt,
        deadline,
        clock,
        cache,
      );
    }
    const source = (
      await taskDefinitionOfRevisions(api, [active.sourceServiceRevisions?.[0]?.arn ?? ''])
    ).get(active.sourceServiceRevisions?.[0]?.arn ?? '');
    throw new ActionFailure(
      `A ${strategy} deployment (${active.serviceDeploymentArn?.split('/').pop()}, ${active.status}${
        active.lifecycleStage ? ` at ${active.lifecycleStage}` : ''
      }) is still in progress on ${opts.service}, and \`${opts.to.value}\` is not the revision it started from${
        source ? ` (${shortTaskDefinition(source)})` : ''
      }. Nothing was changed: roll back with \`to: previous\` to stop it and return traffic at once, or wait until it ends.`,
    );
  }

  const resolution = await resolveTarget(opts, current, cache);
  if (resolution.kind === 'not-found') throw new ActionFailure(resolution.message);
  if (resolution.kind === 'noop' || resolution.target === current) {
    const message =
      resolution.kind === 'noop'
        ? resolution.message
        : `The service already runs ${shortTaskDefinition(current)} (${resolution.why}); nothing to roll back.`;
    log.info(message);
    opts.onFact?.('to-task-definition-arn', current);
    return {
      ...empty,
      status: 'unchanged',
      from: current,
      to: current,
      message,
      targetGitSha: tagValue((await cache.get(current)).tags, TAGS.gitSha),
      durationMs: clock.now() - startedAt,
    };
  }
  const target = resolution.target;
  const targetGitSha = tagValue((await cache.get(target)).tags, TAGS.gitSha);
  log.info(
    `Rolling back ${opts.service} from ${shortTaskDefinition(current)} to ${shortTaskDefinition(target)}: ${resolution.why}.`,
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
      message: `Started rolling back to ${shortTaskDefinition(target)}; not waiting (\`wait-until: none\`).`,
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
      circuitBreakerRollback:
        !!service.deploymentConfiguration?.deploymentCircuitBreaker?.enable &&
        !!service.deploymentConfiguration.deploymentCircuitBreaker.rollback,
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
  let message: string;
  switch (status) {
    case 'succeeded':
      message = `Rolled back ${opts.service} from ${shortTaskDefinition(current)} to ${to}${opts.reason ? ` (${opts.reason})` : ''}.`;
      break;
    case 'unknown':
      message = unreadableSentence(`the rollback to ${to}`, followed);
      break;
    case 'timed-out':
      message = `Timed out after ${formatDuration(opts.timeoutMs)} rolling back to ${to}: the deployment is ${followed.state.status ?? 'in progress'}${followed.state.stage ? ` at ${followed.state.stage}` : ''}${followed.state.phase === 'settling' ? ', but the service has not settled on it' : ''}${formatCounts(followed.state.counts) ? ` (${formatCounts(followed.state.counts)})` : ''}.${stopped ? ` ${stopped}.` : ''}`;
      break;
    default:
      message = followed.endedOnCrash
        ? `The rollback to ${to} failed: tasks of ${to} stopped on their own${stopped ? ` (${stopped})` : ''}.`
        : `The rollback to ${to} failed${followed.state.reason ? ` (${followed.state.reason})` : ''}${stopped ? `: ${stopped}` : ''}.${
            followed.state.phase === 'rolled-back'
              ? ` ECS undid it: the service is back on ${shortTaskDefinition(current)}, which is not marked as rolled back.`
              : ''
          }`;
  }
  return {
    ...base,
    status,
    message,
    timeline: followed.timeline,
    events: followed.events,
    stoppedTasks,
    state: followed.state,
    durationMs: clock.now() - startedAt,
  };
}

/** True when `opts.to` names the revision an in-progress deployment started from. */
async function isDeploymentSource(
  opts: RollbackOptions,
  active: ServiceDeployment,
  cache: RevisionCache,
): Promise<boolean> {
  const sourceRevision = active.sourceServiceRevisions?.[0]?.arn;
  if (!sourceRevision || opts.to.kind === 'previous') return false;
  const source = (await taskDefinitionOfRevisions(opts.api, [sourceRevision])).get(sourceRevision);
  const info = source ? await cache.info(source) : undefined;
  if (!info) return false;
  switch (opts.to.kind) {
    case 'arn':
    case 'revision':
      return (await cache.get(opts.to.value)).td?.taskDefinitionArn === info.arn;
    case 'sha':
      return !!findBySha(opts.to.value, [info]) || !!findByImage(opts.to.value, [info]);
    case 'image':
      return !!findByImage(opts.to.value, [info]);
  }
}

async function stopDeployment(
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
      log.debug(`Could not tag ${from} as rolled back: ${String(error)}`);
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
      message: `Requested the rollback of deployment ${active.serviceDeploymentArn}; not waiting.`,
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
  const message =
    status === 'unknown'
      ? unreadableSentence(`the rollback of ${shortTaskDefinition(from)}`, followed)
      : status === 'succeeded'
        ? `Stopped the deployment of ${shortTaskDefinition(from)}: production traffic is back on ${shortTaskDefinition(to)}${opts.reason ? ` (${opts.reason})` : ''}.`
        : status === 'timed-out'
          ? `Timed out after ${formatDuration(opts.timeoutMs)} waiting for the rollback of ${shortTaskDefinition(from)}: the deployment is ${followed.state.status}${followed.state.stage ? ` at ${followed.state.stage}` : ''}.`
          : `Rolling back the deployment of ${shortTaskDefinition(from)} ended ${followed.state.status}${followed.state.reason ? ` (${followed.state.reason})` : ''}.`;
  return {
    ...base,
    status,
    message,
    timeline: followed.timeline,
    events: followed.events,
    stoppedTasks: [],
    state: followed.state,
    durationMs: clock.now() - startedAt,
  };
}
