// A deployment through CodeDeploy (a service whose deployment controller is CODE_DEPLOY):
// checks before anything is registered, then CreateDeployment with the AppSpec and the follow
// through the shared loop with the CodeDeploy status reader, and the sentence that explains it.
import type { DeploymentGroupInfo } from '@aws-sdk/client-codedeploy';
import type { Service } from '@aws-sdk/client-ecs';
import { ActionFailure, ConfigurationError } from '../../../kit/src/errors';
import { AppSpecFileError, NotForCodeDeployError } from './errors';
import { formatDuration } from '../../../kit/src/duration';
import { logSafe, parenthetical } from '../../../kit/src/log-text';
import type { Clock } from '../../../kit/src/poll';
import type { EcsApi } from '../api';
import { followAndExplain, isSuccess, unreadableSentence } from '../follow';
import { formatCounts, type RolloutState, type StageSpan } from '../rollout';
import type { DeployLog } from '../service';
import { stoppedOnItsOwn, summarizeStoppedTasks, type StoppedTask } from '../stopped-tasks';
import { shortTaskDefinition } from '../task-definition';
import type { CodeDeployApi } from './api';
import { fillAppSpec, type AppSpecFill } from './appspec';
import {
  checkTestTrafficWait,
  defaultCodeDeployNames,
  readDeploymentGroup,
  type CodeDeployTarget,
} from './group';
import { codeDeployStatusReader, errorText, type EndedLifecycleEvent } from './status-reader';

/** How a service with the CODE_DEPLOY controller is deployed. */
export interface CodeDeployOptions {
  api: CodeDeployApi;
  /** Default `AppECS-<cluster>-<service>`. */
  application?: string;
  /** Default `DgpECS-<cluster>-<service>`. */
  deploymentGroup?: string;
  /** A deployment configuration name; unset keeps the group's. */
  config?: string;
  /** The user's AppSpec (hooks, extra settings), already parsed; `source` names it in messages. */
  appSpec?: { source: string; json: unknown };
  /** The region, for the console link. */
  region?: string;
  /**
   * The GitHub Deployment recorded for this deploy, read when the CodeDeploy deployment is
   * created: its id goes into the deployment's description, so the step that sends the go-ahead
   * finishes that GitHub Deployment instead of recording a second one.
   */
  githubDeploymentId?: () => number | undefined;
}

/** The description of a CodeDeploy deployment shipkit creates: the revision, and the GitHub Deployment recorded for it. */
export function codeDeployDescription(target: string, githubDeploymentId?: number): string {
  return `shipkit: ${target}${githubDeploymentId !== undefined ? `; github-deployment ${githubDeploymentId}` : ''}`;
}

/** The GitHub Deployment id {@link codeDeployDescription} wrote into a description, if any. */
export function githubDeploymentIdIn(description: string | undefined): number | undefined {
  const m = /^shipkit: .*; github-deployment ([1-9][0-9]{0,15})$/.exec(description ?? '');
  return m ? Number(m[1]) : undefined;
}

/** What the CodeDeploy side of a deploy did and saw. */
export interface CodeDeployFacts {
  application: string;
  deploymentGroup: string;
  config?: string;
  deploymentId?: string;
  consoleUrl?: string;
  /** The AppSpec sent (or that would be sent), as JSON. */
  appSpec: string;
  lifecycleEvents: EndedLifecycleEvent[];
  /** CodeDeploy's status when following ended (`Succeeded`, `Ready`, `Failed`, …). */
  status?: string;
  /** CodeDeploy's errorInformation, `CODE: message`. */
  error?: string;
  /** The share of production traffic on green last seen (percent). */
  greenPercent?: number;
  /** The deployment CodeDeploy made to roll back, when it made one. */
  rollbackDeploymentId?: string;
}

/** A CodeDeploy deployment checked and ready to start: what {@link prepareCodeDeploy} found. */
export interface PreparedCodeDeploy {
  target: CodeDeployTarget;
  group: DeploymentGroupInfo;
  fill: Omit<AppSpecFill, 'taskDefinitionArn'>;
  targetId: string;
}

