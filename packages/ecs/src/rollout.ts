import type { Deployment, Service, ServiceDeployment } from '@aws-sdk/client-ecs';

/** Where a rollout stands, as shipkit reads it. */
export type RolloutPhase =
  | 'in-progress'
  /** Production traffic is on the new revision; the bake (or clean-up) has begun. */
  | 'traffic-shifted'
  /**
   * ECS marked the deployment completed, but the service's counts have not settled on it (more
   * than one deployment, running ≠ desired, or tasks pending): followed until they agree.
   */
  | 'settling'
  | 'succeeded'
  /** ECS is rolling back (circuit breaker, alarm or a requested rollback). */
  | 'rolling-back'
  | 'rolled-back'
  | 'failed';

/** Task counts of the revision being deployed. */
export interface RolloutCounts {
  desired?: number;
  running?: number;
  pending?: number;
  failed?: number;
}

/** The interpretation of one look at a service and its service deployment. */
export interface RolloutState {
  phase: RolloutPhase;
  /** The service deployment status (`IN_PROGRESS`, `ROLLBACK_SUCCESSFUL`, …) or the rolling deployment's rolloutState. */
  status?: string;
  /** Lifecycle stage of the service deployment (`SCALE_UP`, `BAKE_TIME`, …). */
  stage?: string;
  /** Why ECS says it stands there (statusReason, rollback reason, rolloutStateReason). */
  reason?: string;
  counts: RolloutCounts;
  /** True when the phase cannot change any more. */
  final: boolean;
}

/** One look at the rollout: whichever of the two reads were made. */
export interface RolloutSnapshot {
  service?: Service;
  deployment?: ServiceDeployment;
}

const TRAFFIC_ON_NEW = new Set(['POST_PRODUCTION_TRAFFIC_SHIFT', 'BAKE_TIME', 'CLEAN_UP']);

function final(phase: RolloutPhase): boolean {
  return phase === 'succeeded' || phase === 'rolled-back' || phase === 'failed';
}

/**
 * True when the service's counts have settled on `taskDefinitionArn`: one deployment, of that
 * revision, running = desired and nothing pending (what AWS's services-stable waiter checks).
 */
export function countsSettled(service: Service, taskDefinitionArn: string): boolean {
  const deployments = service.deployments ?? [];
  return (
    deployments.length === 1 &&
    deployments[0].taskDefinition === taskDefinitionArn &&
    (service.runningCount ?? 0) === (service.desiredCount ?? 0) &&
    (service.pendingCount ?? 0) === 0
  );
}

/** The service's own counts (what the waiter reads). */
function serviceCounts(service: Service, failed?: number): RolloutCounts {
  return {
    desired: service.desiredCount,
    running: service.runningCount,
    pending: service.pendingCount,
    failed,
  };
}

/** ECS says the rollout completed: a success once the service's counts agree, else still settling. */
function completed(
  status: string,
  reason: string | undefined,
  counts: RolloutCounts,
  service: Service | undefined,
  taskDefinitionArn: string | undefined,
): RolloutState {
  if (service && taskDefinitionArn && countsSettled(service, taskDefinitionArn))
    return { phase: 'succeeded', status, reason, counts, final: true };
  return {
    phase: 'settling',
    status,
    reason,
    counts: service ? serviceCounts(service, counts.failed) : counts,
    final: false,
  };
}

function fromServiceDeployment(
  d: ServiceDeployment,
  service?: Service,
  taskDefinitionArn?: string,
): RolloutState {
  const target = d.targetServiceRevision;
  const rolling = service?.deployments?.find((x) => x.taskDefinition === taskDefinitionArn);
  const counts: RolloutCounts = {
    desired: target?.requestedTaskCount ?? rolling?.desiredCount,
    running: target?.runningTaskCount ?? rolling?.runningCount,
    pending: target?.pendingTaskCount ?? rolling?.pendingCount,
    failed: rolling?.failedTasks ?? d.deploymentCircuitBreaker?.failureCount,
  };
  const reasons = [d.rollback?.reason, d.statusReason].filter((r): r is string => !!r);
  const reason = [...new Set(reasons)].join('; ') || undefined;
  let phase: RolloutPhase;
  switch (d.status) {
    case 'SUCCESSFUL':
      return completed(d.status, reason, counts, service, taskDefinitionArn);
    case 'ROLLBACK_SUCCESSFUL':
      phase = 'rolled-back';
      break;
    case 'ROLLBACK_FAILED':
    case 'STOPPED':
      phase = 'failed';
      break;
    case 'ROLLBACK_REQUESTED':
    case 'ROLLBACK_IN_PROGRESS':
      phase = 'rolling-back';
      break;
    case 'STOP_REQUESTED':
      phase = 'in-progress';
      break;
    default:
      phase =
        d.lifecycleStage && TRAFFIC_ON_NEW.has(d.lifecycleStage)
          ? 'traffic-shifted'
          : 'in-progress';
  }
  return { phase, status: d.status, stage: d.lifecycleStage, reason, counts, final: final(phase) };
}

