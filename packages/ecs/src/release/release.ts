// A release: several services of one cluster deployed together. Every service is read,
// rendered and validated before anything is registered; then each is registered, updated and
// followed at once (their looks batched); when one fails, every service the release changed
// goes back to the revision it ran before.
import { setMaxListeners } from 'node:events';
import type { Service } from '@aws-sdk/client-ecs';
import { CancelledError, ConfigurationError, errorMessage } from '../../../kit/src/errors';
import { logSafe } from '../../../kit/src/log-text';
import { systemClock, type Clock } from '../../../kit/src/poll';
import type { EcsApi } from '../api';
import {
  deploy,
  describeRegistered,
  type DeployOptions,
  type DeployResult,
  type DeploySource,
  type DeployStatus,
} from '../deploy';
import { rollback, type RollbackResult } from '../rollback';
import { describeService, type DeployLog } from '../service';
import { containerNames, loadTaskDefinitionJson, shortTaskDefinition } from '../task-definition';
import { batchingEcsApi, cachingTaskDefinitions } from './batching-api';
import { assignLines, type ReleaseLine, type ServiceContainers } from './lines';

/** One service of a release and where its revision comes from. */
export interface ReleaseService {
  service: string;
  source: DeploySource;
}

/** Options of {@link deployRelease}: those of a deploy, for several services. */
export interface ReleaseOptions extends Pick<
  DeployOptions,
  | 'cluster'
  | 'strategy'
  | 'bakeTimeMinutes'
  | 'desiredCount'
  | 'timeoutMs'
  | 'dryRun'
  | 'deploy'
  | 'provenance'
  | 'signal'
  | 'intervalMs'
  | 'deregistrationDelayMs'
> {
  api: EcsApi;
  services: ReleaseService[];
  /** The `container-images` lines, placed on their services by {@link assignLines}. */
  images: ReleaseLine[];
  environment: ReleaseLine[];
  waitUntil: 'stable' | 'traffic-shifted' | 'none';
  log: DeployLog;
  clock?: Clock;
  /** Called once every service is validated, before the first registration (not with `deploy: false`). */
  beforeChange?: () => Promise<void> | void;
  /** How long each rollback may take (default `timeoutMs`). */
  rollbackTimeoutMs?: number;
  /** The longest a look waits for the other services' looks to be batched with it (default 1.5 s). */
  batchWaitMs?: number;
}

/** How one service of a release ended. */
export type ReleaseServiceStatus = DeployStatus | 'stopped';

/** What happened to one service of a release. */
export interface ReleaseServiceResult {
  service: string;
  /** The release updated the service to another revision than the one it ran. */
  changed: boolean;
  /**
   * The deploy's status; `rolled-back` also when the release rolled it back because another
   * service failed; `failed` when that rollback failed.
   */
  status: ReleaseServiceStatus;
  taskDefinitionArn?: string;
  previousTaskDefinitionArn?: string;
  reason: string;
  /** The deploy's own result (absent when it threw). */
  deploy?: DeployResult;
  /** The rollback the release made, when it made one. */
  rollback?: RollbackResult;
}

/** What {@link deployRelease} did. */
export interface ReleaseResult {
  /** The release's verdict (`rolled-back` when a service failed and every changed one is back). */
  status: DeployStatus;
  reason: string;
  /** The first service that failed. */
  failedService?: string;
  services: ReleaseServiceResult[];
  startedAt: number;
  durationMs: number;
}

/**
 * The release was cancelled (the signal): the message says which services were left rolling out
 * (or rolling back) on which revisions; `services` holds each service's state at the cancel.
 */
export class ReleaseCancelledError extends CancelledError {
  constructor(
    message: string,
    readonly services: ReleaseServiceResult[],
    readonly durationMs: number,
  ) {
    super(message);
    this.name = 'ReleaseCancelledError';
  }
}

const FAILED: ReadonlySet<DeployStatus> = new Set([
  'failed',
  'rolled-back',
  'timed-out',
  'unknown',
]);

/** Another service failed: this one's follow was stopped so the release can roll it back. */
class ReleaseStopped extends Error {
  constructor(readonly failedService: string) {
    super(`stopped: ${failedService} failed`);
    this.name = 'ReleaseStopped';
  }
}

/** Another service could not be validated: this one registers nothing. */
class ReleaseNotStarted extends Error {
  constructor() {
    super('not started: another service of the release could not be validated');
    this.name = 'ReleaseNotStarted';
  }
}