const PLACEHOLDER = 'arn:aws:ecs:region:account:task-definition/family:revision';

/**
 * Everything checked before anything is registered: the application and deployment group exist
 * (GetDeploymentGroup), the group can hold a deployment at the test listener when asked, and the
 * AppSpec file can be filled in from the service's load balancer.
 */
export async function prepareCodeDeploy(
  cd: CodeDeployOptions,
  service: Service,
  opts: {
    testTraffic: boolean;
    strategy?: string;
    bakeTimeMinutes?: number;
    desiredCount?: number;
    log: DeployLog;
  },
): Promise<PreparedCodeDeploy> {
  const serviceName = service.serviceName ?? '';
  if (opts.strategy !== undefined)
    throw new NotForCodeDeployError(
      'strategy',
      `service \`${serviceName}\` is deployed by CodeDeploy; its deployment group's configuration sets how traffic moves.`,
    );
  if (opts.bakeTimeMinutes !== undefined)
    throw new NotForCodeDeployError(
      'bakeTimeMinutes',
      `service \`${serviceName}\` is deployed by CodeDeploy; the deployment group's blue termination wait keeps blue.`,
    );
  if (opts.desiredCount !== undefined)
    throw new NotForCodeDeployError(
      'desiredCount',
      `service \`${serviceName}\` is deployed by CodeDeploy; the green task set takes the service's desired count.`,
    );
  const clusterName = service.clusterArn?.split('/').pop() ?? 'default';
  const names = defaultCodeDeployNames(clusterName, serviceName);
  const target: CodeDeployTarget = {
    application: cd.application ?? names.application,
    deploymentGroup: cd.deploymentGroup ?? names.deploymentGroup,
    config: cd.config,
    defaulted: { application: !cd.application, deploymentGroup: !cd.deploymentGroup },
  };
  const group = await readDeploymentGroup(cd.api, target);
  opts.log.info(
    `Service ${serviceName} is deployed by CodeDeploy: application ${target.application}, deployment group ${target.deploymentGroup}, configuration ${target.config ?? group.deploymentConfigName ?? '(the group’s)'}.`,
  );
  if (opts.testTraffic) {
    const warning = checkTestTrafficWait(group);
    if (warning) opts.log.warning(warning);
  }
  const lb = service.loadBalancers?.[0];
  const fill = { containerName: lb?.containerName, containerPort: lb?.containerPort };
  appSpecFor(cd, { ...fill, taskDefinitionArn: PLACEHOLDER });
  return { target, group, fill, targetId: `${clusterName}:${serviceName}` };
}

function appSpecFor(cd: CodeDeployOptions, fill: AppSpecFill): { json: string; notes: string[] } {
  try {
    const filled = fillAppSpec(cd.appSpec?.json, fill);
    return { json: JSON.stringify(filled.appSpec, null, 2), notes: filled.notes };
  } catch (error) {
    if (error instanceof ConfigurationError && cd.appSpec)
      throw new AppSpecFileError(cd.appSpec.source, error.message);
    if (error instanceof ConfigurationError)
      throw new AppSpecFileError(
        '',
        `the service has no load balancer to take the container name and port of the AppSpec from (${error.message})`,
      );
    throw error;
  }
}

/** The facts of a CodeDeploy deployment before it is followed (no lifecycle event seen yet). */
export function deploymentFacts(o: {
  application: string;
  deploymentGroup: string;
  config?: string;
  deploymentId: string;
  region?: string;
  appSpec: string;
}): CodeDeployFacts {
  return {
    application: o.application,
    deploymentGroup: o.deploymentGroup,
    config: o.config,
    deploymentId: o.deploymentId,
    consoleUrl: consoleUrl(o.deploymentId, o.region),
    appSpec: o.appSpec,
    lifecycleEvents: [],
  };
}

/** The AWS console page of a CodeDeploy deployment. */
export function consoleUrl(deploymentId: string, region?: string): string {
  const r = region ?? 'us-east-1';
  return `https://${r}.console.aws.amazon.com/codesuite/codedeploy/deployments/${deploymentId}?region=${r}`;
}

