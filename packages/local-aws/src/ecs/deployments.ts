/**
 * The life of a deployment: start (a new PRIMARY with its service deployment and revision),
 * complete, fail (with the circuit breaker's or the alarms' rollback to the last completed
 * revision), and the service deployment's counts and lifecycle stage while it rolls.
 */
import { alnumId, arn, digitsId, parseArn } from '../ids';
import type { EcsContext } from './context';
import type { CompletedDeployment } from './state';
import type {
  Deployment,
  Service,
  ServiceDeployment,
  ServiceRevision,
  TaskDefinition,
} from './model';
import { clone, nameOf } from './util';

/** Starts, completes and fails deployments of services. */
export class Deployments {
  constructor(private readonly ctx: EcsContext) {}

  /** `deploymentConfiguration.strategy` (ROLLING by default). */
  strategy(svc: Service): string {
    return svc.deploymentConfiguration.strategy ?? 'ROLLING';
  }

  /** ECS blue/green (or linear/canary) with an alternate target group. */
  isBlueGreen(svc: Service): boolean {
    const s = this.strategy(svc);
    return (
      (s === 'BLUE_GREEN' || s === 'LINEAR' || s === 'CANARY') &&
      svc.loadBalancers.some((l) => l.advancedConfiguration?.alternateTargetGroupArn)
    );
  }

  /** The circuit breaker's failure threshold for `desired` tasks, as ECS computes it. */
  threshold(svc: Service, desired: number): number {
    const cfg = svc.deploymentConfiguration.deploymentCircuitBreaker?.thresholdConfiguration;
    const value = cfg?.value ?? 50;
    if (cfg?.type === 'COUNT') return Math.max(1, value);
    const raw = Math.ceil((value / 100) * desired);
    if (cfg?.type === 'UNBOUNDED_PERCENT') return Math.max(1, raw);
    return Math.min(200, Math.max(3, raw));
  }

  private createRevision(svc: Service, td: TaskDefinition): ServiceRevision {
    const { region, account } = parseArn(svc.serviceArn)!;
    const rev: ServiceRevision = {
      serviceRevisionArn: arn(
        'ecs',
        region,
        account,
        `service-revision/${nameOf(svc.clusterArn)}/${svc.serviceName}/${digitsId(19)}`,
      ),
      serviceArn: svc.serviceArn,
      clusterArn: svc.clusterArn,
      taskDefinition: td.taskDefinitionArn,
      launchType: svc.launchType,
      platformVersion: svc.platformVersion,
      loadBalancers: clone(svc.loadBalancers),
      networkConfiguration: clone(svc.networkConfiguration),
      containerImages: td.containerDefinitions.map((c) => ({
        containerName: c.name,
        image: c.image,
      })),
      guardDutyEnabled: false,
      createdAt: this.ctx.opts.clock.now(),
    };
    this.ctx.state.revisions.set(rev.serviceRevisionArn, rev);
    return rev;
  }