/** A log whose lines start with the service's name; phases are lines (groups cannot interleave). */
export function serviceLog(log: DeployLog, service: string): DeployLog {
  const p = (m: string): string => `[${service}] ${m}`;
  return {
    info: (m) => log.info(p(m)),
    debug: (m) => log.debug(p(m)),
    warning: (m) => log.warning(p(m)),
    group: async (name, fn) => {
      log.info(p(`${name}…`));
      return fn();
    },
  };
}

/** Waits until every service is validated (or has nothing to do), then lets them all register. */
class StartLine {
  private arrived = 0;
  private done = 0;
  /** The first mistake found, or the error of `onAllReady`: then nothing was registered. */
  failure: unknown;
  private released = false;
  private readonly waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(
    private readonly count: number,
    private readonly onAllReady: () => Promise<void> | void,
  ) {}

  /** A service is validated and about to register. */
  arrive(): Promise<void> {
    this.arrived++;
    const waiting = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    void this.maybeRelease();
    return waiting;
  }

  /** A service ended before arriving (nothing to do, or a mistake found: `error`). */
  leftEarly(error?: unknown): void {
    this.done++;
    if (error !== undefined && this.failure === undefined) this.failure = error;
    void this.maybeRelease();
  }

  private async maybeRelease(): Promise<void> {
    if (this.released || this.arrived + this.done < this.count) return;
    this.released = true;
    if (this.failure === undefined && this.arrived > 0) {
      try {
        await this.onAllReady();
      } catch (error) {
        this.failure = error;
      }
    }
    for (const w of this.waiters)
      if (this.failure === undefined) w.resolve();
      else w.reject(new ReleaseNotStarted());
  }
}

interface Outcome {
  service: string;
  result?: DeployResult;
  error?: unknown;
  facts: { taskDefinitionArn?: string; previousTaskDefinitionArn?: string; started: boolean };
}

/** Reads a service of the release and the containers of the revision it will start from. */
async function readContainers(
  api: EcsApi,
  cluster: string | undefined,
  spec: ReleaseService,
): Promise<ServiceContainers> {
  const out = await api.describeServices({ cluster, services: [spec.service] });
  const found = out.services?.[0];
  if (found?.deploymentController?.type === 'CODE_DEPLOY')
    throw new ConfigurationError(
      `Service \`${spec.service}\` is deployed by CodeDeploy; a release of several services deploys services with ECS deployments only (deploy it in a step of its own).`,
    );
  const service: Service = await describeService(
    { ...api, describeServices: async () => out },
    cluster,
    spec.service,
  );
  switch (spec.source.kind) {
    case 'file':
      return {
        service: spec.service,
        containers: containerNames(
          loadTaskDefinitionJson(spec.source.json, `Task definition file \`${spec.source.path}\``)
            .definition,
        ),
      };
    case 'registered': {
      const registered = await describeRegistered(api, spec.source.reference);
      return {
        service: spec.service,
        containers: containerNames(registered.taskDefinition),
        asIs: true,
      };
    }
    default: {
      if (!service.taskDefinition) return { service: spec.service, containers: [] };
      // As the deploy will read it (with its tags): one call for both.
      const td = await api.describeTaskDefinition({
        taskDefinition: service.taskDefinition,
        include: ['TAGS'],
      });
      return { service: spec.service, containers: containerNames(td.taskDefinition ?? {}) };
    }
  }
}

/**
 * Deploys several services as one release. Reads every service and places every image and
 * environment line (a mistake throws before anything is registered); runs one deploy per
 * service, all held before registering until every one is validated; follows them together
 * with batched looks; when one fails, stops following the others and rolls every service this
 * release changed back to the revision it ran (a circuit breaker's rollback is awaited instead).
 * A cancel (the signal) is thrown as it is.
 */
