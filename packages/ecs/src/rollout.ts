import type { Deployment, Service, ServiceDeployment, ServiceEvent } from '@aws-sdk/client-ecs';
import { poll, systemClock, DeadlineExceededError, type Clock } from '../../kit/src/poll';
import type { EcsApi } from './api';

/** Where a rollout stands, as shipkit reads it. */
export type RolloutPhase =
  | 'in-progress'
  /** Production traffic is on the new revision; the bake (or clean-up) has begun. */
  | 'traffic-shifted'
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
      phase = 'succeeded';
      break;
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
  if (ours?.rolloutState === 'COMPLETED' && ours === primary) {
    return {
      phase: 'succeeded',
      status: 'COMPLETED',
      reason: ours.rolloutStateReason,
      counts,
      final: true,
    };
  }
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

/** Options of {@link followRollout}. */
export interface FollowOptions {
  api: EcsApi;
  cluster?: string;
  service: string;
  /** The service deployment to follow; without it only the service is read. */
  serviceDeploymentArn?: string;
  /**
   * The service's strategy. A `ROLLING` deployment (the default) is followed on the service alone
   * (rolloutState, counts and events in one call) and the service deployment is read only to
   * confirm an outcome; other strategies are followed on the service deployment (its stage).
   */
  strategy?: string;
  /** The revision being rolled out (or rolled back to). */
  taskDefinitionArn: string;
  waitUntil: 'stable' | 'traffic-shifted';
  /** Overrides when following is done (default: {@link waitSatisfied} with `waitUntil`). */
  satisfied?: (state: RolloutState) => boolean;
  /** Epoch ms after which following stops and the result says `timedOut`. */
  deadline: number;
  /** Service events created before this (epoch ms) are not reported. */
  eventsSince: number;
  signal?: AbortSignal;
  clock?: Clock;
  /** Wait between the first checks (default 1 s) … */
  fastIntervalMs?: number;
  /** … for this many checks (default 1), then `intervalMs` (default 2.7 s: about 22 calls a minute rolling, 27 otherwise). */
  fastChecks?: number;
  intervalMs?: number;
  /** Other strategies: the service (events, counts) is read every this many checks (default 5) and whenever the deployment moves. */
  serviceEvery?: number;
  onEvent?: (event: ServiceEvent) => void;
  onStage?: (stage: string, previous: StageSpan | undefined) => void;
  onProgress?: (state: RolloutState, previous: RolloutState | undefined) => void;
  onThrottle?: (error: unknown, delayMs: number) => void;
}

/** What following a rollout saw. */
export interface FollowResult {
  state: RolloutState;
  timedOut: boolean;
  timeline: StageSpan[];
  events: ServiceEvent[];
  service?: Service;
  deployment?: ServiceDeployment;
  checks: number;
}

function progressKey(s: RolloutState): string {
  return JSON.stringify([s.phase, s.status, s.stage, s.counts]);
}

/**
 * Follows a rollout until it is final (or, with `traffic-shifted`, until production traffic is on
 * the new revision), printing each new service event once and each stage change. One ECS call
 * per check most of the time: the service deployment (or the service when there is none); the
 * service is also read every few checks and when the deployment moves, for its events.
 * Fast at first, then every `intervalMs`; throttling backs off (the kit's poll).
 */
