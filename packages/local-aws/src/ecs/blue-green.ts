/**
 * ECS blue/green deployments (BLUE_GREEN, LINEAR, CANARY): the lifecycle stages from
 * PRE_SCALE_UP to CLEAN_UP, traffic shifts on the listener rules, bake time, and the rollback
 * of traffic and tasks when the circuit breaker, an alarm or a StopServiceDeployment ends it.
 */
import type { EcsContext } from './context';
import type { Deployment, Service, ServiceDeployment } from './model';

/** Why a blue/green deployment ended early. */
class Abort extends Error {
  constructor(
    public readonly reason: string,
    public readonly kind: 'circuit' | 'alarm' | 'stop',
  ) {
    super(reason);
  }
}

/** Runs blue/green deployments of services. */
export class BlueGreen {
  constructor(private readonly ctx: EcsContext) {}

  /** Waits until `cond` holds (or `awsMs` AWS ms pass); throws {@link Abort} when the deployment must end. */
  private async until(
    svc: Service,
    sd: ServiceDeployment,
    green: Deployment,
    cond: () => boolean,
    awsMs?: number,
  ): Promise<void> {
    const { opts, scheduler, deployments } = this.ctx;
    const started = Date.now();
    const limit = awsMs === undefined ? Infinity : opts.clock.real(awsMs);
    for (;;) {
      if (scheduler.isClosed) throw new Abort('local-aws shut down', 'stop');
      if (sd.stopRequest)
        throw new Abort(
          sd.stopRequest === 'ROLLBACK'
            ? 'Service deployment rolled back because of a StopServiceDeployment request.'
            : 'Service deployment stopped because of a StopServiceDeployment request.',
          'stop',
        );
      if (green.rolloutState === 'FAILED')
        throw new Abort('ECS deployment circuit breaker: tasks failed to start.', 'circuit');
      const triggered = deployments.triggeredAlarms(svc);
      if (triggered.length) {
        sd.alarms = { ...sd.alarms, status: 'TRIGGERED', triggeredAlarmNames: triggered };
        throw new Abort(
          `ECS deployment alarms: alarm(s) ${triggered.join(', ')} triggered.`,
          'alarm',
        );
      }
      if (cond()) return;
      if (Date.now() - started >= limit) return;
      await new Promise((r) => setTimeout(r, Math.max(5, Math.min(100, opts.clock.real(1000)))));
    }
  }

  /** Runs the deployment of `green` beside the running (blue) deployment to the end. */
  async run(svc: Service, green: Deployment, sd: ServiceDeployment): Promise<void> {
    const { state, opts, scheduler, deployments } = this.ctx;
    const rt = state.runtime(svc);
    rt.blueGreenRunning = true;
    const lb = svc.loadBalancers.find((l) => l.advancedConfiguration?.alternateTargetGroupArn)!;
    const adv = lb.advancedConfiguration!;
    const blueTg = svc.productionTargetGroupArn ?? lb.targetGroupArn!;
    const greenTg =
      blueTg === lb.targetGroupArn ? adv.alternateTargetGroupArn! : lb.targetGroupArn!;
    const blue =
      svc.deployments.find(
        (d) => d.id !== green.id && d.status === 'ACTIVE' && d.rolloutState !== 'FAILED',
      ) ?? svc.deployments.find((d) => d.id !== green.id)!;
    for (const d of svc.deployments) if (d !== green && d !== blue) d.desiredCount = 0;
    state.deploymentRuntime.set(green.id, { targetGroups: [greenTg] });
    const elb = opts.elb;
    const prodRule = adv.productionListenerRule;
    const testRule = adv.testListenerRule;
    const cfg = svc.deploymentConfiguration;
    const stage = (s: string): void => {
      sd.lifecycleStage = s;
      sd.updatedAt = opts.clock.now();
    };
    const setProd = (greenWeight: number): void => {
      if (prodRule)
        elb.setForwardWeights(prodRule, { [blueTg]: 100 - greenWeight, [greenTg]: greenWeight });
      sd.targetServiceRevision.requestedProductionTrafficWeight = greenWeight;
    };
    try {
      stage('PRE_SCALE_UP');
      setProd(0);
      stage('SCALE_UP');
      scheduler.kick(svc);
      await this.until(svc, sd, green, () => {
        const mine = state.liveTasks(svc, green.id);
        return mine.length >= green.desiredCount && mine.every((t) => scheduler.healthy(t));
      });
      stage('POST_SCALE_UP');
      stage('TEST_TRAFFIC_SHIFT');
      if (testRule) elb.setForwardWeights(testRule, { [blueTg]: 0, [greenTg]: 100 });
      sd.targetServiceRevision.requestedTestTrafficWeight = 100;
      stage('POST_TEST_TRAFFIC_SHIFT');
      stage('PRODUCTION_TRAFFIC_SHIFT');
      const strategy = deployments.strategy(svc);
      if (strategy === 'LINEAR') {
        const step = Math.max(1, Math.min(100, cfg.linearConfiguration?.stepPercent ?? 10));
        const wait = (cfg.linearConfiguration?.stepBakeTimeInMinutes ?? 6) * 60_000;
        for (let w = step; w < 100; w += step) {
          setProd(w);
          await this.until(svc, sd, green, () => false, wait);
        }
      } else if (strategy === 'CANARY') {
        setProd(Math.max(0, Math.min(100, cfg.canaryConfiguration?.canaryPercent ?? 5)));
        await this.until(
          svc,
          sd,
          green,
          () => false,
          (cfg.canaryConfiguration?.canaryBakeTimeInMinutes ?? 10) * 60_000,
        );
      }
      setProd(100);
      stage('POST_PRODUCTION_TRAFFIC_SHIFT');
      stage('BAKE_TIME');
      state.event(
        svc,
        `(deployment ${green.id}) production traffic shifted; baking for ${cfg.bakeTimeInMinutes ?? 0} minutes.`,
      );
      await this.until(svc, sd, green, () => false, (cfg.bakeTimeInMinutes ?? 0) * 60_000);
      stage('CLEAN_UP');
      blue.desiredCount = 0;
      svc.productionTargetGroupArn = greenTg;
      scheduler.kick(svc);
      await this.until(svc, sd, green, () =>
        state.tasksOf(svc).every((t) => t.deploymentId === green.id),
      );
      svc.deployments = svc.deployments.filter((d) => d === green);
      rt.blueGreenRunning = false;
      deployments.complete(svc, green);
    } catch (error) {
      if (!(error instanceof Abort)) {
        opts.log?.(
          `blue/green deployment of ${svc.serviceName} failed: ${(error as Error).stack ?? String(error)}`,
        );
      }
      const abort = error instanceof Abort ? error : new Abort(String(error), 'stop');
      await this.rollBack(svc, green, blue, sd, blueTg, greenTg, abort);
    } finally {
      rt.blueGreenRunning = false;
      scheduler.kick(svc);
    }
  }