/** The CodeDeploy calls a dry run would make. */
export function plannedCodeDeployCall(p: PreparedCodeDeploy): string {
  return `CreateDeployment application=${p.target.application} deploymentGroup=${p.target.deploymentGroup}${
    p.target.config ? ` config=${p.target.config}` : ''
  } with the AppSpec below`;
}

/** The AppSpec a dry run shows (with a placeholder for the revision not registered). */
export function dryRunAppSpec(cd: CodeDeployOptions, p: PreparedCodeDeploy): string {
  return appSpecFor(cd, { ...p.fill, taskDefinitionArn: '<the registered revision>' }).json;
}

/** How a followed CodeDeploy deployment ended, in the deploy's words. */
export type CodeDeployOutcome =
  'succeeded' | 'ready' | 'failed' | 'rolled-back' | 'timed-out' | 'unknown' | 'in-progress';

/** What {@link startAndFollow} returns. */
export interface CodeDeployRun {
  status: CodeDeployOutcome;
  reason: string;
  facts: CodeDeployFacts;
  timeline: StageSpan[];
  stoppedTasks: StoppedTask[];
  state?: RolloutState;
}

/**
 * Creates the CodeDeploy deployment of `taskDefinitionArn` and follows it to `waitUntil`:
 * `test-traffic` ends in `Ready` (test traffic on green, production on blue, waiting for a
 * go-ahead); `traffic-shifted` once production traffic is on green; `stable` on `Succeeded`.
 */
export async function startAndFollow(
  opts: Omit<
    FollowCodeDeployOptions,
    'api' | 'deploymentId' | 'targetId' | 'facts' | 'continued'
  > & {
    cd: CodeDeployOptions;
    prepared: PreparedCodeDeploy;
    onDeploymentId?: (id: string) => void;
    onDeploymentStarted?: () => Promise<void> | void;
  },
): Promise<CodeDeployRun> {
  const { cd, prepared, log } = opts;
  const spec = appSpecFor(cd, { ...prepared.fill, taskDefinitionArn: opts.taskDefinitionArn });
  for (const note of spec.notes) log.info(`AppSpec: ${logSafe(note)}`);
  const created = await cd.api.createDeployment({
    applicationName: prepared.target.application,
    deploymentGroupName: prepared.target.deploymentGroup,
    ...(prepared.target.config ? { deploymentConfigName: prepared.target.config } : {}),
    description: codeDeployDescription(
      shortTaskDefinition(opts.taskDefinitionArn),
      cd.githubDeploymentId?.(),
    ),
    revision: { revisionType: 'AppSpecContent', appSpecContent: { content: spec.json } },
  });
  const deploymentId = created.deploymentId;
  if (!deploymentId)
    throw new ActionFailure('CodeDeploy CreateDeployment returned no deployment id.');
  opts.onDeploymentId?.(deploymentId);
  const facts = deploymentFacts({
    application: prepared.target.application,
    deploymentGroup: prepared.target.deploymentGroup,
    config: prepared.target.config ?? prepared.group.deploymentConfigName,
    deploymentId,
    region: cd.region,
    appSpec: spec.json,
  });
  log.info(
    `Started CodeDeploy deployment ${deploymentId} of ${shortTaskDefinition(opts.taskDefinitionArn)} to ${opts.service}: ${facts.consoleUrl}`,
  );
  await opts.onDeploymentStarted?.();
  return followCodeDeploy({
    ...opts,
    api: cd.api,
    deploymentId,
    targetId: prepared.targetId,
    facts,
  });
}

/** What {@link followCodeDeploy} needs: the deployment, its ECS service and how far to follow. */
export interface FollowCodeDeployOptions {
  api: CodeDeployApi;
  deploymentId: string;
  /** `<cluster name>:<service name>`. */
  targetId: string;
  /** Facts known so far; filled in while following. */
  facts: CodeDeployFacts;
  ecs: EcsApi;
  cluster?: string;
  service: string;
  /** The green revision: its tasks that stop explain a failure. */
  taskDefinitionArn: string;
  previousTaskDefinitionArn?: string;
  /** `none`: not followed (the deployment goes on without this step). */
  waitUntil: 'stable' | 'traffic-shifted' | 'test-traffic' | 'none';
  timeoutMs: number;
  deadline: number;
  startedAt: number;
  log: DeployLog;
  signal?: AbortSignal;
  clock: Clock;
  intervalMs?: number;
  /** The deployment was created before this step, which sent it the go-ahead. */
  continued?: boolean;
}