export async function followRollout(opts: FollowOptions): Promise<FollowResult> {
  const clock = opts.clock ?? systemClock;
  const fast = opts.fastIntervalMs ?? 1000;
  const fastChecks = opts.fastChecks ?? 1;
  const interval = opts.intervalMs ?? 2700;
  const rolling = !opts.serviceDeploymentArn || (opts.strategy ?? 'ROLLING') === 'ROLLING';
  let lastDeploymentCheck = 0;
  const serviceEvery = opts.serviceEvery ?? 5;
  const seen = new Set<string>();
  const events: ServiceEvent[] = [];
  const timeline: StageSpan[] = [];
  let snapshot: RolloutSnapshot = {};
  let state: RolloutState | undefined;
  let lastServiceCheck = 0;
  let checks = 0;

  const readService = async (): Promise<void> => {
    const out = await opts.api.describeServices({
      cluster: opts.cluster,
      services: [opts.service],
    });
    const service = out.services?.[0];
    if (!service) return;
    snapshot = { ...snapshot, service };
    const fresh = (service.events ?? [])
      .filter(
        (e) => e.id && !seen.has(e.id) && (e.createdAt?.getTime() ?? 0) >= opts.eventsSince - 1000,
      )
      .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
    for (const e of fresh) {
      seen.add(e.id as string);
      events.push(e);
      opts.onEvent?.(e);
    }
  };

  const readDeployment = async (): Promise<void> => {
    if (!opts.serviceDeploymentArn) return;
    const out = await opts.api.describeServiceDeployments({
      serviceDeploymentArns: [opts.serviceDeploymentArn],
    });
    const deployment = out.serviceDeployments?.[0];
    if (deployment) snapshot = { ...snapshot, deployment };
  };

  const step = async (
    attempt: number,
  ): Promise<{ done: true; value: RolloutState } | { done: false; delayMs: number }> => {
    checks = attempt;
    let current: RolloutState;
    if (rolling) {
      await readService();
      const fromService = interpretRollout({ service: snapshot.service }, opts.taskDefinitionArn);
      // Success needs no confirmation; a failure or rollback is read on the service deployment for its status and reason.
      const confirm =
        (fromService.final && fromService.phase !== 'succeeded') ||
        fromService.phase === 'rolling-back' ||
        attempt - lastDeploymentCheck >= 8;
      if (opts.serviceDeploymentArn && confirm) {
        await readDeployment();
        lastDeploymentCheck = attempt;
        current = interpretRollout(snapshot, opts.taskDefinitionArn);
      } else {
        current = fromService;
      }
    } else {
      const before = snapshot.deployment
        ? progressKey(interpretRollout(snapshot, opts.taskDefinitionArn))
        : '';
      await readDeployment();
      const moved =
        !!snapshot.deployment &&
        progressKey(interpretRollout(snapshot, opts.taskDefinitionArn)) !== before;
      const next = interpretRollout(snapshot, opts.taskDefinitionArn);
      if (
        !snapshot.deployment ||
        attempt === 1 ||
        moved ||
        next.final ||
        attempt - lastServiceCheck >= serviceEvery
      ) {
        await readService();
        lastServiceCheck = attempt;
      }
      current = interpretRollout(snapshot, opts.taskDefinitionArn);
    }
    if (current.stage && current.stage !== timeline[timeline.length - 1]?.stage) {
      const now = clock.now();
      const previous = timeline[timeline.length - 1];
      if (previous) previous.endedAt = now;
      timeline.push({ stage: current.stage, startedAt: now });
      opts.onStage?.(current.stage, previous);
    }
    if (!state || progressKey(state) !== progressKey(current)) opts.onProgress?.(current, state);
    state = current;
    if (opts.satisfied ? opts.satisfied(current) : waitSatisfied(current, opts.waitUntil))
      return { done: true, value: current };
    return { done: false, delayMs: attempt < fastChecks ? fast : interval };
  };

  let timedOut = false;
  try {
    // Nothing has moved right after the update: the first look comes after the fast interval.
    await clock.sleep(Math.min(fast, Math.max(0, opts.deadline - clock.now())), opts.signal);
    state = await poll(step, {
      deadline: opts.deadline,
      initialDelayMs: fast,
      maxDelayMs: 20_000,
      jitter: 0,
      signal: opts.signal,
      clock,
      what: `the deployment of ${opts.taskDefinitionArn}`,
      onThrottle: opts.onThrottle,
    });
  } catch (error) {
    if (!(error instanceof DeadlineExceededError)) throw error;
    timedOut = true;
  }
  const last = timeline[timeline.length - 1];
  if (last && !last.endedAt) last.endedAt = clock.now();
  return {
    state: state ?? interpretRollout(snapshot, opts.taskDefinitionArn),
    timedOut,
    timeline,
    events,
    service: snapshot.service,
    deployment: snapshot.deployment,
    checks,
  };
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
  return `${state.status ?? state.phase}${state.stage ? ` · ${state.stage}` : ''}${counts ? ` · ${counts}` : ''}`;
}
