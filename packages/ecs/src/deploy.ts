import type {
  DeploymentConfiguration,
  DeploymentStrategy,
  RegisterTaskDefinitionCommandInput,
  ServiceEvent,
  Tag,
  TaskDefinition,
} from '@aws-sdk/client-ecs';
import { ActionFailure, errorMessage } from '../../kit/src/errors';
import { logSafe } from '../../kit/src/log-text';
import { systemClock, type Clock } from '../../kit/src/poll';
import type { EcsApi } from './api';
import type { Service } from '@aws-sdk/client-ecs';
import {
  dryRunAppSpec,
  plannedCodeDeployCall,
  prepareCodeDeploy,
  startAndFollow,
  type CodeDeployFacts,
  type CodeDeployOptions,
} from './codedeploy/rollout';
import { TestTrafficWaitError } from './codedeploy/group';
import { failureReason, statusOf } from './deploy-outcome';
import { followAndExplain } from './follow';
import { formatCounts, type RolloutState, type StageSpan } from './rollout';
import { describeService, NoRunningRevisionError, type DeployLog } from './service';
import { unknownTaskDefinitionFields, withoutFields } from './sdk-fields';
import type { StoppedTask } from './stopped-tasks';
import {
  describeChange,
  diffTaskDefinitions,
  fromDescribed,
  loadTaskDefinitionJson,
  provenanceTags,
  renderTaskDefinition,
  sameTaskDefinition,
  shortTaskDefinition,
  UnknownTaskDefinitionError,
  type DefinitionChange,
  type SourceTaskDefinition,
} from './task-definition';

/**
 * How the action ended. `in-progress`: not waited for; `dry-run`: nothing was changed;
 * `registered`: the revision was registered and the service left as it was.
 */
export type DeployStatus =
  | 'succeeded'
  | 'failed'
  | 'rolled-back'
  | 'timed-out'
  /** Following gave up on transient errors: the outcome could not be read. */
  | 'unknown'
  | 'unchanged'
  | 'in-progress'
  | 'registered'
  /** A CodeDeploy deployment waits in `Ready` with test traffic on green (`test-traffic`). */
  | 'ready'
  | 'dry-run';

/** Where the revision a deploy rolls out comes from. */
export type DeploySource =
  | { kind: 'file'; path: string; json: unknown }
  | { kind: 'current' }
  /** A registered revision (ARN or `family:revision`): deployed as it is, nothing is registered. */
  | { kind: 'registered'; reference: string };

/** Options of {@link deploy}. */
export interface DeployOptions {
  api: EcsApi;
  cluster?: string;
  service: string;
  /**
   * The task definition JSON read from the repository, `current` to start from the running
   * revision, or a revision already registered (ARN or `family:revision`), deployed as it is.
   */
  source: DeploySource;
  images: Map<string, string>;
  environment: Map<string, Map<string, string>>;
  strategy?: DeploymentStrategy;
  bakeTimeMinutes?: number;
  desiredCount?: number;
  /** `test-traffic`: CodeDeploy deployments only, until green serves the test listener in `Ready`. */
  waitUntil: 'stable' | 'traffic-shifted' | 'test-traffic' | 'none';
  timeoutMs: number;
  /** How a service with the CODE_DEPLOY deployment controller is deployed (its client and names). */
  codeDeploy?: CodeDeployOptions;
  dryRun: boolean;
  /** False: register the rendered revision and stop there (the service is not updated). */
  deploy?: boolean;
  provenance: { gitSha?: string; workflowRun?: string };
  log: DeployLog;
  signal?: AbortSignal;
  clock?: Clock;
  /** Called as soon as each fact is known, so outputs can be set early. */
  onFact?: (
    name:
      | 'task-definition-arn'
      | 'previous-task-definition-arn'
      | 'service-deployment-arn'
      | 'codedeploy-deployment-id',
    value: string,
  ) => void;
  /** Called once everything is validated, just before the first change (registration). */
  beforeChange?: () => Promise<void> | void;
  /**
   * Called once everything is validated, just before registering, also with `deploy: false` (a
   * release waits there until every service is validated; throwing stops this deploy unchanged).
   */
  beforeRegister?: () => Promise<void> | void;
  /** Called right after UpdateService started the deployment. */
  onDeploymentStarted?: () => Promise<void> | void;
  /** Polling cadence for tests and benchmarks (see followRollout). */
  intervalMs?: number;
  /** Reads the deregistration delay of target groups (ms), to look slowly while old tasks drain. */
  deregistrationDelayMs?: (targetGroupArns: string[]) => Promise<number | undefined>;
}