  /** Starts a new deployment of `td` (a new PRIMARY, with a service deployment and revision). */
  start(svc: Service, td: TaskDefinition): Deployment {
    const { state, opts } = this.ctx;
    const now = opts.clock.now();
    const { region, account } = parseArn(svc.serviceArn)!;
    const rev = this.createRevision(svc, td);
    const id = `ecs-svc/${digitsId(19)}`;
    // A deployment already in progress is superseded.
    const previousSd = svc.currentServiceDeployment
      ? state.serviceDeployments.get(svc.currentServiceDeployment)
      : undefined;
    if (
      previousSd &&
      ['PENDING', 'IN_PROGRESS', 'ROLLBACK_REQUESTED'].includes(previousSd.status)
    ) {
      Object.assign(previousSd, {
        status: 'STOPPED',
        statusReason: 'Service deployment superseded by a newer service deployment',
        stoppedAt: now,
        updatedAt: now,
      });
    }
    const cb = svc.deploymentConfiguration.deploymentCircuitBreaker;
    const alarms = svc.deploymentConfiguration.alarms;
    const sd: ServiceDeployment = {
      serviceDeploymentArn: arn(
        'ecs',
        region,
        account,
        `service-deployment/${nameOf(svc.clusterArn)}/${svc.serviceName}/${alnumId(22)}`,
      ),
      serviceArn: svc.serviceArn,
      clusterArn: svc.clusterArn,
      createdAt: now,
      startedAt: now,
      updatedAt: now,
      sourceServiceRevisions: svc.deployments.map((d) => ({
        arn: d.serviceRevisionArn,
        requestedTaskCount: d.desiredCount,
        runningTaskCount: d.runningCount,
        pendingTaskCount: d.pendingCount,
      })),
      targetServiceRevision: {
        arn: rev.serviceRevisionArn,
        requestedTaskCount: svc.desiredCount,
        runningTaskCount: 0,
        pendingTaskCount: 0,
      },
      status: 'IN_PROGRESS',
      lifecycleStage: 'RECONCILE_SERVICE',
      deploymentConfiguration: clone(svc.deploymentConfiguration),
      deploymentCircuitBreaker: {
        status: cb?.enable ? 'MONITORING' : 'DISABLED',
        failureCount: 0,
        threshold: this.threshold(svc, svc.desiredCount),
      },
      alarms: alarms?.enable
        ? { status: 'MONITORING', alarmNames: [...alarms.alarmNames], triggeredAlarmNames: [] }
        : { status: 'DISABLED' },
      deploymentId: id,
    };
    state.serviceDeployments.set(sd.serviceDeploymentArn, sd);
    const blueGreenUpdate =
      this.isBlueGreen(svc) &&
      svc.deployments.some((d) => d.status === 'PRIMARY' && state.liveTasks(svc, d.id).length > 0);
    for (const d of svc.deployments) {
      if (d.status === 'PRIMARY') d.status = 'ACTIVE';
      // Rolling: the old deployments scale in as the new one scales out.
      d.updatedAt = now;
    }
    const deployment: Deployment = {
      id,
      status: 'PRIMARY',
      taskDefinition: td.taskDefinitionArn,
      desiredCount: svc.desiredCount,
      pendingCount: 0,
      runningCount: 0,
      failedTasks: 0,
      createdAt: now,
      updatedAt: now,
      launchType: svc.launchType,
      platformVersion: svc.platformVersion,
      networkConfiguration: clone(svc.networkConfiguration),
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: 'ECS deployment ' + id + ' in progress.',
      serviceDeploymentArn: sd.serviceDeploymentArn,
      serviceRevisionArn: rev.serviceRevisionArn,
    };
    svc.deployments.unshift(deployment);
    svc.taskDefinition = td.taskDefinitionArn;
    svc.currentServiceDeployment = sd.serviceDeploymentArn;
    svc.unsteady = true;
    const production = svc.productionTargetGroupArn ?? svc.loadBalancers[0]?.targetGroupArn;
    state.deploymentRuntime.set(id, {
      targetGroups: svc.loadBalancers
        .map((l) => (this.isBlueGreen(svc) ? production : l.targetGroupArn))
        .filter((x): x is string => !!x),
    });
    if (blueGreenUpdate) {
      void this.ctx.blueGreen.run(svc, deployment, sd);
    } else {
      sd.lifecycleStage = 'SCALE_UP';
      if (this.isBlueGreen(svc)) this.initialTraffic(svc);
    }
    this.ctx.scheduler.kick(svc);
    return deployment;
  }

  private initialTraffic(svc: Service): void {
    const lb = svc.loadBalancers.find((l) => l.advancedConfiguration?.alternateTargetGroupArn);
    const adv = lb?.advancedConfiguration;
    if (!lb?.targetGroupArn || !adv?.alternateTargetGroupArn) return;
    const prod = svc.productionTargetGroupArn ?? lb.targetGroupArn;
    svc.productionTargetGroupArn = prod;
    const other = prod === lb.targetGroupArn ? adv.alternateTargetGroupArn : lb.targetGroupArn;
    const elb = this.ctx.opts.elb;
    if (adv.productionListenerRule)
      elb.setForwardWeights(adv.productionListenerRule, { [prod]: 100, [other]: 0 });
    if (adv.testListenerRule)
      elb.setForwardWeights(adv.testListenerRule, { [prod]: 100, [other]: 0 });
  }

  /**
   * Marks `d` FAILED; rolls back to the last completed revision when asked and possible. When no
   * deployment has completed yet but an older one may still complete (a deploy started right
   * after the service was created), `d` stops launching tasks and waits for it
   * ({@link rollBackWhenReady}); with nothing that can complete, the deployment stays stalled, as
   * ECS documents.
   */
  fail(svc: Service, d: Deployment, cause: string, reason: string, rollback: boolean): void {
    if (d.rolloutState !== 'IN_PROGRESS') return;
    const { state, opts } = this.ctx;
    const now = opts.clock.now();
    d.rolloutState = 'FAILED';
    d.rolloutStateReason = reason;
    d.updatedAt = now;
    state.event(svc, `(deployment ${d.id}) deployment failed: ${cause}.`);
    const sd = state.sdOf(d);
    const rt = state.runtime(svc);
    const last = rt.lastCompleted;
    if (rollback && last && last.deploymentId !== d.id) {
      this.rollBack(svc, d, last, cause, reason);
    } else if (rollback && this.mayComplete(svc, d)) {
      rt.pendingRollback = { deploymentId: d.id, cause, reason };
      if (sd)
        Object.assign(sd, { status: 'ROLLBACK_REQUESTED', statusReason: reason, updatedAt: now });
    } else if (sd) {
      this.stall(sd, reason, rollback);
    }
    this.ctx.scheduler.kick(svc);
  }

