// The go-ahead for a CodeDeploy deployment waiting in Ready (test traffic on green): send it
// (ContinueDeployment, READY_WAIT) and follow the rest of the deployment.
import { UnknownCodeDeployDeploymentError } from './errors';
import { logSafe } from '../../../kit/src/log-text';
import { systemClock, type Clock } from '../../../kit/src/poll';
import type { EcsApi } from '../api';
import type { DeployResult } from '../deploy';
import type { DeployLog } from '../service';
import { shortTaskDefinition } from '../task-definition';
import {
  deploymentFacts,
  followCodeDeploy,
  githubDeploymentIdIn,
  type CodeDeployOptions,
} from './rollout';

/** Options of {@link continueCodeDeployment}. */
export interface ContinueOptions {
  cd: CodeDeployOptions;
  ecs: EcsApi;
  cluster?: string;
  service: string;
  deploymentId: string;
  waitUntil: 'stable' | 'traffic-shifted' | 'none';
  timeoutMs: number;
  log: DeployLog;
  signal?: AbortSignal;
  clock?: Clock;
  intervalMs?: number;
  /**
   * Called once the deployment is found, before the go-ahead, with the GitHub Deployment the
   * step that created it recorded (from its description), or undefined when it names none.
   */
  beforeChange?: (githubDeploymentId: number | undefined) => Promise<void> | void;
}

function errorName(error: unknown): string {
  return (error as { name?: string }).name ?? '';
}

/**
 * Sends the go-ahead to a CodeDeploy deployment of the service that waits in `Ready`, then
 * follows it to `waitUntil`. A deployment in another status gets no go-ahead and is followed as
 * it is. Throws {@link UnknownCodeDeployDeploymentError} for a deployment that does not exist or
 * does not deploy this service.
 */
export async function continueCodeDeployment(opts: ContinueOptions): Promise<DeployResult> {
  const clock = opts.clock ?? systemClock;
  const startedAt = clock.now();
  const { log, deploymentId } = opts;
  const api = opts.cd.api;
  const service = (
    await opts.ecs.describeServices({ cluster: opts.cluster, services: [opts.service] })
  ).services?.[0];
  if (!service || service.deploymentController?.type !== 'CODE_DEPLOY')
    throw new UnknownCodeDeployDeploymentError(
      deploymentId,
      `service \`${opts.service}\` ${service ? 'is not deployed by CodeDeploy' : 'was not found'}.`,
    );
  const clusterName = service.clusterArn?.split('/').pop() ?? 'default';
  const targetId = `${clusterName}:${service.serviceName ?? opts.service}`;
  let info;
  try {
    info = (await api.getDeployment({ deploymentId })).deploymentInfo;
    await api.getDeploymentTarget({ deploymentId, targetId });
  } catch (error) {
    if (
      errorName(error) === 'DeploymentDoesNotExistException' ||
      errorName(error) === 'InvalidDeploymentIdException'
    )
      throw new UnknownCodeDeployDeploymentError(
        deploymentId,
        `CodeDeploy deployment \`${deploymentId}\` does not exist.`,
      );
    if (errorName(error) === 'DeploymentTargetDoesNotExistException')
      throw new UnknownCodeDeployDeploymentError(
        deploymentId,
        `CodeDeploy deployment \`${deploymentId}\` does not deploy service \`${opts.service}\` (target ${targetId}).`,
      );
    throw error;
  }
  const sets = service.taskSets ?? [];
  const primary = sets.find((t) => t.status === 'PRIMARY');
  const green = sets.find((t) => t.status === 'ACTIVE') ?? primary;
  const taskDefinitionArn = green?.taskDefinition ?? service.taskDefinition ?? '';
  const previous = green !== primary ? primary?.taskDefinition : undefined;
  await opts.beforeChange?.(githubDeploymentIdIn(info?.description));
  if (info?.status === 'Ready') {
    await api.continueDeployment({ deploymentId, deploymentWaitType: 'READY_WAIT' });
    log.info(
      `Sent the go-ahead to CodeDeploy deployment ${deploymentId}: production traffic moves to ${shortTaskDefinition(taskDefinitionArn)}.`,
    );
  } else {
    log.info(
      `CodeDeploy deployment ${deploymentId} is ${logSafe(info?.status ?? 'in an unknown status')}, not waiting in Ready: no go-ahead sent; following it as it is.`,
    );
  }
  const facts = deploymentFacts({
    application: info?.applicationName ?? '',
    deploymentGroup: info?.deploymentGroupName ?? '',
    config: info?.deploymentConfigName,
    deploymentId,
    region: opts.cd.region,
    appSpec: info?.revision?.appSpecContent?.content ?? '',
  });
  const run = await followCodeDeploy({
    api,
    deploymentId,
    targetId,
    facts,
    continued: true,
    ecs: opts.ecs,
    cluster: opts.cluster,
    service: opts.service,
    taskDefinitionArn,
    previousTaskDefinitionArn: previous,
    waitUntil: opts.waitUntil,
    timeoutMs: opts.timeoutMs,
    deadline: startedAt + opts.timeoutMs,
    startedAt,
    log,
    signal: opts.signal,
    clock,
    intervalMs: opts.intervalMs,
  });
  return {
    taskDefinitionArn,
    previousTaskDefinitionArn: previous,
    changes: [],
    unknownFields: [],
    readOnlyDropped: [],
    rendered: { family: '', containerDefinitions: [] },
    plannedCalls: [],
    events: [],
    startedAt,
    status: run.status,
    reason: run.reason,
    timeline: run.timeline,
    stoppedTasks: run.stoppedTasks,
    state: run.state,
    codeDeploy: run.facts,
    durationMs: clock.now() - startedAt,
  };
}