/** What {@link deploy} did and saw. */
export interface DeployResult {
  status: DeployStatus;
  reason: string;
  taskDefinitionArn?: string;
  previousTaskDefinitionArn?: string;
  serviceDeploymentArn?: string;
  changes: DefinitionChange[];
  unknownFields: string[];
  readOnlyDropped: string[];
  rendered: RegisterTaskDefinitionCommandInput;
  plannedCalls: string[];
  timeline: StageSpan[];
  events: ServiceEvent[];
  stoppedTasks: StoppedTask[];
  state?: RolloutState;
  /** The CodeDeploy side, for a service with the CODE_DEPLOY deployment controller. */
  codeDeploy?: CodeDeployFacts;
  /** The service's desired count and the one asked for, when they differ and the service is updated. */
  desiredCount?: { from: number; to: number };
  startedAt: number;
  durationMs: number;
}

/** The CodeDeploy options, in the words a warning uses, that a service on ECS deployments does not use. */
const CODEDEPLOY_ONLY = [
  ['application', 'application'],
  ['deploymentGroup', 'deployment group'],
  ['config', 'deployment configuration'],
  ['appSpec', 'AppSpec'],
] as const;

function plannedDeploymentConfiguration(
  current: DeploymentConfiguration | undefined,
  strategy: DeploymentStrategy | undefined,
  bakeTimeMinutes: number | undefined,
): DeploymentConfiguration | undefined {
  const changed =
    (strategy !== undefined && strategy !== (current?.strategy ?? 'ROLLING')) ||
    (bakeTimeMinutes !== undefined && bakeTimeMinutes !== current?.bakeTimeInMinutes);
  if (!changed) return undefined;
  return {
    ...current,
    ...(strategy !== undefined ? { strategy } : {}),
    ...(bakeTimeMinutes !== undefined ? { bakeTimeInMinutes: bakeTimeMinutes } : {}),
  };
}

/**
 * Renders, registers and rolls out a new revision of a service's task definition, following the
 * rollout until it settles. Returns what happened; throws a ConfigurationError for user
 * mistakes found on the way (unknown service or container) before anything is registered.
 */
