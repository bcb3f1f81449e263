/**
 * The state machine of an ECS blue/green deployment, on local-aws's clock: the replacement
 * (green) task set in the other target group, test traffic, the wait for a go-ahead, production
 * traffic by the deployment configuration, the original (blue) task set's termination; failures
 * (green never stable, alarms, StopDeployment, the ready wait running out) roll back when asked.
 */
import type { RequestContext } from '../contracts';
import { newDeployment } from './deployment-factory';
import { trafficSteps } from './configs';
import type { CodeDeployOptions } from './context';
import { EcsCalls, type ServiceInfo, type TaskSetInfo } from './ecs-calls';
import type { AppSpec, Deployment, DeploymentGroup, EcsTarget, LifecycleEvent } from './model';
import type { CodeDeployState } from './state';

/** How often (AWS ms) a waiting deployment looks at ECS, the alarms and its requests. */
const POLL_MS = 1000;
/** How long (AWS ms) the replacement task set may take to become stable (a guess). */
const STABILIZE_TIMEOUT_MS = 60 * 60_000;

/** Why a deployment ends early: its status, error and whether to roll back. */
class Halt extends Error {
  constructor(
    readonly status: 'Failed' | 'Stopped',
    readonly code: string,
    message: string,
    readonly rollback: boolean,
  ) {
    super(message);
  }
}

/** What a running deployment has been asked and what it knows (not saved). */
interface Runtime {
  stop?: { rollback: boolean };
  continueReady?: boolean;
  continueTermination?: boolean;
  calls: EcsCalls;
  cluster: string;
  service: string;
  blue?: TaskSetInfo;
  green?: TaskSetInfo;
  blueTg?: string;
  greenTg?: string;
  prodRules: string[];
  testRules: string[];
  greenIsPrimary?: boolean;
}

/** Runs deployments: one promise each, driven by the clock. */
export class Rollouts {
  private readonly running = new Map<string, Runtime>();

  constructor(
    private readonly opts: CodeDeployOptions,
    private readonly state: CodeDeployState,
  ) {}

  /** Whether the deployment is still running here. */
  isRunning(id: string): boolean {
    return this.running.has(id);
  }

  /** Starts a deployment of `spec` to the group's ECS service. */
  start(d: Deployment, group: DeploymentGroup, spec: AppSpec, rc: RequestContext): void {
    const svc = group.ecsServices[0];
    const rt: Runtime = {
      calls: new EcsCalls(this.opts, rc),
      cluster: svc.clusterName,
      service: svc.serviceName,
      prodRules: [],
      testRules: [],
    };
    this.running.set(d.deploymentId, rt);
    void this.run(d, group, spec, rt)
      .catch((error: unknown) =>
        this.halt(
          d,
          group,
          rt,
          new Halt('Failed', 'INTERNAL_ERROR', (error as Error).message, false),
        ),
      )
      .catch((error: unknown) => this.note(d, `internal error: ${(error as Error).message}`))
      .finally(() => this.running.delete(d.deploymentId));
  }

  /** StopDeployment: ends the deployment as Stopped, rolling back when `rollback`. */
  requestStop(id: string, rollback: boolean): boolean {
    const rt = this.running.get(id);
    if (!rt) return false;
    rt.stop = { rollback };
    return true;
  }

  /** ContinueDeployment: the go-ahead for production traffic, or ends the termination wait. */
  continue(id: string, waitType: 'READY_WAIT' | 'TERMINATION_WAIT'): void {
    const rt = this.running.get(id);
    if (!rt) return;
    if (waitType === 'READY_WAIT') rt.continueReady = true;
    else rt.continueTermination = true;
  }

  private now(): Date {
    return this.opts.clock.now();
  }

  private note(d: Deployment, line: string): void {
    d.log.push(`${this.now().toISOString()} ${line}`);
    this.opts.log?.(`codedeploy ${d.deploymentId}: ${line}`);
  }

  private event(d: Deployment, name: string): LifecycleEvent {
    return d.target.lifecycleEvents.find((e) => e.lifecycleEventName === name)!;
  }

  private begin(d: Deployment, name: string): LifecycleEvent {
    const e = this.event(d, name);
    e.status = 'InProgress';
    e.startTime = this.now();
    d.target.lastUpdatedAt = e.startTime;
    return e;
  }

  private end(d: Deployment, e: LifecycleEvent, status: LifecycleEvent['status']): void {
    e.status = status;
    e.endTime = this.now();
    e.startTime ??= e.endTime;
    d.target.lastUpdatedAt = e.endTime;
  }