  /** An older deployment than `failed`, still in progress, with tasks that may yet settle. */
  private mayComplete(svc: Service, failed: Deployment): boolean {
    return svc.deployments.some(
      (x) =>
        x !== failed &&
        x.rolloutState === 'IN_PROGRESS' &&
        this.ctx.state.liveTasks(svc, x.id).some((t) => t.lastStatus === 'RUNNING'),
    );
  }

  private stall(sd: ServiceDeployment, reason: string, rollback: boolean): void {
    const now = this.ctx.opts.clock.now();
    Object.assign(sd, { status: 'STOPPED', statusReason: reason, stoppedAt: now, updatedAt: now });
    if (rollback) sd.statusReason = `${reason} No completed service revision to roll back to.`;
  }

  /**
   * A failed deployment that waits for an older one: rolls it back once that one completed, or
   * leaves it stalled when nothing can complete any more. Called by the scheduler.
   */
  rollBackWhenReady(svc: Service): void {
    const { state } = this.ctx;
    const rt = state.runtime(svc);
    const pending = rt.pendingRollback;
    if (!pending) return;
    const d = svc.deployments.find((x) => x.id === pending.deploymentId);
    const sd = d && state.sdOf(d);
    if (!d || !sd || d.status !== 'PRIMARY' || sd.status !== 'ROLLBACK_REQUESTED') {
      rt.pendingRollback = undefined;
      return;
    }
    if (rt.lastCompleted && rt.lastCompleted.deploymentId !== d.id) {
      rt.pendingRollback = undefined;
      this.rollBack(svc, d, rt.lastCompleted, pending.cause, pending.reason);
    } else if (!this.mayComplete(svc, d)) {
      rt.pendingRollback = undefined;
      this.stall(sd, pending.reason, true);
    }
  }

  /** Starts a deployment of `last`'s revision in place of the failed `d`. */
  private rollBack(
    svc: Service,
    d: Deployment,
    last: CompletedDeployment,
    cause: string,
    reason: string,
  ): void {
    const { state, opts } = this.ctx;
    const now = opts.clock.now();
    const sd = state.sdOf(d);
    if (sd) {
      Object.assign(sd, { status: 'ROLLBACK_IN_PROGRESS', statusReason: reason, updatedAt: now });
      sd.rollback = { reason, startedAt: now, serviceRevisionArn: last.serviceRevisionArn };
    }
    const td = state.resolveTaskDef(last.taskDefinition);
    if (!td) return;
    d.status = 'ACTIVE';
    const id = `ecs-svc/${digitsId(19)}`;
    const rb: Deployment = {
      ...clone(d),
      id,
      status: 'PRIMARY',
      taskDefinition: td.taskDefinitionArn,
      desiredCount: svc.desiredCount,
      failedTasks: 0,
      runningCount: 0,
      pendingCount: 0,
      createdAt: now,
      updatedAt: now,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: `ECS deployment circuit breaker: rolling back to deploymentId ${last.deploymentId}.`,
      serviceRevisionArn: last.serviceRevisionArn,
    };
    if (reason.startsWith('ECS deployment alarms') || cause.startsWith('alarm'))
      rb.rolloutStateReason = `ECS deployment alarms: rolling back to deploymentId ${last.deploymentId}.`;
    if (cause.startsWith('stopped'))
      rb.rolloutStateReason = `Rolling back to deploymentId ${last.deploymentId}.`;
    state.deploymentRuntime.set(id, {
      targetGroups: state.deploymentRuntime.get(d.id)?.targetGroups ?? [],
    });
    // Running tasks of the revision we roll back to are adopted, not replaced.
    for (const other of svc.deployments) {
      if (other.taskDefinition !== td.taskDefinitionArn) continue;
      for (const t of state.liveTasks(svc, other.id)) t.deploymentId = id;
    }
    svc.deployments.unshift(rb);
    state.rollbacks.add(id);
    svc.taskDefinition = td.taskDefinitionArn;
    d.desiredCount = 0;
    this.ctx.scheduler.kick(svc);
  }