export async function deploy(opts: DeployOptions): Promise<DeployResult> {
  const clock = opts.clock ?? systemClock;
  const startedAt = clock.now();
  const deadline = startedAt + opts.timeoutMs;
  const { api, log } = opts;

  const { service, running, source, registeredArn } = await log.group(
    'Reading the service',
    async () => {
      const service = await describeService(api, opts.cluster, opts.service);
      const previousArn = service.taskDefinition;
      let running: TaskDefinition | undefined;
      let runningTags: { key?: string; value?: string }[] = [];
      if (previousArn) {
        const out = await api.describeTaskDefinition({
          taskDefinition: previousArn,
          include: ['TAGS'],
        });
        running = out.taskDefinition;
        runningTags = out.tags ?? [];
        opts.onFact?.('previous-task-definition-arn', previousArn);
      }
      log.info(
        `Service ${opts.service} runs ${shortTaskDefinition(previousArn)} (${service.runningCount ?? 0}/${service.desiredCount ?? 0} tasks, ${
          isCodeDeploy(service)
            ? 'CodeDeploy blue/green'
            : (service.deploymentConfiguration?.strategy ?? 'ROLLING')
        }).`,
      );
      let source: SourceTaskDefinition;
      let registeredArn: string | undefined;
      if (opts.source.kind === 'registered') {
        const described = await describeRegistered(api, opts.source.reference);
        registeredArn = described.arn;
        source = fromDescribed(described.taskDefinition, described.tags);
        log.info(
          `Deploying the registered revision ${shortTaskDefinition(registeredArn)} as it is.`,
        );
      } else if (opts.source.kind === 'current') {
        if (!running)
          throw new NoRunningRevisionError(
            `service \`${opts.service}\` has no task definition to start from.`,
          );
        source = fromDescribed(running, runningTags);
      } else {
        source = loadTaskDefinitionJson(
          opts.source.json,
          `Task definition file \`${opts.source.path}\``,
        );
      }
      return { service, running, source, registeredArn };
    },
  );
  const previousArn = service.taskDefinition;

  const unknownFields = unknownTaskDefinitionFields(source.definition);
  if (unknownFields.length) {
    log.warning(
      `The task definition has fields this version of shipkit's AWS SDK does not know; they are not sent: ${unknownFields
        .map((f) => `\`${f}\``)
        .join(', ')}.`,
    );
  }
  if (source.readOnlyDropped.length)
    log.debug(`Dropped read-only fields: ${source.readOnlyDropped.join(', ')}.`);
  const cleaned: SourceTaskDefinition = {
    ...source,
    definition: withoutFields(source.definition, unknownFields),
  };
  const sourceName =
    opts.source.kind === 'file'
      ? `task definition file \`${opts.source.path}\``
      : `the running revision ${shortTaskDefinition(previousArn)}`;
  // A registered revision is deployed as it is: nothing is rendered into it.
  const rendered = registeredArn
    ? { ...cleaned.definition, tags: cleaned.tags }
    : renderTaskDefinition(cleaned, {
        images: opts.images,
        environment: opts.environment,
        tags: provenanceTags({ ...opts.provenance, images: opts.images }),
        source: sourceName,
      });
  const changes = diffTaskDefinitions(running, rendered);
  const unchangedDefinition = registeredArn
    ? registeredArn === previousArn
    : !!running && sameTaskDefinition(rendered, running);
  // Rolling deployments have no bake: a bake time for a service that stays rolling is not sent
  // (it would change nothing but restart the tasks), and the log says so.
  const staysRolling =
    !isCodeDeploy(service) &&
    (opts.strategy ?? service.deploymentConfiguration?.strategy ?? 'ROLLING') === 'ROLLING';
  if (opts.bakeTimeMinutes !== undefined && staysRolling)
    log.warning(
      `Service ${opts.service} uses rolling deployments, which have no bake time (only blue/green, linear and canary deployments bake): the bake time given is not used.`,
    );
  const bakeTimeMinutes = staysRolling ? undefined : opts.bakeTimeMinutes;
  const deploymentConfiguration = plannedDeploymentConfiguration(
    service.deploymentConfiguration,
    opts.strategy,
    bakeTimeMinutes,
  );
  const countChange = opts.desiredCount !== undefined && opts.desiredCount !== service.desiredCount;
  const base = {
    previousTaskDefinitionArn: previousArn,
    changes,
    unknownFields,
    readOnlyDropped: source.readOnlyDropped,
    rendered,
    timeline: [] as StageSpan[],
    events: [] as ServiceEvent[],
    stoppedTasks: [] as StoppedTask[],
    // Registering only (`deploy: false`) changes no count.
    ...(countChange && opts.deploy !== false
      ? { desiredCount: { from: service.desiredCount ?? 0, to: opts.desiredCount as number } }
      : {}),
    startedAt,
  };

  const codeDeploy = isCodeDeploy(service)
    ? await log.group('Reading the CodeDeploy deployment group', () =>
        prepareCodeDeploy(requireCodeDeploy(opts.codeDeploy), service, {
          testTraffic: opts.waitUntil === 'test-traffic',
          strategy: opts.strategy,
          bakeTimeMinutes: opts.bakeTimeMinutes,
          desiredCount: opts.desiredCount,
          log,
        }),
      )
    : undefined;
  if (!codeDeploy && opts.waitUntil === 'test-traffic')
    throw new TestTrafficWaitError(
      `service \`${opts.service}\` uses ECS deployments; only a CodeDeploy blue/green deployment stops with test traffic on green.`,
    );
  if (!codeDeploy) {
    const given = CODEDEPLOY_ONLY.filter(([option]) => opts.codeDeploy?.[option] !== undefined);
    if (given.length)
      log.warning(
        `Service ${opts.service} uses ECS deployments, not CodeDeploy: the CodeDeploy ${given.map(([, words]) => words).join(', ')} given ${given.length > 1 ? 'are' : 'is'} not used.`,
      );
  }

  const plannedCalls: string[] = [];
  if (!unchangedDefinition && !registeredArn) {
    plannedCalls.push(
      `RegisterTaskDefinition family=${rendered.family} with ${rendered.containerDefinitions?.length ?? 0} container(s) and ${rendered.tags?.length ?? 0} tag(s)`,
    );
  }
  if (opts.deploy === false) {
    // Registering only: no UpdateService and no CodeDeploy deployment.
  } else if (codeDeploy) {
    plannedCalls.push(plannedCodeDeployCall(codeDeploy));
  } else if (!unchangedDefinition || deploymentConfiguration || countChange) {
    plannedCalls.push(
      `UpdateService ${opts.cluster ? `${opts.cluster}/` : ''}${opts.service} taskDefinition=${
        unchangedDefinition
          ? shortTaskDefinition(previousArn)
          : registeredArn
            ? shortTaskDefinition(registeredArn)
            : `${rendered.family}:<new revision>`
      } forceNewDeployment=true${countChange ? ` desiredCount=${opts.desiredCount}` : ''}${
        deploymentConfiguration
          ? ` strategy=${deploymentConfiguration.strategy ?? 'ROLLING'}${deploymentConfiguration.bakeTimeInMinutes !== undefined ? ` bakeTimeInMinutes=${deploymentConfiguration.bakeTimeInMinutes}` : ''}`
          : ''
      }`,
    );
  }

  if (
    unchangedDefinition &&
    (opts.deploy === false || (!deploymentConfiguration && !countChange))
  ) {
    const reason = registeredArn
      ? `The service already runs ${shortTaskDefinition(previousArn)}; nothing to deploy.`
      : `The rendered task definition equals the running revision ${shortTaskDefinition(previousArn)}; nothing to deploy.`;
    log.info(reason);
    if (previousArn) opts.onFact?.('task-definition-arn', previousArn);
    return {
      ...base,
      status: 'unchanged',
      reason,
      taskDefinitionArn: previousArn,
      plannedCalls,
      durationMs: clock.now() - startedAt,
    };
  }

  if (changes.length) {
    log.info(
      `${opts.dryRun ? 'Would change' : 'Changes'} from ${running ? shortTaskDefinition(previousArn) : 'nothing running'}:`,
    );
    for (const change of changes) log.info(`  ${logSafe(describeChange(change))}`);
  }

  const dryRunSpec =
    codeDeploy && opts.dryRun
      ? dryRunAppSpec(requireCodeDeploy(opts.codeDeploy), codeDeploy)
      : undefined;
  if (opts.dryRun) {
    log.info('Dry run: nothing is registered or updated. Would call:');
    for (const call of plannedCalls) log.info(`  ${call}`);
    if (dryRunSpec) for (const line of dryRunSpec.split('\n')) log.info(`    ${logSafe(line)}`);
    return {
      ...base,
      ...(codeDeploy && dryRunSpec
        ? {
            codeDeploy: {
              application: codeDeploy.target.application,
              deploymentGroup: codeDeploy.target.deploymentGroup,
              config: codeDeploy.target.config ?? codeDeploy.group.deploymentConfigName,
              appSpec: dryRunSpec,
              lifecycleEvents: [],
            },
          }
        : {}),
      status: 'dry-run',
      reason: `Dry run: ${changes.length} change(s) from ${shortTaskDefinition(previousArn)}${registeredArn ? ` to ${shortTaskDefinition(registeredArn)}` : ''}; nothing was ${registeredArn ? 'updated' : 'registered'}.`,
      plannedCalls,
      durationMs: clock.now() - startedAt,
    };
  }

  await opts.beforeRegister?.();
  // Registering alone changes no service: no deployment to record.
  if (opts.deploy !== false) await opts.beforeChange?.();
  const taskDefinitionArn = await log.group('Registering the task definition', async () => {
    if (registeredArn) {
      log.info(`Nothing to register: deploying ${shortTaskDefinition(registeredArn)}.`);
      return registeredArn;
    }
    if (unchangedDefinition && previousArn) {
      log.info(
        `The task definition is unchanged; redeploying ${shortTaskDefinition(previousArn)}.`,
      );
      return previousArn;
    }
    const out = await api.registerTaskDefinition(rendered);
    const arn = out.taskDefinition?.taskDefinitionArn;
    if (!arn)
      throw new ActionFailure('ECS RegisterTaskDefinition returned no task definition ARN.');
    log.info(`Registered ${shortTaskDefinition(arn)}.`);
    return arn;
  });
  opts.onFact?.('task-definition-arn', taskDefinitionArn);

  if (opts.deploy === false) {
    const reason = `Registered ${shortTaskDefinition(taskDefinitionArn)}; ${opts.service} was not updated and still runs ${shortTaskDefinition(previousArn)}.`;
    log.info(reason);
    return {
      ...base,
      status: 'registered',
      reason,
      taskDefinitionArn,
      plannedCalls,
      durationMs: clock.now() - startedAt,
    };
  }
  if (codeDeploy) {
    const run = await startAndFollow({
      cd: requireCodeDeploy(opts.codeDeploy),
      prepared: codeDeploy,
      ecs: api,
      cluster: opts.cluster,
      service: opts.service,
      taskDefinitionArn,
      previousTaskDefinitionArn: previousArn,
      waitUntil: opts.waitUntil,
      timeoutMs: opts.timeoutMs,
      deadline,
      startedAt,
      log,
      signal: opts.signal,
      clock,
      intervalMs: opts.intervalMs,
      onDeploymentId: (id) => opts.onFact?.('codedeploy-deployment-id', id),
      onDeploymentStarted: opts.onDeploymentStarted,
    });
    return {
      ...base,
      status: run.status,
      reason: run.reason,
      taskDefinitionArn,
      plannedCalls,
      timeline: run.timeline,
      stoppedTasks: run.stoppedTasks,
      state: run.state,
      codeDeploy: run.facts,
      durationMs: clock.now() - startedAt,
    };
  }
  // `test-traffic` was refused above for a service that is not deployed by CodeDeploy.
  const waitUntil = opts.waitUntil === 'test-traffic' ? 'stable' : opts.waitUntil;

  const updated = await api.updateService({
    cluster: opts.cluster,
    service: opts.service,
    taskDefinition: taskDefinitionArn,
    forceNewDeployment: true,
    ...(countChange ? { desiredCount: opts.desiredCount } : {}),
    ...(deploymentConfiguration ? { deploymentConfiguration } : {}),
  });
  let serviceDeploymentArn = updated.service?.currentServiceDeployment;
  if (!serviceDeploymentArn)
    serviceDeploymentArn = await findNewServiceDeployment(api, opts, startedAt, log);
  if (serviceDeploymentArn) opts.onFact?.('service-deployment-arn', serviceDeploymentArn);
  log.info(
    `Started the deployment of ${shortTaskDefinition(taskDefinitionArn)} to ${opts.service}${serviceDeploymentArn ? ` (${serviceDeploymentArn.split('/').pop()})` : ''}.`,
  );
  await opts.onDeploymentStarted?.();

  if (waitUntil === 'none') {
    return {
      ...base,
      status: 'in-progress',
      reason: `The deployment of ${shortTaskDefinition(taskDefinitionArn)} started; not waiting for it.`,
      taskDefinitionArn,
      serviceDeploymentArn,
      plannedCalls,
      durationMs: clock.now() - startedAt,
    };
  }

  const breaker = service.deploymentConfiguration?.deploymentCircuitBreaker;
  const circuitBreakerRollback = !!breaker?.enable && !!breaker.rollback;
  const followed = await followAndExplain(
    {
      api,
      cluster: opts.cluster,
      service: opts.service,
      serviceDeploymentArn,
      strategy: deploymentConfiguration?.strategy ?? service.deploymentConfiguration?.strategy,
      taskDefinitionArn,
      waitUntil,
      explainWith: taskDefinitionArn,
      circuitBreakerRollback,
      deregistrationDelayMs: opts.deregistrationDelayMs,
      deadline,
      startedAt,
      log,
      signal: opts.signal,
      clock,
      intervalMs: opts.intervalMs,
    },
    'Following the rollout',
  );
  const status = statusOf(followed);
  const stoppedTasks = followed.stoppedTasks;
  const reason =
    status === 'succeeded'
      ? followed.state.phase === 'traffic-shifted'
        ? `Production traffic is on ${shortTaskDefinition(taskDefinitionArn)}; the bake has begun.`
        : `${shortTaskDefinition(taskDefinitionArn)} is deployed and stable${formatCounts(followed.state.counts) ? ` (${formatCounts(followed.state.counts)})` : ''}.`
      : failureReason({
          status,
          taskDefinitionArn,
          previousTaskDefinitionArn: previousArn,
          followed,
          stoppedTasks,
          circuitBreakerRollback,
          timeoutMs: opts.timeoutMs,
        });
  return {
    ...base,
    status,
    reason,
    taskDefinitionArn,
    serviceDeploymentArn,
    plannedCalls,
    timeline: followed.timeline,
    events: followed.events,
    stoppedTasks,
    state: followed.state,
    durationMs: clock.now() - startedAt,
  };
}