  /** A hook event: the Lambda function it names is not run here; the event succeeds and says so. */
  private hook(d: Deployment, spec: AppSpec, name: string): void {
    const e = this.begin(d, name);
    const fn = spec.hooks[name];
    if (fn) {
      const message = `local-aws does not run Lambda functions: the ${name} hook \`${fn}\` was not run.`;
      e.diagnostics = { errorCode: 'Success', scriptName: fn, message, logTail: '' };
      this.note(d, message);
    }
    this.end(d, e, 'Succeeded');
  }

  /** Checks made at every poll: a stop request and the group's alarms. */
  private checks(d: Deployment, group: DeploymentGroup, rt: Runtime): void {
    if (rt.stop)
      throw new Halt(
        'Stopped',
        'MANUAL_STOP',
        'The deployment was stopped by a StopDeployment request.',
        rt.stop.rollback,
      );
    const alarms = group.alarmConfiguration;
    if (alarms.enabled) {
      const firing = alarms.alarms
        .map((a) => a.name)
        .filter((n) => this.opts.cloudwatch.alarmState(n) === 'ALARM');
      if (firing.length)
        throw new Halt(
          'Stopped',
          'ALARM_ACTIVE',
          `One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <${firing.join(', ')}>`,
          d.autoRollbackConfiguration.enabled &&
            d.autoRollbackConfiguration.events.includes('DEPLOYMENT_STOP_ON_ALARM'),
        );
    }
  }

  private failureRollback(d: Deployment): boolean {
    return (
      d.autoRollbackConfiguration.enabled &&
      d.autoRollbackConfiguration.events.includes('DEPLOYMENT_FAILURE')
    );
  }

  /** Reads the service and updates the target's task-set counts and traffic weights. */
  private async refresh(d: Deployment, rt: Runtime): Promise<ServiceInfo | undefined> {
    const svc = await rt.calls.service(rt.cluster, rt.service);
    const sets = svc?.taskSets ?? [];
    const info = (set: TaskSetInfo | undefined, label: 'Blue' | 'Green', tg?: string): void => {
      if (!set || !tg) return;
      const live = sets.find((s) => s.id === set.id);
      const entry = {
        identifer: set.id,
        desiredCount: live?.computedDesiredCount ?? 0,
        pendingCount: live?.pendingCount ?? 0,
        runningCount: live?.runningCount ?? 0,
        status: live?.status ?? 'DRAINING',
        trafficWeight: rt.prodRules[0] ? rt.calls.share(rt.prodRules[0], tg) : 0,
        targetGroup: { name: tg.split('/')[1] ?? tg },
        taskSetLabel: label,
      };
      const list = d.target.taskSetsInfo;
      const i = list.findIndex((x) => x.taskSetLabel === label);
      if (i >= 0) list[i] = entry;
      else list.push(entry);
    };
    info(rt.blue, 'Blue', rt.blueTg);
    info(rt.green, 'Green', rt.greenTg);
    return svc;
  }

  /** Polls until `done` holds, failing when the green task set keeps losing tasks. */
  private async waitFor(
    d: Deployment,
    group: DeploymentGroup,
    rt: Runtime,
    done: (svc: ServiceInfo | undefined) => boolean | Promise<boolean>,
    timeoutMs: number,
    onTimeout: () => Halt,
  ): Promise<void> {
    const started = Date.now();
    for (;;) {
      this.checks(d, group, rt);
      const svc = await this.refresh(d, rt);
      if (await done(svc)) return;
      await this.checkGreen(d, rt);
      if (Date.now() - started >= this.opts.clock.real(timeoutMs)) throw onTimeout();
      await this.opts.clock.sleep(POLL_MS);
    }
  }

  /** Fails the deployment once the green task set had as many failed tasks as it wants tasks (at least 3). */
  private async checkGreen(d: Deployment, rt: Runtime): Promise<void> {
    if (!rt.green) return;
    const failed = await rt.calls.failedTasks(rt.cluster, rt.green.id);
    const threshold = Math.max(3, rt.green.computedDesiredCount);
    if (failed.length < threshold) return;
    const last = failed[0];
    throw new Halt(
      'Failed',
      'ECS_UPDATE_ERROR',
      `The ECS service cannot reach a steady state: ${failed.length} tasks of the replacement task set ${rt.green.id} stopped. Last: ${last.stoppedReason}${last.exitCode !== undefined ? ` (exit code ${last.exitCode})` : ''}.`,
      this.failureRollback(d),
    );
  }