  private async rollBack(
    svc: Service,
    green: Deployment,
    blue: Deployment,
    sd: ServiceDeployment,
    blueTg: string,
    greenTg: string,
    abort: Abort,
  ): Promise<void> {
    const { state, opts, scheduler } = this.ctx;
    if (scheduler.isClosed) return;
    const now = opts.clock.now();
    const lb = svc.loadBalancers.find((l) => l.advancedConfiguration?.alternateTargetGroupArn)!;
    const adv = lb.advancedConfiguration!;
    const wantsRollback =
      abort.kind === 'stop'
        ? sd.stopRequest !== 'ABORT'
        : abort.kind === 'alarm'
          ? svc.deploymentConfiguration.alarms?.rollback !== false
          : svc.deploymentConfiguration.deploymentCircuitBreaker?.rollback !== false;
    // Production (and test) traffic goes back to blue at once.
    if (adv.productionListenerRule)
      opts.elb.setForwardWeights(adv.productionListenerRule, { [blueTg]: 100, [greenTg]: 0 });
    if (adv.testListenerRule)
      opts.elb.setForwardWeights(adv.testListenerRule, { [blueTg]: 100, [greenTg]: 0 });
    sd.targetServiceRevision.requestedProductionTrafficWeight = 0;
    sd.targetServiceRevision.requestedTestTrafficWeight = 0;
    if (green.rolloutState === 'IN_PROGRESS') {
      green.rolloutState = 'FAILED';
      green.rolloutStateReason = abort.reason;
      if (abort.kind === 'alarm')
        state.event(svc, `(deployment ${green.id}) deployment failed: alarm detected.`);
      if (abort.kind === 'stop')
        state.event(svc, `(deployment ${green.id}) deployment stopped: ${abort.reason}`);
    }
    if (wantsRollback) {
      Object.assign(sd, {
        status: 'ROLLBACK_IN_PROGRESS',
        statusReason: abort.reason,
        updatedAt: now,
      });
      sd.rollback = {
        reason: abort.reason,
        startedAt: now,
        serviceRevisionArn: blue.serviceRevisionArn,
      };
    } else {
      Object.assign(sd, { status: 'STOP_REQUESTED', statusReason: abort.reason, updatedAt: now });
    }
    sd.lifecycleStage = 'CLEAN_UP';
    green.status = 'ACTIVE';
    green.desiredCount = 0;
    blue.status = 'PRIMARY';
    blue.desiredCount = svc.desiredCount;
    svc.taskDefinition = blue.taskDefinition;
    svc.productionTargetGroupArn = blueTg;
    svc.deployments = [blue, ...svc.deployments.filter((d) => d !== blue)];
    scheduler.kick(svc);
    for (;;) {
      if (scheduler.isClosed) return;
      if (!state.tasksOf(svc, green.id).length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    svc.deployments = svc.deployments.filter((d) => d === blue);
    const end = opts.clock.now();
    Object.assign(sd, {
      status: wantsRollback ? 'ROLLBACK_SUCCESSFUL' : 'STOPPED',
      finishedAt: end,
      stoppedAt: wantsRollback ? undefined : end,
      updatedAt: end,
      lifecycleStage: undefined,
    });
    if (sd.deploymentCircuitBreaker.status === 'MONITORING')
      sd.deploymentCircuitBreaker.status = 'MONITORING_COMPLETE';
    if (sd.alarms.status === 'MONITORING') sd.alarms.status = 'MONITORING_COMPLETE';
    svc.unsteady = true;
    state.runtime(svc).blueGreenRunning = false;
    scheduler.kick(svc);
  }
}