function fromRollingDeployments(service: Service, taskDefinitionArn: string): RolloutState {
  const deployments = service.deployments ?? [];
  const ours = deployments.find((d) => d.taskDefinition === taskDefinitionArn);
  const primary: Deployment | undefined =
    deployments.find((d) => d.status === 'PRIMARY') ?? deployments[0];
  const counts: RolloutCounts = {
    desired: ours?.desiredCount,
    running: ours?.runningCount,
    pending: ours?.pendingCount,
    failed: ours?.failedTasks,
  };
  const rolledBack = primary && primary.taskDefinition !== taskDefinitionArn;
  if (ours?.rolloutState === 'FAILED' || (!ours && rolledBack)) {
    const reason = ours?.rolloutStateReason;
    if (rolledBack) {
      const done = primary?.rolloutState === 'COMPLETED' && deployments.length === 1;
      const phase: RolloutPhase = done ? 'rolled-back' : 'rolling-back';
      return {
        phase,
        status: ours?.rolloutState ?? 'REPLACED',
        reason,
        counts,
        final: final(phase),
      };
    }
    return { phase: 'failed', status: 'FAILED', reason, counts, final: true };
  }
  if (ours?.rolloutState === 'COMPLETED' && ours === primary)
    return completed('COMPLETED', ours.rolloutStateReason, counts, service, taskDefinitionArn);
  return {
    phase: 'in-progress',
    status: ours?.rolloutState ?? 'IN_PROGRESS',
    counts,
    final: false,
  };
}

/**
 * Reads where a rollout of `taskDefinitionArn` stands. The service deployment is authoritative
 * when present (every strategy); without it, the rolling `deployments[]` of the service are read
 * (`rolloutState`, and the primary deployment moving back to another revision means a rollback).
 */
export function interpretRollout(
  snapshot: RolloutSnapshot,
  taskDefinitionArn: string,
): RolloutState {
  if (snapshot.deployment)
    return fromServiceDeployment(snapshot.deployment, snapshot.service, taskDefinitionArn);
  if (snapshot.service) return fromRollingDeployments(snapshot.service, taskDefinitionArn);
  return { phase: 'in-progress', counts: {}, final: false };
}

/** True when `state` satisfies the requested wait. */
export function waitSatisfied(
  state: RolloutState,
  waitUntil: 'stable' | 'traffic-shifted',
): boolean {
  if (state.final) return true;
  return waitUntil === 'traffic-shifted' && state.phase === 'traffic-shifted';
}

/** A stage the rollout spent time in. */
export interface StageSpan {
  stage: string;
  startedAt: number;
  endedAt?: number;
}

/** `2/3 running, 1 pending, 4 failed` for a rollout's counts. */
export function formatCounts(counts: RolloutCounts): string {
  const parts: string[] = [];
  if (counts.running !== undefined || counts.desired !== undefined)
    parts.push(`${counts.running ?? 0}/${counts.desired ?? '?'} running`);
  if (counts.pending) parts.push(`${counts.pending} pending`);
  if (counts.failed) parts.push(`${counts.failed} failed`);
  return parts.join(', ');
}

/** One progress line of a rollout: `status · stage · counts`, each part when known. */
export function formatProgress(state: RolloutState): string {
  const counts = formatCounts(state.counts);
  const settling = state.phase === 'settling' ? ' · waiting for the service to settle' : '';
  return `${state.status ?? state.phase}${state.stage ? ` · ${state.stage}` : ''}${settling}${counts ? ` · ${counts}` : ''}`;
}