  private greenStable(rt: Runtime): (svc: ServiceInfo | undefined) => boolean {
    return (svc) => {
      const g = svc?.taskSets?.find((s) => s.id === rt.green?.id);
      return !!g && g.stabilityStatus === 'STEADY_STATE';
    };
  }

  private async sleepChecked(
    d: Deployment,
    group: DeploymentGroup,
    rt: Runtime,
    ms: number,
    until?: () => boolean,
  ): Promise<void> {
    await this.waitFor(
      d,
      group,
      rt,
      () => until?.() === true,
      ms,
      () => new Halt('Failed', 'TIMEOUT', '', false),
    ).catch((error: unknown) => {
      if (error instanceof Halt && error.code === 'TIMEOUT' && !error.message) return;
      throw error;
    });
  }

  private async run(
    d: Deployment,
    group: DeploymentGroup,
    spec: AppSpec,
    rt: Runtime,
  ): Promise<void> {
    d.status = 'InProgress';
    d.startTime = this.now();
    this.setTarget(d, 'InProgress');
    try {
      await this.prepare(d, group, rt);
      this.hook(d, spec, 'BeforeInstall');
      await this.install(d, group, spec, rt);
      this.hook(d, spec, 'AfterInstall');
      await this.testTraffic(d, group, rt);
      this.hook(d, spec, 'AfterAllowTestTraffic');
      await this.readyWait(d, group, rt);
      this.hook(d, spec, 'BeforeAllowTraffic');
      await this.productionTraffic(d, group, rt);
      this.hook(d, spec, 'AfterAllowTraffic');
      await this.terminateBlue(d, group, rt);
    } catch (error) {
      if (!(error instanceof Halt)) throw error;
      await this.halt(d, group, rt, error);
      return;
    }
    d.status = 'Succeeded';
    d.completeTime = this.now();
    this.setTarget(d, 'Succeeded');
    group.lastSuccessfulDeployment = {
      deploymentId: d.deploymentId,
      status: 'Succeeded',
      endTime: d.completeTime,
      createTime: d.createTime,
    };
    this.summarise(d, group);
    this.note(d, 'deployment succeeded');
  }

  private setTarget(d: Deployment, status: EcsTarget['status']): void {
    d.target.status = status;
    d.target.lastUpdatedAt = this.now();
    const o = d.deploymentOverview;
    for (const k of Object.keys(o) as (keyof typeof o)[]) o[k] = 0;
    const key = status === 'Unknown' ? 'Failed' : status;
    o[key] = 1;
  }

  private summarise(d: Deployment, group: DeploymentGroup): void {
    group.lastAttemptedDeployment = {
      deploymentId: d.deploymentId,
      status: d.status,
      endTime: d.completeTime,
      createTime: d.createTime,
    };
  }

  /** Finds the service, its blue task set, the target groups and the listeners' default rules. */
  private async prepare(d: Deployment, group: DeploymentGroup, rt: Runtime): Promise<void> {
    const svc = await rt.calls.service(rt.cluster, rt.service);
    if (!svc || svc.deploymentController?.type !== 'CODE_DEPLOY')
      throw new Halt(
        'Failed',
        'INVALID_ECS_SERVICE',
        `The ECS service ${rt.service} in cluster ${rt.cluster} does not exist or does not use the CODE_DEPLOY deployment controller.`,
        false,
      );
    const blue = svc.taskSets?.find((s) => s.status === 'PRIMARY');
    if (!blue)
      throw new Halt(
        'Failed',
        'ECS_UPDATE_ERROR',
        `The ECS service ${rt.service} has no primary task set.`,
        false,
      );
    // Leftovers of an earlier deployment that did not roll back.
    for (const s of svc.taskSets ?? [])
      if (s.status !== 'PRIMARY') await rt.calls.deleteTaskSet(rt.cluster, rt.service, s.id);
    const pair = group.loadBalancerInfo.targetGroupPairInfoList[0];
    const tgs = await Promise.all(pair.targetGroups.map((t) => rt.calls.targetGroupArn(t.name)));
    const elbInvalid = (what: string): Halt =>
      new Halt('Failed', 'ELASTIC_LOAD_BALANCING_INVALID', what, false);
    if (tgs.some((t) => !t))
      throw elbInvalid('A target group of the deployment group does not exist.');
    rt.blueTg = blue.loadBalancers[0]?.targetGroupArn ?? tgs[0];
    rt.greenTg = tgs.find((t) => t !== rt.blueTg);
    if (!rt.greenTg || !tgs.includes(rt.blueTg))
      throw elbInvalid(
        "The primary task set's target group is not one of the deployment group's target groups.",
      );
    for (const [routes, into] of [
      [pair.prodTrafficRoute.listenerArns, rt.prodRules],
      [pair.testTrafficRoute?.listenerArns ?? [], rt.testRules],
    ] as const) {
      for (const l of routes) {
        const rule = await rt.calls.defaultRule(l);
        if (!rule) throw elbInvalid(`The listener ${l} does not exist.`);
        into.push(rule);
      }
    }
    rt.blue = blue;
    d.target.targetArn = svc.serviceArn;
    await this.refresh(d, rt);
  }