  /**
   * A deployment that a newer one superseded before it completed completes once its tasks are
   * all healthy: it becomes the rollback target (no event: it is no longer the one followed).
   */
  completeSuperseded(svc: Service, d: Deployment): void {
    const now = this.ctx.opts.clock.now();
    d.rolloutState = 'COMPLETED';
    d.rolloutStateReason = `ECS deployment ${d.id} completed.`;
    d.updatedAt = now;
    this.ctx.state.runtime(svc).lastCompleted = {
      deploymentId: d.id,
      taskDefinition: d.taskDefinition,
      serviceRevisionArn: d.serviceRevisionArn,
    };
  }

  /** Marks `d` COMPLETED: it becomes the service's rollback target. */
  complete(svc: Service, d: Deployment): void {
    const { state, opts } = this.ctx;
    const now = opts.clock.now();
    d.rolloutState = 'COMPLETED';
    d.rolloutStateReason = `ECS deployment ${d.id} completed.`;
    d.updatedAt = now;
    state.event(svc, `(deployment ${d.id}) deployment completed.`);
    state.runtime(svc).lastCompleted = {
      deploymentId: d.id,
      taskDefinition: d.taskDefinition,
      serviceRevisionArn: d.serviceRevisionArn,
    };
    const sd = state.sdOf(d);
    if (sd && ['IN_PROGRESS', 'ROLLBACK_IN_PROGRESS', 'PENDING'].includes(sd.status)) {
      sd.status = sd.status === 'ROLLBACK_IN_PROGRESS' ? 'ROLLBACK_SUCCESSFUL' : 'SUCCESSFUL';
      sd.finishedAt = now;
      sd.updatedAt = now;
      sd.lifecycleStage = undefined;
      if (sd.deploymentCircuitBreaker.status === 'MONITORING')
        sd.deploymentCircuitBreaker.status = 'MONITORING_COMPLETE';
      if (sd.alarms.status === 'MONITORING') sd.alarms.status = 'MONITORING_COMPLETE';
    }
  }

  /** Copies the deployments' counts into the service deployment and sets its rolling stage. */
  updateServiceDeployment(svc: Service, primary: Deployment): void {
    const { state, scheduler } = this.ctx;
    const sd = state.sdOf(primary);
    if (!sd) return;
    const target = svc.deployments.find(
      (d) => d.serviceRevisionArn === sd.targetServiceRevision.arn,
    );
    if (target) {
      sd.targetServiceRevision.runningTaskCount = target.runningCount;
      sd.targetServiceRevision.pendingTaskCount = target.pendingCount;
      sd.targetServiceRevision.requestedTaskCount = target.desiredCount;
    }
    for (const src of sd.sourceServiceRevisions) {
      const d = svc.deployments.find((x) => x.serviceRevisionArn === src.arn);
      src.runningTaskCount = d?.runningCount ?? 0;
      src.pendingTaskCount = d?.pendingCount ?? 0;
      src.requestedTaskCount = d?.desiredCount ?? 0;
    }
    if (
      primary.rolloutState === 'IN_PROGRESS' &&
      !state.runtime(svc).blueGreenRunning &&
      sd.status === 'IN_PROGRESS'
    ) {
      sd.lifecycleStage =
        svc.deployments.length > 1 &&
        state.liveTasks(svc, primary.id).every((t) => scheduler.healthy(t))
          ? 'CLEAN_UP'
          : 'SCALE_UP';
    }
  }

  /** The service's deployment alarms now in ALARM. */
  triggeredAlarms(svc: Service): string[] {
    const alarms = svc.deploymentConfiguration.alarms;
    if (!alarms?.enable) return [];
    return alarms.alarmNames.filter((n) => this.ctx.opts.cloudwatch.alarmState(n) === 'ALARM');
  }

  /** Fails a rolling deployment in progress when one of its alarms is in ALARM. */
  checkAlarms(svc: Service, primary: Deployment): void {
    const { state } = this.ctx;
    if (
      primary.rolloutState !== 'IN_PROGRESS' ||
      state.runtime(svc).blueGreenRunning ||
      state.rollbacks.has(primary.id)
    )
      return;
    const triggered = this.triggeredAlarms(svc);
    if (!triggered.length) return;
    const sd = state.sdOf(primary);
    if (sd) sd.alarms = { ...sd.alarms, status: 'TRIGGERED', triggeredAlarmNames: triggered };
    this.fail(
      svc,
      primary,
      'alarm detected',
      `ECS deployment alarms: alarm(s) ${triggered.join(', ')} triggered.`,
      svc.deploymentConfiguration.alarms?.rollback === true,
    );
  }
}