/**
 * Follows a CodeDeploy deployment through the shared loop with the CodeDeploy status reader,
 * logging lifecycle events and traffic as they move, and says how it ended (with `waitUntil:
 * none`, at once that it goes on).
 */
export async function followCodeDeploy(opts: FollowCodeDeployOptions): Promise<CodeDeployRun> {
  const { log, facts, deploymentId } = opts;
  const target = shortTaskDefinition(opts.taskDefinitionArn);
  if (opts.waitUntil === 'none')
    return {
      status: 'in-progress',
      reason: codeDeployReason({
        status: 'in-progress',
        deploymentId,
        target,
        facts,
        state: { phase: 'in-progress', counts: {}, final: false },
        stoppedTasks: [],
        timeoutMs: opts.timeoutMs,
        continued: opts.continued,
      }),
      facts,
      timeline: [],
      stoppedTasks: [],
    };
  const reader = codeDeployStatusReader({
    api: opts.api,
    deploymentId,
    targetId: opts.targetId,
    onLifecycleEvent: (e) => {
      facts.lifecycleEvents.push(e);
      log.info(
        `lifecycle event ${logSafe(e.name, 80)}: ${logSafe(e.status, 40)}${e.durationMs !== undefined ? ` (${formatDuration(e.durationMs)})` : ''}${
          e.status === 'Failed' && e.message ? `: ${logSafe(e.message, 300)}` : ''
        }`,
      );
    },
    onTraffic: (percent) => log.info(`traffic: ${percent}% → green`),
    // Followed past the test listener, a deployment in Ready goes on only when someone else
    // sends the go-ahead, or when the group's wait time ends (and may then stop it).
    onReady:
      opts.waitUntil === 'test-traffic'
        ? undefined
        : () =>
            log.warning(
              `CodeDeploy deployment ${deploymentId} waits in Ready for a go-ahead (its deployment group waits before rerouting production traffic), and this step sends none: it goes on once ContinueDeployment is sent, or when the group's wait time ends.`,
            ),
  });
  const testTraffic = opts.waitUntil === 'test-traffic';
  const isReady = (s: RolloutState): boolean => testTraffic && s.status === 'Ready';
  const followed = await followAndExplain(
    {
      api: opts.ecs,
      cluster: opts.cluster,
      service: opts.service,
      reader,
      taskDefinitionArn: opts.taskDefinitionArn,
      waitUntil: opts.waitUntil === 'traffic-shifted' ? 'traffic-shifted' : 'stable',
      satisfied: testTraffic ? (s) => s.final || isReady(s) : undefined,
      succeeded: (s) => isSuccess(s) || isReady(s),
      explainWith: opts.taskDefinitionArn,
      // CodeDeploy decides: a stopped green task does not end the follow before its verdict.
      circuitBreakerRollback: true,
      deadline: opts.deadline,
      startedAt: opts.startedAt,
      log,
      signal: opts.signal,
      clock: opts.clock,
      intervalMs: opts.intervalMs,
    },
    'Following the CodeDeploy deployment',
  );
  const look = reader.look();
  facts.status = look.deployment?.status;
  facts.error = errorText(look.deployment);
  facts.rollbackDeploymentId = look.deployment?.rollbackInfo?.rollbackDeploymentId;
  facts.greenPercent = look.target?.taskSetsInfo?.find(
    (t) => t.taskSetLabel === 'Green',
  )?.trafficWeight;
  const state = followed.state;
  let status: CodeDeployOutcome;
  if (followed.unreadable) status = 'unknown';
  else if (followed.timedOut) status = 'timed-out';
  else if (isReady(state)) status = 'ready';
  else if (state.phase === 'succeeded' || state.phase === 'traffic-shifted')
    status = followed.endedOnCrash ? 'failed' : 'succeeded';
  else if (state.phase === 'rolled-back' || state.phase === 'rolling-back') status = 'rolled-back';
  else status = 'failed';
  const reason = codeDeployReason({
    status,
    deploymentId,
    target,
    previous: opts.previousTaskDefinitionArn,
    facts,
    state,
    stoppedTasks: followed.stoppedTasks,
    timeoutMs: opts.timeoutMs,
    unreadable: status === 'unknown' ? followed : undefined,
  });
  return {
    status,
    reason,
    facts,
    timeline: followed.timeline,
    stoppedTasks: followed.stoppedTasks,
    state,
  };
}