  private async install(
    d: Deployment,
    group: DeploymentGroup,
    spec: AppSpec,
    rt: Runtime,
  ): Promise<void> {
    const e = this.begin(d, 'Install');
    const svc = (await rt.calls.service(rt.cluster, rt.service))!;
    rt.green = await rt.calls
      .createTaskSet({
        cluster: rt.cluster,
        service: rt.service,
        taskDefinition: spec.taskDefinition,
        targetGroupArn: rt.greenTg!,
        containerName: spec.containerName,
        containerPort: spec.containerPort,
        externalId: d.deploymentId,
        launchType: svc.launchType,
        platformVersion: spec.platformVersion ?? svc.platformVersion,
        networkConfiguration: spec.networkConfiguration ?? svc.networkConfiguration,
      })
      .catch((error: unknown) => {
        throw new Halt(
          'Failed',
          'ECS_UPDATE_ERROR',
          `ECS refused the replacement task set: ${(error as Error).message}`,
          false,
        );
      });
    this.note(d, `created the replacement task set ${rt.green.id} in ${rt.greenTg}`);
    await this.waitFor(
      d,
      group,
      rt,
      this.greenStable(rt),
      STABILIZE_TIMEOUT_MS,
      () =>
        new Halt(
          'Failed',
          'ECS_UPDATE_ERROR',
          `The replacement task set ${rt.green?.id} did not reach a steady state in time.`,
          this.failureRollback(d),
        ),
    );
    this.end(d, e, 'Succeeded');
  }

  private async testTraffic(d: Deployment, group: DeploymentGroup, rt: Runtime): Promise<void> {
    const e = this.begin(d, 'AllowTestTraffic');
    if (!rt.testRules.length) {
      this.end(d, e, 'Skipped');
      return;
    }
    for (const r of rt.testRules) rt.calls.route(r, rt.blueTg!, rt.greenTg!, 100);
    this.note(d, 'test traffic → green');
    // The green targets are now judged by the load balancer: wait until they are healthy.
    await this.waitFor(
      d,
      group,
      rt,
      async (svc) =>
        this.greenStable(rt)(svc) &&
        (await rt.calls.targetsHealthy(rt.greenTg!, rt.green?.computedDesiredCount ?? 1)),
      STABILIZE_TIMEOUT_MS,
      () =>
        new Halt(
          'Failed',
          'ECS_UPDATE_ERROR',
          `The replacement task set ${rt.green?.id} did not become healthy on the test listener in time.`,
          this.failureRollback(d),
        ),
    );
    this.end(d, e, 'Succeeded');
  }

  /** The deployment-ready option: status Ready until ContinueDeployment or the wait time ends. */
  private async readyWait(d: Deployment, group: DeploymentGroup, rt: Runtime): Promise<void> {
    const ready = group.blueGreenDeploymentConfiguration.deploymentReadyOption;
    const stopOnTimeout = ready.actionOnTimeout === 'STOP_DEPLOYMENT';
    if (!stopOnTimeout && !(ready.waitTimeInMinutes > 0)) return;
    d.status = 'Ready';
    this.setTarget(d, 'Ready');
    this.note(d, 'ready: waiting for ContinueDeployment before rerouting production traffic');
    await this.sleepChecked(
      d,
      group,
      rt,
      ready.waitTimeInMinutes * 60_000,
      () => rt.continueReady === true,
    );
    if (!rt.continueReady && stopOnTimeout)
      throw new Halt(
        'Stopped',
        'TIMEOUT',
        `The deployment was not continued within the ${ready.waitTimeInMinutes} minute wait time and was stopped.`,
        true,
      );
    d.status = 'InProgress';
    this.setTarget(d, 'InProgress');
  }