async function findNewServiceDeployment(
  api: EcsApi,
  opts: DeployOptions,
  startedAt: number,
  log: DeployLog,
): Promise<string | undefined> {
  try {
    const out = await api.listServiceDeployments({
      cluster: opts.cluster,
      service: opts.service,
      createdAt: { after: new Date(startedAt - 5000) },
    });
    const newest = [...(out.serviceDeployments ?? [])].sort(
      (a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0),
    )[0];
    return newest?.serviceDeploymentArn;
  } catch (error) {
    log.debug(
      `ListServiceDeployments failed (${logSafe(errorMessage(error))}); following the service's deployments instead.`,
    );
    return undefined;
  }
}

/** Describes a registered revision asked for by reference; one that does not exist is a configuration mistake. */
export async function describeRegistered(
  api: EcsApi,
  reference: string,
): Promise<{ arn: string; taskDefinition: TaskDefinition; tags: Tag[] }> {
  let out;
  try {
    out = await api.describeTaskDefinition({ taskDefinition: reference, include: ['TAGS'] });
  } catch (error) {
    if ((error as { name?: string }).name === 'ClientException')
      throw new UnknownTaskDefinitionError(reference);
    throw error;
  }
  const arn = out.taskDefinition?.taskDefinitionArn;
  if (!out.taskDefinition || !arn) throw new UnknownTaskDefinitionError(reference);
  return { arn, taskDefinition: out.taskDefinition, tags: out.tags ?? [] };
}

function isCodeDeploy(service: Service): boolean {
  return service.deploymentController?.type === 'CODE_DEPLOY';
}

function requireCodeDeploy(cd: CodeDeployOptions | undefined): CodeDeployOptions {
  if (!cd)
    throw new ActionFailure(
      'The service is deployed by CodeDeploy, and no CodeDeploy client was given.',
    );
  return cd;
}