export async function deployRelease(opts: ReleaseOptions): Promise<ReleaseResult> {
  const clock = opts.clock ?? systemClock;
  const startedAt = clock.now();
  const { log } = opts;
  const names = opts.services.map((s) => s.service);
  const api = cachingTaskDefinitions(opts.api);

  const reading = batchingEcsApi(api, {
    clock,
    participants: names.length,
    maxWaitMs: opts.batchWaitMs,
    signal: opts.signal,
  });
  const assigned = await log.group(`Reading ${names.length} services`, async () => {
    const containers = await Promise.all(
      opts.services.map((s) =>
        readContainers(reading.api, opts.cluster, s).finally(() => reading.leave()),
      ),
    );
    for (const c of containers)
      log.info(
        logSafe(
          `${c.service}: containers ${c.containers.join(', ') || '(none)'}${c.asIs ? ' (a registered revision, deployed as it is)' : ''}.`,
        ),
      );
    return assignLines(containers, opts.images, opts.environment);
  });

  const batched = batchingEcsApi(api, {
    clock,
    participants: names.length,
    maxWaitMs: opts.batchWaitMs,
    signal: opts.signal,
  });
  const stop = new AbortController();
  // Every service's follow listens on it (one listener per sleep and per call in flight).
  setMaxListeners(0, stop.signal);
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  setMaxListeners(0, signal);
  // Registering alone changes no service: no deployment to record with `deploy: false`.
  const startLine = new StartLine(names.length, () =>
    opts.deploy === false ? undefined : opts.beforeChange?.(),
  );
  let failedService: string | undefined;
  // A cancel (or another service's failure) must not start a change: a call made after the
  // run's signal is aborted is not aborted itself, so check before each change.
  const changing: EcsApi = {
    ...batched.api,
    registerTaskDefinition: (input) => {
      signal.throwIfAborted();
      return batched.api.registerTaskDefinition(input);
    },
    updateService: (input) => {
      signal.throwIfAborted();
      return batched.api.updateService(input);
    },
  };

  const outcomes = await Promise.all(
    opts.services.map(async (spec): Promise<Outcome> => {
      const facts: Outcome['facts'] = { started: false };
      let arrived = false;
      const lines = assigned.get(spec.service);
      try {
        const result = await deploy({
          api: changing,
          cluster: opts.cluster,
          service: spec.service,
          source: spec.source,
          images: lines?.images ?? new Map(),
          environment: lines?.environment ?? new Map(),
          strategy: opts.strategy,
          bakeTimeMinutes: opts.bakeTimeMinutes,
          desiredCount: opts.desiredCount,
          waitUntil: opts.waitUntil,
          timeoutMs: opts.timeoutMs,
          dryRun: opts.dryRun,
          deploy: opts.deploy,
          provenance: opts.provenance,
          log: serviceLog(log, spec.service),
          signal,
          clock,
          intervalMs: opts.intervalMs,
          deregistrationDelayMs: opts.deregistrationDelayMs,
          onFact: (name, value) => {
            if (name === 'task-definition-arn') facts.taskDefinitionArn = value;
            if (name === 'previous-task-definition-arn') facts.previousTaskDefinitionArn = value;
          },
          beforeRegister: () => {
            arrived = true;
            return startLine.arrive();
          },
          onDeploymentStarted: () => {
            facts.started = true;
          },
        });
        if (!arrived) startLine.leftEarly();
        if (FAILED.has(result.status) && !failedService) {
          failedService = spec.service;
          stop.abort(new ReleaseStopped(spec.service));
        }
        return { service: spec.service, result, facts };
      } catch (error) {
        if (!arrived) startLine.leftEarly(error);
        else if (!isOurs(error) && !opts.signal?.aborted && !failedService) {
          failedService = spec.service;
          stop.abort(new ReleaseStopped(spec.service));
        }
        return { service: spec.service, error, facts };
      } finally {
        batched.leave();
      }
    }),
  );
  if (opts.signal?.aborted)
    throw cancelledWhileFollowing(opts.signal.reason, outcomes, clock.now() - startedAt);
  // A mistake found in one service held every other before registering: nothing was changed.
  if (startLine.failure !== undefined) throw startLine.failure;

  const services = outcomes.map((o) => serviceResult(o, failedService));
  if (failedService && !opts.dryRun && opts.deploy !== false) {
    try {
      await rollBackChanged(opts, services, failedService, clock);
    } catch (error) {
      if (!opts.signal?.aborted) throw error;
      throw cancelledWhileRollingBack(
        opts.signal.reason,
        services,
        failedService,
        clock.now() - startedAt,
      );
    }
  }
  const status = releaseStatus(services, failedService, opts);
  return {
    status,
    reason: releaseReason(status, services, failedService),
    failedService,
    services,
    startedAt,
    durationMs: clock.now() - startedAt,
  };
}