  private async productionTraffic(
    d: Deployment,
    group: DeploymentGroup,
    rt: Runtime,
  ): Promise<void> {
    const e = this.begin(d, 'AllowTraffic');
    const config = this.state.config(d.deploymentConfigName);
    for (const step of trafficSteps(config.trafficRoutingConfig)) {
      for (const r of rt.prodRules) rt.calls.route(r, rt.blueTg!, rt.greenTg!, step.greenPercent);
      this.note(d, `production traffic: ${step.greenPercent}% → green`);
      await this.refresh(d, rt);
      if (step.waitMs > 0) {
        await this.sleepChecked(d, group, rt, step.waitMs);
        await this.checkGreen(d, rt);
      }
    }
    await rt.calls.makePrimary(rt.cluster, rt.service, rt.green!.id);
    rt.greenIsPrimary = true;
    await this.refresh(d, rt);
    this.end(d, e, 'Succeeded');
  }

  private async terminateBlue(d: Deployment, group: DeploymentGroup, rt: Runtime): Promise<void> {
    const term = group.blueGreenDeploymentConfiguration.terminateBlueInstancesOnDeploymentSuccess;
    if (term.action !== 'TERMINATE') return;
    d.instanceTerminationWaitTimeStarted = true;
    if (term.terminationWaitTimeInMinutes > 0)
      await this.sleepChecked(
        d,
        group,
        rt,
        term.terminationWaitTimeInMinutes * 60_000,
        () => rt.continueTermination === true,
      );
    this.checks(d, group, rt);
    await rt.calls.deleteTaskSet(rt.cluster, rt.service, rt.blue!.id);
    this.note(d, `terminated the original task set ${rt.blue!.id}`);
    await this.refresh(d, rt);
  }

  /** Ends the deployment early: events, status, error; rolls back when asked. */
  private async halt(d: Deployment, group: DeploymentGroup, rt: Runtime, h: Halt): Promise<void> {
    for (const e of d.target.lifecycleEvents) {
      if (e.status === 'InProgress') this.end(d, e, 'Failed');
      else if (e.status === 'Pending') e.status = 'Skipped';
    }
    d.status = h.status;
    d.errorInformation = { code: h.code, message: h.message };
    d.completeTime = this.now();
    this.setTarget(d, 'Failed');
    this.note(d, `deployment ${h.status.toLowerCase()}: ${h.code}: ${h.message}`);
    this.summarise(d, group);
    if (!(h.rollback && rt.blue && rt.blueTg && rt.greenTg)) return;
    try {
      await this.rollBack(d, group, rt);
    } catch (error) {
      const message = `the rollback failed: ${(error as Error).message}`;
      d.deploymentStatusMessages.push(message);
      this.note(d, message);
    }
  }

  /**
   * Traffic back to blue on every listener, blue PRIMARY again, green removed; recorded as a
   * rollback deployment (creator `codeDeployRollback`) that succeeds once that is done.
   */
  private async rollBack(d: Deployment, group: DeploymentGroup, rt: Runtime): Promise<void> {
    const rb = newDeployment(this.state, group, {
      revision: d.previousRevision ?? d.revision,
      deploymentConfigName: d.deploymentConfigName,
      creator: 'codeDeployRollback',
      now: this.now(),
    });
    rb.rollbackInfo = { rollbackTriggeringDeploymentId: d.deploymentId };
    d.rollbackInfo = {
      rollbackDeploymentId: rb.deploymentId,
      rollbackMessage: `Deployment ${d.deploymentId} rolled back by deployment ${rb.deploymentId}.`,
    };
    rb.status = 'InProgress';
    rb.startTime = this.now();
    for (const r of [...rt.prodRules, ...rt.testRules])
      rt.calls.route(r, rt.blueTg!, rt.greenTg!, 0);
    this.note(d, 'rolled back: production and test traffic → blue');
    if (rt.greenIsPrimary) await rt.calls.makePrimary(rt.cluster, rt.service, rt.blue!.id);
    if (rt.green) await rt.calls.deleteTaskSet(rt.cluster, rt.service, rt.green.id);
    await this.refresh(d, rt);
    rb.target.taskSetsInfo = d.target.taskSetsInfo.map((t) => ({ ...t }));
    rb.target.targetArn = d.target.targetArn;
    for (const e of rb.target.lifecycleEvents) this.end(rb, e, 'Succeeded');
    rb.status = 'Succeeded';
    rb.completeTime = this.now();
    this.setTarget(rb, 'Succeeded');
  }
}