/** ECS's stopped reason for a task removed by scaling in (such as green's, on rollback). */
const SCALED_IN = /^Scaling activity initiated by/;

/** The sentence that says how a CodeDeploy deployment ended and, when it went wrong, why. */
export function codeDeployReason(o: {
  status: CodeDeployOutcome;
  deploymentId: string;
  target: string;
  previous?: string;
  facts: Pick<CodeDeployFacts, 'lifecycleEvents' | 'error' | 'status'>;
  state: RolloutState;
  stoppedTasks: StoppedTask[];
  timeoutMs: number;
  unreadable?: Parameters<typeof unreadableSentence>[1];
  /** The deployment was created before this step, which sent it the go-ahead. */
  continued?: boolean;
}): string {
  const what = `CodeDeploy deployment ${o.deploymentId} of ${o.target}`;
  const ended = `${what} ${o.facts.status === 'Stopped' ? 'was stopped' : 'failed'}`;
  const failedEvent = o.facts.lifecycleEvents.find((e) => e.status === 'Failed');
  const eventPart = failedEvent
    ? ` Lifecycle event ${failedEvent.name} failed${parenthetical(failedEvent.message)}.`
    : '';
  // Tasks that stopped on their own explain a failure best, then those stopped for another
  // reason (failed health checks); those scaled in when green was removed explain nothing.
  const own = o.stoppedTasks.filter(stoppedOnItsOwn);
  const notScaledIn = o.stoppedTasks.filter((t) => !SCALED_IN.test(t.stoppedReason ?? ''));
  const stopped = summarizeStoppedTasks(
    own.length ? own : notScaledIn.length ? notScaledIn : o.stoppedTasks,
  );
  const stoppedPart = stopped ? ` ${stopped}.` : '';
  const counts = formatCounts(o.state.counts);
  switch (o.status) {
    case 'succeeded':
      return o.state.phase === 'traffic-shifted'
        ? `Production traffic is on ${o.target} (${what}); blue is kept until the group's termination wait ends.`
        : `${o.target} is deployed: ${what} succeeded${counts ? ` (${counts})` : ''}.`;
    case 'ready':
      return `${what} is Ready: test traffic is on green (${o.target}) and production traffic on blue${
        o.previous ? ` (${shortTaskDefinition(o.previous)})` : ''
      }, waiting for a go-ahead (ContinueDeployment).`;
    case 'rolled-back':
      return `${ended} and CodeDeploy rolled it back${parenthetical(o.facts.error)}.${eventPart}${stoppedPart}${
        o.previous ? ` Production traffic is back on ${shortTaskDefinition(o.previous)}.` : ''
      }`;
    case 'timed-out':
      return `Timed out after ${formatDuration(o.timeoutMs)}: ${what} is still ${o.facts.status ?? 'in progress'}${
        o.state.stage ? ` at ${o.state.stage}` : ''
      }${counts ? ` (green ${counts})` : ''}.${stoppedPart}`;
    case 'unknown':
      return unreadableSentence(what, o.unreadable ?? { state: o.state });
    case 'in-progress':
      return `${what} ${o.continued ? 'goes on' : 'started'}; not waiting for it.`;
    default:
      return `${ended}${parenthetical(o.facts.error)}.${eventPart}${stoppedPart}`;
  }
}