/** What a cancel during the rollouts left: the services updated go on rolling out in ECS. */
function cancelledWhileFollowing(
  reason: unknown,
  outcomes: Outcome[],
  durationMs: number,
): ReleaseCancelledError {
  const services = outcomes.map((o): ReleaseServiceResult => {
    const r = serviceResult(o, undefined);
    if (o.result && !(o.error instanceof CancelledError)) return r;
    const from = shortTaskDefinition(r.previousTaskDefinitionArn);
    if (r.changed)
      return {
        ...r,
        status: 'in-progress',
        reason: `Cancelled while ${r.service} rolled out from ${from} to ${shortTaskDefinition(r.taskDefinitionArn)}: the deployment goes on in ECS, no longer followed and not rolled back.`,
      };
    return {
      ...r,
      status: 'unchanged',
      reason: `Cancelled before ${r.service} was updated: it stays on ${from}.`,
    };
  });
  const cancel = errorMessage(reason) || 'the run was cancelled';
  const moving = services.filter((s) => s.changed && s.status === 'in-progress');
  const unchanged = services.filter((s) => !s.changed).map((s) => s.service);
  const message = moving.length
    ? `${cancel} while following the release: ${moving
        .map(
          (s) =>
            `${s.service} (${shortTaskDefinition(s.previousTaskDefinitionArn)} → ${shortTaskDefinition(s.taskDefinitionArn)})`,
        )
        .join(
          ', ',
        )} ${moving.length === 1 ? 'goes' : 'go'} on rolling out in ECS, no longer followed and not rolled back.${unchanged.length ? ` Unchanged: ${unchanged.join(', ')}.` : ''}`
    : `${cancel} before any service was updated: every service stays on the revision it ran.`;
  return new ReleaseCancelledError(logSafe(message, 2000), services, durationMs);
}

/** What a cancel during the release's rollback left: the rollbacks started go on in ECS. */
function cancelledWhileRollingBack(
  reason: unknown,
  services: ReleaseServiceResult[],
  failedService: string,
  durationMs: number,
): ReleaseCancelledError {
  const cancel = errorMessage(reason) || 'the run was cancelled';
  const unfinished = services.filter((s) => needsRollback(s) && !s.rollback);
  for (const s of unfinished)
    s.reason = `${s.reason} Cancelled while it was rolled back to ${shortTaskDefinition(s.previousTaskDefinitionArn)}: not followed to the end.`;
  const message = unfinished.length
    ? `${cancel} while rolling back after ${failedService} failed: ${unfinished
        .map((s) => `${s.service} (to ${shortTaskDefinition(s.previousTaskDefinitionArn)})`)
        .join(
          ', ',
        )} ${unfinished.length === 1 ? 'goes' : 'go'} on rolling back in ECS, no longer followed.`
    : `${cancel} after ${failedService} failed and every changed service was rolled back.`;
  return new ReleaseCancelledError(logSafe(message, 2000), services, durationMs);
}

function serviceResult(o: Outcome, failedService: string | undefined): ReleaseServiceResult {
  const taskDefinitionArn = o.result?.taskDefinitionArn ?? o.facts.taskDefinitionArn;
  const previous = o.result?.previousTaskDefinitionArn ?? o.facts.previousTaskDefinitionArn;
  const base = {
    service: o.service,
    changed: o.facts.started && !!taskDefinitionArn && !!previous && taskDefinitionArn !== previous,
    taskDefinitionArn: o.result?.taskDefinitionArn ?? o.facts.taskDefinitionArn,
    previousTaskDefinitionArn:
      o.result?.previousTaskDefinitionArn ?? o.facts.previousTaskDefinitionArn,
  };
  if (o.result)
    return { ...base, status: o.result.status, reason: o.result.reason, deploy: o.result };
  if (o.error instanceof ReleaseStopped)
    return {
      ...base,
      status: 'stopped',
      reason: `Stopped following ${o.service}: ${failedService ?? o.error.failedService} failed.`,
    };
  if (o.error instanceof ReleaseNotStarted)
    return {
      ...base,
      status: 'unchanged',
      reason: 'Nothing was registered: another service failed first.',
    };
  return { ...base, status: 'failed', reason: logSafe(errorMessage(o.error), 500) };
}

function isOurs(error: unknown): boolean {
  return error instanceof ReleaseStopped || error instanceof ReleaseNotStarted;
}

/** True when the release moved the service to another revision, and ECS did not already take it back. */
function needsRollback(s: ReleaseServiceResult): boolean {
  return s.changed && s.status !== 'rolled-back';
}

