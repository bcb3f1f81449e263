/**
 * The ECS service scheduler: reconciles each service toward its deployments' task counts within
 * the deployment limits, replaces unhealthy tasks, launches and stops tasks (draining their
 * targets), counts failed tasks for the circuit breaker, and completes rolling deployments.
 */
import { arn, hexId, parseArn, requestId as uuid } from '../ids';
import type { EcsContext } from './context';
import type {
  Container,
  ContainerDefinition,
  Deployment,
  Service,
  Task,
  TaskDefinition,
} from './model';
import type { TaskRunnerEvents } from './task-runner';
import { reconcileTaskSets, usesTaskSets } from './task-sets';
import { clone, nameOf } from './util';
import { updateCounts } from './views';

/** AWS-time delay between a task's creation and its image pull. */
const PROVISION_MS = 2000;

/**
 * How long a task without health signals (no container health check, no target group) must
 * stay RUNNING before it counts as healthy: ECS documents 40 seconds (`minimumHealthyPercent`
 * in the API reference's DeploymentConfiguration).
 */
export const SETTLE_MS = 40_000;

/** Runs services: the reconcile loop and the life of their tasks. */
export class Scheduler {
  private kicks = new Set<string>();
  private kickScheduled = false;
  private tick?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly ctx: EcsContext) {}

  /** Reacts to target health and alarm changes, and reconciles every service each AWS second. */
  start(): void {
    const { opts, state } = this.ctx;
    opts.elb.onTargetHealth((t) => {
      for (const s of state.services.values()) {
        if (
          s.loadBalancers.some(
            (lb) =>
              lb.targetGroupArn === t.tgArn ||
              lb.advancedConfiguration?.alternateTargetGroupArn === t.tgArn,
          )
        )
          this.kick(s);
      }
    });
    opts.cloudwatch.onStateChange(() => {
      for (const s of state.services.values())
        if (s.deploymentConfiguration.alarms?.enable) this.kick(s);
    });
    this.tick = opts.clock.setInterval(() => {
      for (const s of state.services.values()) if (s.status !== 'INACTIVE') this.reconcile(s);
    }, 1000);
  }

  /** Whether {@link close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Stops the scheduler and every task's processes. */
  async close(): Promise<void> {
    const { opts, state, runner } = this.ctx;
    this.closed = true;
    opts.clock.clear(this.tick);
    await runner.killAll();
    for (const t of state.tasks.values()) {
      if (t.lastStatus !== 'STOPPED') {
        t.lastStatus = 'STOPPED';
        t.desiredStatus = 'STOPPED';
        t.stoppedAt = opts.clock.now();
        t.stoppedReason = t.stoppedReason ?? 'Task stopped because local-aws shut down';
        t.stopCode = t.stopCode ?? 'ServiceSchedulerInitiated';
      }
    }
  }

  /** Stops a task as a fault would (host failure). */
  stopTaskByFault(taskArn: string, reason: string): void {
    const t = this.ctx.state.findTask(taskArn);
    if (!t) throw new Error(`no task \`${taskArn}\``);
    void this.stopTask(t, reason, 'TaskFailedToStart', true);
  }

  /** Schedules a reconcile of `svc` soon. */
  kick(svc: Service): void {
    this.kicks.add(this.ctx.state.serviceKey(svc));
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      const keys = [...this.kicks];
      this.kicks.clear();
      for (const k of keys) {
        const s = this.ctx.state.services.get(k);
        if (s && !this.closed) this.reconcile(s);
      }
    });
  }

  private hasHealthChecks(t: Task): boolean {
    const td = this.ctx.state.resolveTaskDef(t.taskDefinitionArn);
    return !!td?.containerDefinitions.some(
      (c) => c.essential !== false && c.healthCheck?.command?.length,
    );
  }

  /** The task has neither a container health check nor a target group to be judged by. */
  private withoutHealthSignals(t: Task): boolean {
    return !this.hasHealthChecks(t) && !t.targets?.length;
  }

  /**
   * Running, passing its container health checks and healthy in every target group it is in;
   * without any of those, RUNNING for the settle window ({@link SETTLE_MS}).
   */
  healthy(t: Task): boolean {
    if (t.lastStatus !== 'RUNNING' || t.desiredStatus !== 'RUNNING') return false;
    if (t.healthStatus === 'UNHEALTHY') return false;
    if (this.hasHealthChecks(t) && t.healthStatus !== 'HEALTHY') return false;
    for (const target of t.targets ?? []) {
      if (this.ctx.opts.elb.targetState(target.targetGroupArn, target.port)?.state !== 'healthy')
        return false;
    }
    if (
      !t.wasHealthy &&
      this.withoutHealthSignals(t) &&
      (!t.startedAt || Date.now() < t.startedAt.getTime() + this.ctx.opts.clock.real(SETTLE_MS))
    )
      return false;
    if (!t.wasHealthy) t.wasHealthy = true;
    return true;
  }

  /** The scheduler: brings each deployment to its task count within the deployment limits. */
  reconcile(svc: Service): void {
    if (this.closed) return;
    const { state, opts, deployments } = this.ctx;
    const now = Date.now();
    const grace = (svc.healthCheckGracePeriodSeconds ?? 0) * 1000;
    // Replace unhealthy tasks.
    for (const t of state.liveTasks(svc)) {
      if (t.lastStatus !== 'RUNNING') continue;
      const inGrace = t.startedAt && now < t.startedAt.getTime() + opts.clock.real(grace);
      if (inGrace) continue;
      if (t.healthStatus === 'UNHEALTHY') {
        state.event(svc, `(task ${t.taskArn.split('/').pop()}) failed container health checks.`);
        void this.stopTask(
          t,
          'Task failed container health checks',
          'ServiceSchedulerInitiated',
          true,
        );
        continue;
      }
      for (const target of t.targets ?? []) {
        const st = opts.elb.targetState(target.targetGroupArn, target.port);
        if (st?.state === 'unhealthy') {
          state.event(
            svc,
            `(port ${target.port}) is unhealthy in (target-group ${target.targetGroupArn}) due to (reason ${st.description ?? 'Health checks failed'}).`,
          );
          void this.stopTask(
            t,
            `Task failed ELB health checks in (target-group ${target.targetGroupArn})`,
            'ServiceSchedulerInitiated',
            true,
          );
          break;
        }
      }
    }
    if (svc.status === 'DRAINING') {
      for (const t of state.liveTasks(svc))
        void this.stopTask(
          t,
          `Service ${svc.serviceName} is being deleted`,
          'ServiceSchedulerInitiated',
          false,
        );
      if (!state.tasksOf(svc).length) {
        svc.status = 'INACTIVE';
        svc.deployments = [];
      }
      updateCounts(state, svc);
      return;
    }
    // CODE_DEPLOY and EXTERNAL services run task sets (task-sets.ts), not deployments.
    if (usesTaskSets(svc)) return reconcileTaskSets(this.ctx, svc);
    const primary = state.primary(svc);
    if (!primary) return;
    deployments.checkAlarms(svc, primary);
    const cfg = svc.deploymentConfiguration;
    const maxTotal = Math.max(
      1,
      Math.floor((svc.desiredCount * (cfg.maximumPercent ?? 200)) / 100),
    );
    const minHealthy = Math.ceil((svc.desiredCount * (cfg.minimumHealthyPercent ?? 100)) / 100);
    const blueGreen = state.runtime(svc).blueGreenRunning === true;
    const started: Task[] = [];
    // Launch for the primary (and, during blue/green, keep every deployment at its count).
    for (const d of svc.deployments) {
      if (d.status !== 'PRIMARY' && !blueGreen) continue;
      if (d.rolloutState === 'FAILED' && d.status === 'PRIMARY') continue;
      const mine = state.liveTasks(svc, d.id);
      let need = d.desiredCount - mine.length;
      if (!blueGreen) need = Math.min(need, maxTotal - state.liveTasks(svc).length);
      for (let i = 0; i < need; i++) started.push(this.launchTask(svc, d));
    }
    if (started.length) {
      state.event(
        svc,
        `has started ${started.length} tasks: ${started.map((t) => `(task ${t.taskArn.split('/').pop()})`).join(' ')}.`,
      );
    }
    if (!blueGreen) {
      // A superseded deployment whose tasks all became healthy completes: a rollback target.
      for (const d of svc.deployments) {
        if (d.status === 'PRIMARY' || d.rolloutState !== 'IN_PROGRESS') continue;
        const mine = state.liveTasks(svc, d.id);
        if (mine.length && mine.length >= d.desiredCount && mine.every((t) => this.healthy(t)))
          deployments.completeSuperseded(svc, d);
      }
      deployments.rollBackWhenReady(svc);
    }
    // Stop tasks beyond each deployment's count; rolling: drain old deployments within minHealthy.
    const stopped: Task[] = [];
    let healthyCount = state.liveTasks(svc).filter((t) => this.healthy(t)).length;
    const order = (tasks: Task[]): Task[] =>
      [...tasks].sort((a, b) => Number(this.healthy(a)) - Number(this.healthy(b)));
    for (const d of svc.deployments) {
      const mine = order(state.liveTasks(svc, d.id));
      if (d.status === 'PRIMARY' || blueGreen) {
        for (const t of mine.slice(0, Math.max(0, mine.length - d.desiredCount))) {
          if (this.healthy(t)) healthyCount--;
          stopped.push(t);
        }
        continue;
      }
      for (const t of mine) {
        if (this.healthy(t)) {
          if (healthyCount - 1 >= minHealthy) {
            healthyCount--;
            stopped.push(t);
          }
        } else if (t.lastStatus !== 'RUNNING' || d.rolloutState === 'FAILED') stopped.push(t);
        // Else RUNNING and not healthy yet (settling, or health checks pending): it may still
        // become healthy and complete its deployment, so it is kept until it does or fails.
      }
      d.desiredCount = mine.length - mine.filter((t) => stopped.includes(t)).length;
    }
    const reasonFor = (_t: Task): string =>
      `Scaling activity initiated by (deployment ${primary.id})`;
    if (stopped.length) {
      const running = stopped.filter((t) => t.lastStatus === 'RUNNING');
      if (running.length)
        state.event(
          svc,
          `has stopped ${running.length} running tasks: ${running.map((t) => `(task ${t.taskArn.split('/').pop()})`).join(' ')}.`,
        );
      for (const t of stopped)
        void this.stopTask(t, reasonFor(t), 'ServiceSchedulerInitiated', false);
    }
    // Old deployments without tasks are gone.
    if (!blueGreen) {
      svc.deployments = svc.deployments.filter(
        (d) => d.status === 'PRIMARY' || state.tasksOf(svc, d.id).length > 0,
      );
    }
    updateCounts(state, svc);
    deployments.updateServiceDeployment(svc, primary);
    // Completion and steady state.
    if (!blueGreen && primary.rolloutState === 'IN_PROGRESS' && svc.deployments.length === 1) {
      const mine = state.liveTasks(svc, primary.id);
      if (mine.length === primary.desiredCount && mine.every((t) => this.healthy(t)))
        deployments.complete(svc, primary);
    }
    if (
      svc.unsteady &&
      svc.deployments.length === 1 &&
      primary.rolloutState === 'COMPLETED' &&
      svc.runningCount === svc.desiredCount &&
      svc.pendingCount === 0
    ) {
      svc.unsteady = false;
      state.event(svc, 'has reached a steady state.');
    }
  }

  /** Creates a task for a deployment and starts it. */
  private launchTask(svc: Service, d: Deployment): Task {
    const td = this.ctx.state.resolveTaskDef(d.taskDefinition)!;
    const t = this.newTask(svc.clusterArn, td, `service:${svc.serviceName}`, d.id, svc.launchType);
    t.deploymentId = d.id;
    t.serviceName = svc.serviceName;
    if (svc.propagateTags === 'SERVICE') t.tags = clone(svc.tags);
    else if (svc.propagateTags === 'TASK_DEFINITION') t.tags = clone(td.tags);
    this.startTask(t, td, svc);
    return t;
  }

  /** Creates a PROVISIONING task of `td` in the cluster (not started yet). */
  newTask(
    clusterArn: string,
    td: TaskDefinition,
    group: string,
    startedBy: string | undefined,
    launchType?: string,
  ): Task {
    const { region, account } = parseArn(clusterArn)!;
    const id = hexId(16);
    const taskArn = arn('ecs', region, account, `task/${nameOf(clusterArn)}/${id}`);
    const t: Task = {
      taskArn,
      clusterArn,
      taskDefinitionArn: td.taskDefinitionArn,
      group,
      startedBy,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      containers: td.containerDefinitions.map((c) =>
        this.newContainer(taskArn, c, region, account),
      ),
      createdAt: this.ctx.opts.clock.now(),
      launchType: launchType ?? 'FARGATE',
      platformVersion: (launchType ?? 'FARGATE') === 'FARGATE' ? '1.4.0' : undefined,
      cpu: td.cpu,
      memory: td.memory,
      healthStatus: 'UNKNOWN',
      availabilityZone: `${region}a`,
      version: 1,
      tags: [],
      attachments: [],
      overrides: { containerOverrides: [] },
    };
    this.ctx.state.tasks.set(taskArn, t);
    this.ctx.state.pruneStopped();
    return t;
  }

  private newContainer(
    taskArn: string,
    c: ContainerDefinition,
    region: string,
    account: string,
  ): Container {
    return {
      containerArn: arn(
        'ecs',
        region,
        account,
        `container/${nameOf(taskArn.replace(/\/[^/]+$/, ''))}/${taskArn.split('/').pop()}/${uuid()}`,
      ),
      taskArn,
      name: c.name,
      image: c.image,
      lastStatus: 'PENDING',
      networkBindings: [],
      networkInterfaces: [],
      healthStatus: 'UNKNOWN',
    };
  }

  /** Pulls and runs a task after the provisioning delay; `svc` when the service owns it. */
  startTask(t: Task, td: TaskDefinition, svc?: Service): void {
    const events: TaskRunnerEvents = {
      running: (task) => {
        task.version++;
        if (!svc) return;
        this.registerTargets(svc, task);
        this.kick(svc);
        // A task judged by time alone counts once its settle window is over.
        if (this.withoutHealthSignals(task))
          this.ctx.opts.clock.setTimeout(() => this.kick(svc), SETTLE_MS);
      },
      failedToStart: (task, reason, stopCode) => {
        void this.stopTask(task, reason, stopCode, true);
      },
      containerExited: (task, _container, essential) => {
        if (essential) {
          void this.stopTask(
            task,
            'Essential container in task exited',
            'EssentialContainerExited',
            true,
          );
        } else if (svc) this.kick(svc);
      },
      healthChanged: () => {
        if (svc) this.kick(svc);
      },
    };
    this.ctx.opts.clock.setTimeout(() => {
      if (t.desiredStatus !== 'RUNNING' || this.closed) return;
      this.ctx.runner.launch(t, td, events).catch((error: unknown) => {
        void this.stopTask(
          t,
          `CannotStartContainerError: ${(error as Error).message}`,
          'TaskFailedToStart',
          true,
        );
      });
    }, PROVISION_MS);
  }

  private registerTargets(svc: Service, t: Task): void {
    const { state, opts } = this.ctx;
    const tgs = state.deploymentRuntime.get(t.deploymentId ?? '')?.targetGroups ?? [];
    t.targets = [];
    for (const tgArn of tgs) {
      const lb =
        svc.loadBalancers.find(
          (l) =>
            l.targetGroupArn === tgArn ||
            l.advancedConfiguration?.alternateTargetGroupArn === tgArn,
        ) ?? svc.loadBalancers[0];
      const container = t.containers.find((c) => c.name === lb?.containerName) ?? t.containers[0];
      const binding =
        container?.networkBindings.find((b) => b.containerPort === lb?.containerPort) ??
        container?.networkBindings[0];
      if (!binding) continue;
      try {
        opts.elb.registerTarget(tgArn, '127.0.0.1', binding.hostPort);
        t.targets.push({ targetGroupArn: tgArn, port: binding.hostPort });
        state.event(svc, `registered 1 targets in (target-group ${tgArn})`);
      } catch (error) {
        state.event(
          svc,
          `failed to register targets in (target-group ${tgArn}): ${(error as Error).message}`,
        );
      }
    }
  }

  /**
   * Stops a task: drains its targets, stops its processes, records why. `failure`: the task
   * stopped on its own or failed its health checks; it counts toward the circuit breaker unless
   * it was healthy once and its deployment is no longer in progress.
   */
  async stopTask(t: Task, reason: string, stopCode: string, failure: boolean): Promise<void> {
    if (t.desiredStatus === 'STOPPED' || t.lastStatus === 'STOPPED') return;
    const { state, opts, deployments, runner } = this.ctx;
    const now = opts.clock.now();
    t.desiredStatus = 'STOPPED';
    t.stoppingAt = now;
    t.stoppedReason = reason;
    t.stopCode = stopCode;
    t.version++;
    const svc = state.serviceOf(t);
    if (svc) {
      svc.unsteady = true;
      const d = svc.deployments.find((x) => x.id === t.deploymentId);
      if (failure && d && (!t.wasHealthy || d.rolloutState === 'IN_PROGRESS')) {
        d.failedTasks++;
        const sd = state.sdOf(d);
        const cb = svc.deploymentConfiguration.deploymentCircuitBreaker;
        if (
          sd &&
          d.rolloutState === 'IN_PROGRESS' &&
          sd.targetServiceRevision.arn === d.serviceRevisionArn
        )
          sd.deploymentCircuitBreaker.failureCount = d.failedTasks;
        if (
          cb?.enable &&
          !state.rollbacks.has(d.id) &&
          d.status === 'PRIMARY' &&
          d.rolloutState === 'IN_PROGRESS' &&
          d.failedTasks >= deployments.threshold(svc, d.desiredCount)
        ) {
          if (sd) sd.deploymentCircuitBreaker.status = 'TRIGGERED';
          if (state.runtime(svc).blueGreenRunning) {
            // The blue/green orchestration sees the FAILED state and rolls traffic back.
            d.rolloutState = 'FAILED';
            d.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.';
            state.event(svc, `(deployment ${d.id}) deployment failed: tasks failed to start.`);
          } else {
            deployments.fail(
              svc,
              d,
              'tasks failed to start',
              'ECS deployment circuit breaker: tasks failed to start.',
              cb.rollback === true,
            );
          }
        }
      }
      this.kick(svc);
    }
    if (t.targets?.length && svc) {
      t.lastStatus = 'DEACTIVATING';
      state.event(svc, 'has begun draining connections on 1 tasks.');
      await Promise.all(
        t.targets.map(async (target) => {
          await opts.elb.deregisterTarget(target.targetGroupArn, '127.0.0.1', target.port);
          state.event(svc, `deregistered 1 targets in (target-group ${target.targetGroupArn})`);
        }),
      );
    }
    if (t.lastStatus !== 'PROVISIONING') t.lastStatus = 'STOPPING';
    const td = state.resolveTaskDef(t.taskDefinitionArn);
    const stopTimeout =
      Math.max(...(td?.containerDefinitions.map((c) => c.stopTimeout ?? 30) ?? [30])) * 1000;
    await runner.kill(t, stopTimeout);
    const end = opts.clock.now();
    t.lastStatus = 'STOPPED';
    t.executionStoppedAt = end;
    t.stoppedAt = end;
    t.version++;
    for (const c of t.containers) {
      if (c.lastStatus === 'RUNNING' && c.exitCode === undefined) c.exitCode = 143;
      c.lastStatus = 'STOPPED';
    }
    if (svc) this.kick(svc);
  }
}