async function rollBackChanged(
  opts: ReleaseOptions,
  services: ReleaseServiceResult[],
  failedService: string,
  clock: Clock,
): Promise<void> {
  const toRollBack = services.filter(needsRollback);
  if (!toRollBack.length) return;
  const batched = batchingEcsApi(opts.api, {
    clock,
    participants: toRollBack.length,
    maxWaitMs: opts.batchWaitMs,
    signal: opts.signal,
  });
  await opts.log.group(`Rolling back ${toRollBack.map((s) => s.service).join(', ')}`, () =>
    Promise.all(
      toRollBack.map(async (s) => {
        const log = serviceLog(opts.log, s.service);
        try {
          const result = await rollback({
            api: batched.api,
            cluster: opts.cluster,
            service: s.service,
            to: { kind: 'arn', value: s.previousTaskDefinitionArn as string },
            reason: `${failedService} failed`,
            waitUntil: 'stable',
            timeoutMs: opts.rollbackTimeoutMs ?? opts.timeoutMs,
            log,
            signal: opts.signal,
            clock,
            intervalMs: opts.intervalMs,
            deregistrationDelayMs: opts.deregistrationDelayMs,
          });
          s.rollback = result;
          const ok = result.status === 'succeeded' || result.status === 'unchanged';
          s.status = ok ? 'rolled-back' : 'failed';
          s.reason = ok
            ? `${s.service === failedService ? `${s.reason} ` : ''}Rolled back to ${shortTaskDefinition(s.previousTaskDefinitionArn)}${s.service === failedService ? '' : ` because ${failedService} failed`}.`
            : `${s.reason} Rolling it back failed: ${result.reason}`;
        } catch (error) {
          opts.signal?.throwIfAborted();
          s.status = 'failed';
          s.reason = `${s.reason} Rolling it back failed: ${logSafe(errorMessage(error), 300)}`;
        } finally {
          batched.leave();
        }
        log.info(logSafe(s.reason));
      }),
    ),
  );
  opts.signal?.throwIfAborted();
}

function releaseStatus(
  services: ReleaseServiceResult[],
  failedService: string | undefined,
  opts: ReleaseOptions,
): DeployStatus {
  const all = (status: ReleaseServiceStatus): boolean => services.every((s) => s.status === status);
  if (opts.dryRun) return all('unchanged') ? 'unchanged' : 'dry-run';
  if (failedService) {
    // Back: every service the release moved to another revision is on its previous one again.
    const back = services.every((s) => !s.changed || s.status === 'rolled-back');
    return back ? 'rolled-back' : 'failed';
  }
  if (all('unchanged')) return 'unchanged';
  if (opts.deploy === false) return 'registered';
  if (services.some((s) => s.status === 'in-progress')) return 'in-progress';
  return 'succeeded';
}

function releaseReason(
  status: DeployStatus,
  services: ReleaseServiceResult[],
  failedService: string | undefined,
): string {
  const failed = services.find((s) => s.service === failedService);
  const rolledBack = services.filter((s) => s.rollback && s.status === 'rolled-back');
  const unchanged = services.filter((s) => s.status === 'unchanged').map((s) => s.service);
  const untouched = unchanged.length ? ` Unchanged: ${unchanged.join(', ')}.` : '';
  if (failed) {
    const why = failed.deploy?.reason ?? failed.reason;
    const back = rolledBack.filter((s) => s.service !== failedService);
    const stillBad = services.filter((s) => s.changed && s.status !== 'rolled-back');
    return `${failed.service} failed: ${why}${
      back.length
        ? ` Rolled back ${back.map((s) => `${s.service} to ${shortTaskDefinition(s.previousTaskDefinitionArn)}`).join(', ')}.`
        : ''
    }${
      failed.rollback && failed.status === 'rolled-back'
        ? ` ${failed.service} is back on ${shortTaskDefinition(failed.previousTaskDefinitionArn)}.`
        : ''
    }${
      stillBad.length
        ? ` Not back on their previous revision: ${stillBad.map((s) => `${s.service} (${s.rollback?.reason ?? s.reason})`).join('; ')}`
        : ''
    }${untouched}`;
  }
  const changed = services.filter((s) => s.status !== 'unchanged');
  switch (status) {
    case 'unchanged':
      return `Every service already runs what the release renders; nothing to deploy.`;
    case 'dry-run':
      return `Dry run: ${changed.map((s) => s.service).join(', ')} would change; nothing was registered.${untouched}`;
    case 'registered':
      return `Registered ${changed.map((s) => shortTaskDefinition(s.taskDefinitionArn)).join(', ')}; no service was updated.${untouched}`;
    case 'in-progress':
      return `Started deploying ${changed.map((s) => `${s.service} (${shortTaskDefinition(s.taskDefinitionArn)})`).join(', ')}; not waiting for it.${untouched}`;
    default:
      return `Released ${changed.map((s) => `${s.service} (${shortTaskDefinition(s.taskDefinitionArn)})`).join(', ')}: deployed and stable.${untouched}`;
  }
}
