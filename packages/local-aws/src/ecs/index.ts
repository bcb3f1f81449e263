/**
 * ECS: clusters, task definitions, services with rolling and blue/green deployments, service
 * deployments and revisions, and tasks that run as local processes.
 */
import { join } from 'node:path';
import { AwsError, type ImageStore, type JsonOperation, type RequestContext } from '../contracts';
import type { Clock } from '../clock';
import type { CloudWatch } from '../cloudwatch';
import type { Elb } from '../elb';
import type { FaultInjector } from '../faults';
import { alnumId, arn, digitsId, hexId, parseArn, requestId as uuid } from '../ids';
import type {
  Cluster,
  Container,
  ContainerDefinition,
  Deployment,
  DeploymentConfiguration,
  LoadBalancerRef,
  Service,
  ServiceDeployment,
  ServiceRevision,
  Task,
  TaskDefinition,
} from './model';
import { TaskRunner, type TaskRunnerEvents } from './task-runner';
import { clone, mergeTags, nameOf, paginate, parseTags, requireString } from './util';

type Input = Record<string, unknown>;

/** AWS-time delay between a task's creation and its image pull. */
const PROVISION_MS = 2000;
const MAX_EVENTS = 100;
const MAX_STOPPED_TASKS = 200;

interface DeploymentRuntime {
  /** Target groups this deployment's tasks register in. */
  targetGroups: string[];
}

interface ServiceRuntime {
  lastCompleted?: { deploymentId: string; taskDefinition: string; serviceRevisionArn: string };
  blueGreenRunning?: boolean;
}

class Abort extends Error {
  constructor(
    public readonly reason: string,
    public readonly kind: 'circuit' | 'alarm' | 'stop',
  ) {
    super(reason);
  }
}

/** Options for {@link Ecs}. */
export interface EcsOptions {
  clock: Clock;
  elb: Elb;
  cloudwatch: CloudWatch;
  images: ImageStore;
  faults: FaultInjector;
  dataDir: string;
  accountId: string;
  log?: (message: string) => void;
}

/** The ECS part of local-aws. */
export class Ecs {
  private clusters = new Map<string, Cluster>();
  private taskDefs = new Map<string, TaskDefinition[]>();
  private services = new Map<string, Service>();
  private tasks = new Map<string, Task>();
  private revisions = new Map<string, ServiceRevision>();
  private serviceDeployments = new Map<string, ServiceDeployment>();
  private deploymentRuntime = new Map<string, DeploymentRuntime>();
  private serviceRuntime = new Map<string, ServiceRuntime>();
  /** Deployments that roll back a failed one: alarms and the circuit breaker do not act on them. */
  private rollbacks = new Set<string>();
  private kicks = new Set<string>();
  private kickScheduled = false;
  private tick?: NodeJS.Timeout;
  private closed = false;
  readonly runner: TaskRunner;

  constructor(private readonly opts: EcsOptions) {
    this.runner = new TaskRunner(
      opts.clock,
      opts.images,
      opts.faults,
      join(opts.dataDir, 'task-logs'),
    );
    opts.elb.onTargetHealth((t) => {
      for (const s of this.services.values()) {
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
      for (const s of this.services.values())
        if (s.deploymentConfiguration.alarms?.enable) this.kick(s);
    });
    this.tick = opts.clock.setInterval(() => {
      for (const s of this.services.values()) if (s.status !== 'INACTIVE') this.reconcile(s);
    }, 1000);
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Stops the scheduler and every task's processes. */
  async close(): Promise<void> {
    this.closed = true;
    this.opts.clock.clear(this.tick);
    await this.runner.killAll();
    for (const t of this.tasks.values()) {
      if (t.lastStatus !== 'STOPPED') {
        t.lastStatus = 'STOPPED';
        t.desiredStatus = 'STOPPED';
        t.stoppedAt = this.opts.clock.now();
        t.stoppedReason = t.stoppedReason ?? 'Task stopped because local-aws shut down';
        t.stopCode = t.stopCode ?? 'ServiceSchedulerInitiated';
      }
    }
  }

  snapshot(): unknown {
    return {
      clusters: [...this.clusters.values()],
      taskDefinitions: [...this.taskDefs.values()].flat(),
      services: [...this.services.values()],
      tasks: [...this.tasks.values()],
      serviceRevisions: [...this.revisions.values()],
      serviceDeployments: [...this.serviceDeployments.values()],
      deploymentTargetGroups: Object.fromEntries(
        [...this.deploymentRuntime].map(([k, v]) => [k, v.targetGroups]),
      ),
      lastCompleted: Object.fromEntries(
        [...this.serviceRuntime].map(([k, v]) => [k, v.lastCompleted]),
      ),
    };
  }

  /**
   * Loads saved state. Tasks that were running are gone with the old process: they are marked
   * STOPPED and the scheduler starts replacements; interrupted deployments end as STOPPED.
   */
  restore(state: unknown): void {
    const s = (state ?? {}) as {
      clusters?: Cluster[];
      taskDefinitions?: TaskDefinition[];
      services?: Service[];
      tasks?: Task[];
      serviceRevisions?: ServiceRevision[];
      serviceDeployments?: ServiceDeployment[];
      deploymentTargetGroups?: Record<string, string[]>;
      lastCompleted?: Record<string, ServiceRuntime['lastCompleted']>;
    };
    const now = this.opts.clock.now();
    for (const c of s.clusters ?? []) this.clusters.set(c.clusterName, c);
    for (const td of s.taskDefinitions ?? []) {
      const list = this.taskDefs.get(td.family) ?? [];
      list.push(td);
      this.taskDefs.set(td.family, list);
    }
    for (const r of s.serviceRevisions ?? []) this.revisions.set(r.serviceRevisionArn, r);
    for (const [id, tgs] of Object.entries(s.deploymentTargetGroups ?? {}))
      this.deploymentRuntime.set(id, { targetGroups: tgs });
    for (const [k, v] of Object.entries(s.lastCompleted ?? {}))
      this.serviceRuntime.set(k, { lastCompleted: v });
    for (const t of s.tasks ?? []) {
      if (t.lastStatus !== 'STOPPED') {
        Object.assign(t, {
          lastStatus: 'STOPPED',
          desiredStatus: 'STOPPED',
          stoppedAt: now,
          stoppedReason: 'Task stopped because local-aws restarted',
          stopCode: 'ServiceSchedulerInitiated',
        });
        for (const c of t.containers) c.lastStatus = 'STOPPED';
      }
      this.tasks.set(t.taskArn, t);
    }
    for (const sd of s.serviceDeployments ?? []) {
      if (
        [
          'PENDING',
          'IN_PROGRESS',
          'ROLLBACK_REQUESTED',
          'ROLLBACK_IN_PROGRESS',
          'STOP_REQUESTED',
        ].includes(sd.status)
      ) {
        Object.assign(sd, {
          status: 'STOPPED',
          statusReason: 'Service deployment interrupted because local-aws restarted',
          stoppedAt: now,
          updatedAt: now,
        });
      }
      this.serviceDeployments.set(sd.serviceDeploymentArn, sd);
    }
    for (const svc of s.services ?? []) {
      const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
      svc.deployments = primary ? [primary] : [];
      if (primary) {
        primary.runningCount = 0;
        primary.pendingCount = 0;
        if (primary.rolloutState === 'IN_PROGRESS') {
          primary.rolloutState = 'FAILED';
          primary.rolloutStateReason = 'Deployment interrupted because local-aws restarted.';
        }
      }
      svc.runningCount = 0;
      svc.pendingCount = 0;
      this.services.set(this.serviceKey(svc), svc);
      if (svc.status === 'DRAINING') svc.status = 'INACTIVE';
      if (svc.status === 'ACTIVE') this.kick(svc);
    }
  }

  /** Stops a task as a fault would (host failure). */
  stopTaskByFault(taskArn: string, reason: string): void {
    const t =
      this.tasks.get(taskArn) ??
      [...this.tasks.values()].find((x) => x.taskArn.endsWith(`/${taskArn}`));
    if (!t) throw new Error(`no task \`${taskArn}\``);
    void this.stopTask(t, reason, 'TaskFailedToStart', true);
  }

  // ---- lookups -------------------------------------------------------------------------------

  private serviceKey(s: Service): string {
    return `${nameOf(s.clusterArn)}/${s.serviceName}`;
  }

  private cluster(ref: unknown, _ctx?: RequestContext): Cluster {
    const name = typeof ref === 'string' && ref ? nameOf(ref) : 'default';
    const c = this.clusters.get(name);
    if (!c || c.status !== 'ACTIVE')
      throw new AwsError('ClusterNotFoundException', 'Cluster not found.');
    return c;
  }

  private findService(cluster: Cluster, ref: string): Service | undefined {
    return this.services.get(`${cluster.clusterName}/${nameOf(ref)}`);
  }

  private service(input: Input, key = 'service'): Service {
    const cluster = this.cluster(input.cluster);
    const svc = this.findService(cluster, requireString(input, key));
    if (!svc) throw new AwsError('ServiceNotFoundException', 'Service not found.');
    return svc;
  }

  private resolveTaskDef(ref: string): TaskDefinition | undefined {
    const m = /(?:task-definition\/)?([A-Za-z0-9_-]+)(?::(\d+))?$/.exec(ref);
    if (!m) return undefined;
    const list = this.taskDefs.get(m[1]) ?? [];
    if (m[2]) return list.find((t) => t.revision === Number(m[2]));
    return [...list].reverse().find((t) => t.status === 'ACTIVE');
  }

  private region(svcOrCluster: { clusterArn: string }): string {
    return parseArn(svcOrCluster.clusterArn)?.region ?? 'us-east-1';
  }

  // ---- events and views -------------------------------------------------------------------------

  private event(svc: Service, message: string): void {
    svc.events.unshift({
      id: uuid(),
      createdAt: this.opts.clock.now(),
      message: `(service ${svc.serviceName}) ${message}`,
    });
    if (svc.events.length > MAX_EVENTS) svc.events.length = MAX_EVENTS;
  }

  private tasksOf(svc: Service, deploymentId?: string): Task[] {
    return [...this.tasks.values()].filter(
      (t) =>
        t.serviceName === svc.serviceName &&
        t.clusterArn === svc.clusterArn &&
        t.lastStatus !== 'STOPPED' &&
        (!deploymentId || t.deploymentId === deploymentId),
    );
  }

  private liveTasks(svc: Service, deploymentId?: string): Task[] {
    return this.tasksOf(svc, deploymentId).filter((t) => t.desiredStatus === 'RUNNING');
  }

  private updateCounts(svc: Service): void {
    const live = this.liveTasks(svc);
    for (const d of svc.deployments) {
      const mine = live.filter((t) => t.deploymentId === d.id);
      d.runningCount = mine.filter((t) => t.lastStatus === 'RUNNING').length;
      d.pendingCount = mine.filter((t) => t.lastStatus !== 'RUNNING').length;
    }
    svc.runningCount = live.filter((t) => t.lastStatus === 'RUNNING').length;
    svc.pendingCount = live.filter((t) => t.lastStatus !== 'RUNNING').length;
    const cluster = this.clusters.get(nameOf(svc.clusterArn));
    if (cluster) {
      const all = [...this.tasks.values()].filter(
        (t) => t.clusterArn === cluster.clusterArn && t.desiredStatus === 'RUNNING',
      );
      cluster.runningTasksCount = all.filter((t) => t.lastStatus === 'RUNNING').length;
      cluster.pendingTasksCount = all.length - cluster.runningTasksCount;
      cluster.activeServicesCount = [...this.services.values()].filter(
        (s) => s.clusterArn === cluster.clusterArn && s.status === 'ACTIVE',
      ).length;
    }
  }

  private serviceView(svc: Service, includeTags: boolean): unknown {
    this.updateCounts(svc);
    const { productionTargetGroupArn: _p, unsteady: _u, tags, deployments, ...rest } = svc;
    const currentServiceRevisions = svc.deployments.map((d) => ({
      arn: d.serviceRevisionArn,
      requestedTaskCount: d.desiredCount,
      runningTaskCount: d.runningCount,
      pendingTaskCount: d.pendingCount,
    }));
    return {
      ...rest,
      deployments: deployments.map((d) => this.deploymentView(d)),
      currentServiceRevisions,
      ...(includeTags ? { tags } : {}),
    };
  }

  private deploymentView(d: Deployment): unknown {
    const { serviceDeploymentArn: _a, serviceRevisionArn: _b, ...rest } = d;
    return rest;
  }

  private taskView(t: Task, includeTags: boolean): unknown {
    const { deploymentId: _d, serviceName: _s, targets: _t, wasHealthy: _w, tags, ...rest } = t;
    return { ...rest, ...(includeTags ? { tags } : {}) };
  }

  private sdView(sd: ServiceDeployment): unknown {
    const { deploymentId: _d, stopRequest: _s, ...rest } = sd;
    return rest;
  }

  // ---- deployments ----------------------------------------------------------------------------

  private strategy(svc: Service): string {
    return svc.deploymentConfiguration.strategy ?? 'ROLLING';
  }

  private isBlueGreen(svc: Service): boolean {
    const s = this.strategy(svc);
    return (
      (s === 'BLUE_GREEN' || s === 'LINEAR' || s === 'CANARY') &&
      svc.loadBalancers.some((l) => l.advancedConfiguration?.alternateTargetGroupArn)
    );
  }

  private threshold(svc: Service, desired: number): number {
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
      createdAt: this.opts.clock.now(),
    };
    this.revisions.set(rev.serviceRevisionArn, rev);
    return rev;
  }

  /** Starts a new deployment of `td` (a new PRIMARY, with a service deployment and revision). */
  private startDeployment(svc: Service, td: TaskDefinition): Deployment {
    const now = this.opts.clock.now();
    const { region, account } = parseArn(svc.serviceArn)!;
    const rev = this.createRevision(svc, td);
    const id = `ecs-svc/${digitsId(19)}`;
    // A deployment already in progress is superseded.
    const previousSd = svc.currentServiceDeployment
      ? this.serviceDeployments.get(svc.currentServiceDeployment)
      : undefined;
    if (previousSd && ['PENDING', 'IN_PROGRESS'].includes(previousSd.status)) {
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
    this.serviceDeployments.set(sd.serviceDeploymentArn, sd);
    const blueGreenUpdate =
      this.isBlueGreen(svc) &&
      svc.deployments.some((d) => d.status === 'PRIMARY' && this.liveTasks(svc, d.id).length > 0);
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
    this.deploymentRuntime.set(id, {
      targetGroups: svc.loadBalancers
        .map((l) => (this.isBlueGreen(svc) ? production : l.targetGroupArn))
        .filter((x): x is string => !!x),
    });
    if (blueGreenUpdate) {
      void this.runBlueGreen(svc, deployment, sd);
    } else {
      sd.lifecycleStage = 'SCALE_UP';
      if (this.isBlueGreen(svc)) this.initialTraffic(svc);
    }
    this.kick(svc);
    return deployment;
  }

  private initialTraffic(svc: Service): void {
    const lb = svc.loadBalancers.find((l) => l.advancedConfiguration?.alternateTargetGroupArn);
    const adv = lb?.advancedConfiguration;
    if (!lb?.targetGroupArn || !adv?.alternateTargetGroupArn) return;
    const prod = svc.productionTargetGroupArn ?? lb.targetGroupArn;
    svc.productionTargetGroupArn = prod;
    const other = prod === lb.targetGroupArn ? adv.alternateTargetGroupArn : lb.targetGroupArn;
    if (adv.productionListenerRule)
      this.opts.elb.setForwardWeights(adv.productionListenerRule, { [prod]: 100, [other]: 0 });
    if (adv.testListenerRule)
      this.opts.elb.setForwardWeights(adv.testListenerRule, { [prod]: 100, [other]: 0 });
  }

  private sdOf(d: Deployment): ServiceDeployment | undefined {
    return this.serviceDeployments.get(d.serviceDeploymentArn);
  }

  private runtime(svc: Service): ServiceRuntime {
    const key = svc.serviceArn;
    let rt = this.serviceRuntime.get(key);
    if (!rt) {
      rt = {};
      this.serviceRuntime.set(key, rt);
    }
    return rt;
  }

  /** Marks `d` FAILED; rolls back to the last completed revision when asked and possible. */
  private failDeployment(
    svc: Service,
    d: Deployment,
    cause: string,
    reason: string,
    rollback: boolean,
  ): void {
    if (d.rolloutState !== 'IN_PROGRESS') return;
    const now = this.opts.clock.now();
    d.rolloutState = 'FAILED';
    d.rolloutStateReason = reason;
    d.updatedAt = now;
    this.event(svc, `(deployment ${d.id}) deployment failed: ${cause}.`);
    const sd = this.sdOf(d);
    const last = this.runtime(svc).lastCompleted;
    if (rollback && last && last.deploymentId !== d.id) {
      if (sd) {
        Object.assign(sd, { status: 'ROLLBACK_IN_PROGRESS', statusReason: reason, updatedAt: now });
        sd.rollback = { reason, startedAt: now, serviceRevisionArn: last.serviceRevisionArn };
      }
      const td = this.resolveTaskDef(last.taskDefinition);
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
      this.deploymentRuntime.set(id, {
        targetGroups: this.deploymentRuntime.get(d.id)?.targetGroups ?? [],
      });
      // Running tasks of the revision we roll back to are adopted, not replaced.
      for (const other of svc.deployments) {
        if (other.taskDefinition !== td.taskDefinitionArn) continue;
        for (const t of this.liveTasks(svc, other.id)) t.deploymentId = id;
      }
      svc.deployments.unshift(rb);
      this.rollbacks.add(id);
      svc.taskDefinition = td.taskDefinitionArn;
      d.desiredCount = 0;
    } else if (sd) {
      Object.assign(sd, {
        status: 'STOPPED',
        statusReason: reason,
        stoppedAt: now,
        updatedAt: now,
      });
      if (rollback && !last)
        sd.statusReason = `${reason} No completed service revision to roll back to.`;
    }
    this.kick(svc);
  }

  private primary(svc: Service): Deployment | undefined {
    return svc.deployments.find((d) => d.status === 'PRIMARY');
  }

  private hasHealthChecks(t: Task): boolean {
    const td = this.resolveTaskDef(t.taskDefinitionArn);
    return !!td?.containerDefinitions.some(
      (c) => c.essential !== false && c.healthCheck?.command?.length,
    );
  }

  /** Running, passing its container health checks and healthy in every target group it is in. */
  private healthy(t: Task): boolean {
    if (t.lastStatus !== 'RUNNING' || t.desiredStatus !== 'RUNNING') return false;
    if (t.healthStatus === 'UNHEALTHY') return false;
    if (this.hasHealthChecks(t) && t.healthStatus !== 'HEALTHY') return false;
    for (const target of t.targets ?? []) {
      if (this.opts.elb.targetState(target.targetGroupArn, target.port)?.state !== 'healthy')
        return false;
    }
    if (!t.wasHealthy) t.wasHealthy = true;
    return true;
  }

  /** Schedules a reconcile of `svc` soon. */
  private kick(svc: Service): void {
    this.kicks.add(this.serviceKey(svc));
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      const keys = [...this.kicks];
      this.kicks.clear();
      for (const k of keys) {
        const s = this.services.get(k);
        if (s && !this.closed) this.reconcile(s);
      }
    });
  }

  /** The scheduler: brings each deployment to its task count within the deployment limits. */
  private reconcile(svc: Service): void {
    if (this.closed) return;
    const now = Date.now();
    const grace = (svc.healthCheckGracePeriodSeconds ?? 0) * 1000;
    // Replace unhealthy tasks.
    for (const t of this.liveTasks(svc)) {
      if (t.lastStatus !== 'RUNNING') continue;
      const inGrace = t.startedAt && now < t.startedAt.getTime() + this.opts.clock.real(grace);
      if (inGrace) continue;
      if (t.healthStatus === 'UNHEALTHY') {
        this.event(svc, `(task ${t.taskArn.split('/').pop()}) failed container health checks.`);
        void this.stopTask(
          t,
          'Task failed container health checks',
          'ServiceSchedulerInitiated',
          true,
        );
        continue;
      }
      for (const target of t.targets ?? []) {
        const st = this.opts.elb.targetState(target.targetGroupArn, target.port);
        if (st?.state === 'unhealthy') {
          this.event(
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
      for (const t of this.liveTasks(svc))
        void this.stopTask(
          t,
          `Service ${svc.serviceName} is being deleted`,
          'ServiceSchedulerInitiated',
          false,
        );
      if (!this.tasksOf(svc).length) {
        svc.status = 'INACTIVE';
        svc.deployments = [];
      }
      this.updateCounts(svc);
      return;
    }
    const primary = this.primary(svc);
    if (!primary) return;
    this.checkAlarms(svc, primary);
    const cfg = svc.deploymentConfiguration;
    const maxTotal = Math.max(
      1,
      Math.floor((svc.desiredCount * (cfg.maximumPercent ?? 200)) / 100),
    );
    const minHealthy = Math.ceil((svc.desiredCount * (cfg.minimumHealthyPercent ?? 100)) / 100);
    const blueGreen = this.runtime(svc).blueGreenRunning === true;
    const started: Task[] = [];
    // Launch for the primary (and, during blue/green, keep every deployment at its count).
    for (const d of svc.deployments) {
      if (d.status !== 'PRIMARY' && !blueGreen) continue;
      if (d.rolloutState === 'FAILED' && d.status === 'PRIMARY') continue;
      const mine = this.liveTasks(svc, d.id);
      let need = d.desiredCount - mine.length;
      if (!blueGreen) need = Math.min(need, maxTotal - this.liveTasks(svc).length);
      for (let i = 0; i < need; i++) started.push(this.launchTask(svc, d));
    }
    if (started.length) {
      this.event(
        svc,
        `has started ${started.length} tasks: ${started.map((t) => `(task ${t.taskArn.split('/').pop()})`).join(' ')}.`,
      );
    }
    // Stop tasks beyond each deployment's count; rolling: drain old deployments within minHealthy.
    const stopped: Task[] = [];
    let healthyCount = this.liveTasks(svc).filter((t) => this.healthy(t)).length;
    const order = (tasks: Task[]): Task[] =>
      [...tasks].sort((a, b) => Number(this.healthy(a)) - Number(this.healthy(b)));
    for (const d of svc.deployments) {
      const mine = order(this.liveTasks(svc, d.id));
      if (d.status === 'PRIMARY' || blueGreen) {
        for (const t of mine.slice(0, Math.max(0, mine.length - d.desiredCount))) {
          if (this.healthy(t)) healthyCount--;
          stopped.push(t);
        }
        continue;
      }
      for (const t of mine) {
        if (!this.healthy(t)) stopped.push(t);
        else if (healthyCount - 1 >= minHealthy) {
          healthyCount--;
          stopped.push(t);
        }
      }
      d.desiredCount = mine.length - mine.filter((t) => stopped.includes(t)).length;
    }
    const reasonFor = (_t: Task): string =>
      `Scaling activity initiated by (deployment ${primary.id})`;
    if (stopped.length) {
      const running = stopped.filter((t) => t.lastStatus === 'RUNNING');
      if (running.length)
        this.event(
          svc,
          `has stopped ${running.length} running tasks: ${running.map((t) => `(task ${t.taskArn.split('/').pop()})`).join(' ')}.`,
        );
      for (const t of stopped)
        void this.stopTask(t, reasonFor(t), 'ServiceSchedulerInitiated', false);
    }
    // Old deployments without tasks are gone.
    if (!blueGreen) {
      svc.deployments = svc.deployments.filter(
        (d) => d.status === 'PRIMARY' || this.tasksOf(svc, d.id).length > 0,
      );
    }
    this.updateCounts(svc);
    this.updateServiceDeployment(svc, primary);
    // Completion and steady state.
    if (!blueGreen && primary.rolloutState === 'IN_PROGRESS' && svc.deployments.length === 1) {
      const mine = this.liveTasks(svc, primary.id);
      if (mine.length === primary.desiredCount && mine.every((t) => this.healthy(t)))
        this.completeDeployment(svc, primary);
    }
    if (
      svc.unsteady &&
      svc.deployments.length === 1 &&
      primary.rolloutState === 'COMPLETED' &&
      svc.runningCount === svc.desiredCount &&
      svc.pendingCount === 0
    ) {
      svc.unsteady = false;
      this.event(svc, 'has reached a steady state.');
    }
  }

  private updateServiceDeployment(svc: Service, primary: Deployment): void {
    const sd = this.sdOf(primary);
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
      !this.runtime(svc).blueGreenRunning &&
      sd.status === 'IN_PROGRESS'
    ) {
      sd.lifecycleStage =
        svc.deployments.length > 1 && this.liveTasks(svc, primary.id).every((t) => this.healthy(t))
          ? 'CLEAN_UP'
          : 'SCALE_UP';
    }
  }

  private completeDeployment(svc: Service, d: Deployment): void {
    const now = this.opts.clock.now();
    d.rolloutState = 'COMPLETED';
    d.rolloutStateReason = `ECS deployment ${d.id} completed.`;
    d.updatedAt = now;
    this.event(svc, `(deployment ${d.id}) deployment completed.`);
    this.runtime(svc).lastCompleted = {
      deploymentId: d.id,
      taskDefinition: d.taskDefinition,
      serviceRevisionArn: d.serviceRevisionArn,
    };
    const sd = this.sdOf(d);
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

  private triggeredAlarms(svc: Service): string[] {
    const alarms = svc.deploymentConfiguration.alarms;
    if (!alarms?.enable) return [];
    return alarms.alarmNames.filter((n) => this.opts.cloudwatch.alarmState(n) === 'ALARM');
  }

  private checkAlarms(svc: Service, primary: Deployment): void {
    if (
      primary.rolloutState !== 'IN_PROGRESS' ||
      this.runtime(svc).blueGreenRunning ||
      this.rollbacks.has(primary.id)
    )
      return;
    const triggered = this.triggeredAlarms(svc);
    if (!triggered.length) return;
    const sd = this.sdOf(primary);
    if (sd) sd.alarms = { ...sd.alarms, status: 'TRIGGERED', triggeredAlarmNames: triggered };
    this.failDeployment(
      svc,
      primary,
      'alarm detected',
      `ECS deployment alarms: alarm(s) ${triggered.join(', ')} triggered.`,
      svc.deploymentConfiguration.alarms?.rollback === true,
    );
  }

  /** Creates a task for a deployment and starts it. */
  private launchTask(svc: Service, d: Deployment): Task {
    const td = this.resolveTaskDef(d.taskDefinition)!;
    const t = this.newTask(svc.clusterArn, td, `service:${svc.serviceName}`, d.id, svc.launchType);
    t.deploymentId = d.id;
    t.serviceName = svc.serviceName;
    if (svc.propagateTags === 'SERVICE') t.tags = clone(svc.tags);
    else if (svc.propagateTags === 'TASK_DEFINITION') t.tags = clone(td.tags);
    this.startTask(t, td, svc);
    return t;
  }

  private newTask(
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
      createdAt: this.opts.clock.now(),
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
    this.tasks.set(taskArn, t);
    this.pruneStopped();
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

  private pruneStopped(): void {
    const stopped = [...this.tasks.values()].filter((t) => t.lastStatus === 'STOPPED');
    for (const t of stopped.slice(0, Math.max(0, stopped.length - MAX_STOPPED_TASKS)))
      this.tasks.delete(t.taskArn);
  }

  private startTask(t: Task, td: TaskDefinition, svc?: Service): void {
    const events: TaskRunnerEvents = {
      running: (task) => {
        task.version++;
        if (svc) this.registerTargets(svc, task, td);
        if (svc) this.kick(svc);
      },
      failedToStart: (task, reason, stopCode) => {
        void this.stopTask(task, reason, stopCode, true);
      },
      containerExited: (task, container, essential) => {
        if (essential) {
          void this.stopTask(
            task,
            'Essential container in task exited',
            'EssentialContainerExited',
            true,
          );
        } else if (svc) this.kick(svc);
        void container;
      },
      healthChanged: (task) => {
        if (svc) this.kick(svc);
        void task;
      },
    };
    this.opts.clock.setTimeout(() => {
      if (t.desiredStatus !== 'RUNNING' || this.closed) return;
      this.runner.launch(t, td, events).catch((error: unknown) => {
        void this.stopTask(
          t,
          `CannotStartContainerError: ${(error as Error).message}`,
          'TaskFailedToStart',
          true,
        );
      });
    }, PROVISION_MS);
  }

  private registerTargets(svc: Service, t: Task, td: TaskDefinition): void {
    const tgs = this.deploymentRuntime.get(t.deploymentId ?? '')?.targetGroups ?? [];
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
        this.opts.elb.registerTarget(tgArn, '127.0.0.1', binding.hostPort);
        t.targets.push({ targetGroupArn: tgArn, port: binding.hostPort });
        this.event(svc, `registered 1 targets in (target-group ${tgArn})`);
      } catch (error) {
        this.event(
          svc,
          `failed to register targets in (target-group ${tgArn}): ${(error as Error).message}`,
        );
      }
    }
    void td;
  }

  /** Stops a task: drains its targets, stops its processes, records why. */
  private async stopTask(
    t: Task,
    reason: string,
    stopCode: string,
    failure: boolean,
  ): Promise<void> {
    if (t.desiredStatus === 'STOPPED' || t.lastStatus === 'STOPPED') return;
    const now = this.opts.clock.now();
    t.desiredStatus = 'STOPPED';
    t.stoppingAt = now;
    t.stoppedReason = reason;
    t.stopCode = stopCode;
    t.version++;
    const svc = t.serviceName
      ? this.services.get(`${nameOf(t.clusterArn)}/${t.serviceName}`)
      : undefined;
    if (svc) {
      svc.unsteady = true;
      const d = svc.deployments.find((x) => x.id === t.deploymentId);
      if (failure && d && !t.wasHealthy) {
        d.failedTasks++;
        const sd = this.sdOf(d);
        const cb = svc.deploymentConfiguration.deploymentCircuitBreaker;
        if (
          sd &&
          d.rolloutState === 'IN_PROGRESS' &&
          sd.targetServiceRevision.arn === d.serviceRevisionArn
        )
          sd.deploymentCircuitBreaker.failureCount = d.failedTasks;
        if (
          cb?.enable &&
          !this.rollbacks.has(d.id) &&
          d.status === 'PRIMARY' &&
          d.rolloutState === 'IN_PROGRESS' &&
          d.failedTasks >= this.threshold(svc, d.desiredCount)
        ) {
          if (sd) sd.deploymentCircuitBreaker.status = 'TRIGGERED';
          if (this.runtime(svc).blueGreenRunning) {
            // The blue/green orchestration sees the FAILED state and rolls traffic back.
            d.rolloutState = 'FAILED';
            d.rolloutStateReason = 'ECS deployment circuit breaker: tasks failed to start.';
            this.event(svc, `(deployment ${d.id}) deployment failed: tasks failed to start.`);
          } else {
            this.failDeployment(
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
      this.event(svc, 'has begun draining connections on 1 tasks.');
      await Promise.all(
        t.targets.map(async (target) => {
          await this.opts.elb.deregisterTarget(target.targetGroupArn, '127.0.0.1', target.port);
          this.event(svc, `deregistered 1 targets in (target-group ${target.targetGroupArn})`);
        }),
      );
    }
    if (t.lastStatus !== 'PROVISIONING') t.lastStatus = 'STOPPING';
    const td = this.resolveTaskDef(t.taskDefinitionArn);
    const stopTimeout =
      Math.max(...(td?.containerDefinitions.map((c) => c.stopTimeout ?? 30) ?? [30])) * 1000;
    await this.runner.kill(t, stopTimeout);
    const end = this.opts.clock.now();
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

  // ---- blue/green ---------------------------------------------------------------------------------

  private async until(
    svc: Service,
    sd: ServiceDeployment,
    green: Deployment,
    cond: () => boolean,
    awsMs?: number,
  ): Promise<void> {
    const started = Date.now();
    const limit = awsMs === undefined ? Infinity : this.opts.clock.real(awsMs);
    for (;;) {
      if (this.closed) throw new Abort('local-aws shut down', 'stop');
      if (sd.stopRequest)
        throw new Abort(
          sd.stopRequest === 'ROLLBACK'
            ? 'Service deployment rolled back because of a StopServiceDeployment request.'
            : 'Service deployment stopped because of a StopServiceDeployment request.',
          'stop',
        );
      if (green.rolloutState === 'FAILED')
        throw new Abort('ECS deployment circuit breaker: tasks failed to start.', 'circuit');
      const triggered = this.triggeredAlarms(svc);
      if (triggered.length) {
        sd.alarms = { ...sd.alarms, status: 'TRIGGERED', triggeredAlarmNames: triggered };
        throw new Abort(
          `ECS deployment alarms: alarm(s) ${triggered.join(', ')} triggered.`,
          'alarm',
        );
      }
      if (cond()) return;
      if (Date.now() - started >= limit) return;
      await new Promise((r) =>
        setTimeout(r, Math.max(5, Math.min(100, this.opts.clock.real(1000)))),
      );
    }
  }

  private async runBlueGreen(
    svc: Service,
    green: Deployment,
    sd: ServiceDeployment,
  ): Promise<void> {
    const rt = this.runtime(svc);
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
    this.deploymentRuntime.set(green.id, { targetGroups: [greenTg] });
    const elb = this.opts.elb;
    const prodRule = adv.productionListenerRule;
    const testRule = adv.testListenerRule;
    const cfg = svc.deploymentConfiguration;
    const stage = (s: string): void => {
      sd.lifecycleStage = s;
      sd.updatedAt = this.opts.clock.now();
    };
    const setProd = (greenWeight: number): void => {
      if (prodRule)
        elb.setForwardWeights(prodRule, { [blueTg]: 100 - greenWeight, [greenTg]: greenWeight });
      sd.targetServiceRevision.requestedProductionTrafficWeight = greenWeight;
    };
    const D = green.desiredCount;
    try {
      stage('PRE_SCALE_UP');
      setProd(0);
      stage('SCALE_UP');
      this.kick(svc);
      await this.until(svc, sd, green, () => {
        const mine = this.liveTasks(svc, green.id);
        return mine.length >= green.desiredCount && mine.every((t) => this.healthy(t));
      });
      stage('POST_SCALE_UP');
      stage('TEST_TRAFFIC_SHIFT');
      if (testRule) elb.setForwardWeights(testRule, { [blueTg]: 0, [greenTg]: 100 });
      sd.targetServiceRevision.requestedTestTrafficWeight = 100;
      stage('POST_TEST_TRAFFIC_SHIFT');
      stage('PRODUCTION_TRAFFIC_SHIFT');
      const strategy = this.strategy(svc);
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
      this.event(
        svc,
        `(deployment ${green.id}) production traffic shifted; baking for ${cfg.bakeTimeInMinutes ?? 0} minutes.`,
      );
      await this.until(svc, sd, green, () => false, (cfg.bakeTimeInMinutes ?? 0) * 60_000);
      stage('CLEAN_UP');
      blue.desiredCount = 0;
      svc.productionTargetGroupArn = greenTg;
      this.kick(svc);
      await this.until(svc, sd, green, () =>
        this.tasksOf(svc).every((t) => t.deploymentId === green.id),
      );
      svc.deployments = svc.deployments.filter((d) => d === green);
      rt.blueGreenRunning = false;
      this.completeDeployment(svc, green);
      void D;
    } catch (error) {
      if (!(error instanceof Abort)) {
        this.opts.log?.(
          `blue/green deployment of ${svc.serviceName} failed: ${(error as Error).stack ?? String(error)}`,
        );
      }
      const abort = error instanceof Abort ? error : new Abort(String(error), 'stop');
      await this.rollBackBlueGreen(svc, green, blue, sd, blueTg, greenTg, abort);
    } finally {
      rt.blueGreenRunning = false;
      this.kick(svc);
    }
  }

  private async rollBackBlueGreen(
    svc: Service,
    green: Deployment,
    blue: Deployment,
    sd: ServiceDeployment,
    blueTg: string,
    greenTg: string,
    abort: Abort,
  ): Promise<void> {
    if (this.closed) return;
    const now = this.opts.clock.now();
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
      this.opts.elb.setForwardWeights(adv.productionListenerRule, { [blueTg]: 100, [greenTg]: 0 });
    if (adv.testListenerRule)
      this.opts.elb.setForwardWeights(adv.testListenerRule, { [blueTg]: 100, [greenTg]: 0 });
    sd.targetServiceRevision.requestedProductionTrafficWeight = 0;
    sd.targetServiceRevision.requestedTestTrafficWeight = 0;
    if (green.rolloutState === 'IN_PROGRESS') {
      green.rolloutState = 'FAILED';
      green.rolloutStateReason = abort.reason;
      if (abort.kind === 'alarm')
        this.event(svc, `(deployment ${green.id}) deployment failed: alarm detected.`);
      if (abort.kind === 'stop')
        this.event(svc, `(deployment ${green.id}) deployment stopped: ${abort.reason}`);
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
    this.kick(svc);
    for (;;) {
      if (this.closed) return;
      if (!this.tasksOf(svc, green.id).length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    svc.deployments = svc.deployments.filter((d) => d === blue);
    const end = this.opts.clock.now();
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
    this.runtime(svc).blueGreenRunning = false;
    this.kick(svc);
  }

  // ---- operations ------------------------------------------------------------------------------

  private registerTaskDefinition(input: Input, ctx: RequestContext): TaskDefinition {
    const family = requireString(input, 'family');
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(family)) {
      throw new AwsError('ClientException', `Family contains invalid characters: \`${family}\`.`);
    }
    const defs = input.containerDefinitions;
    if (!Array.isArray(defs) || !defs.length)
      throw new AwsError('ClientException', 'Container list cannot be empty.');
    const names = new Set<string>();
    for (const c of defs as ContainerDefinition[]) {
      if (!c?.name || !c.image)
        throw new AwsError(
          'ClientException',
          'Container definitions need a `name` and an `image`.',
        );
      if (names.has(c.name))
        throw new AwsError('ClientException', `Duplicate container name \`${c.name}\`.`);
      names.add(c.name);
    }
    if (!(defs as ContainerDefinition[]).some((c) => c.essential !== false)) {
      throw new AwsError(
        'ClientException',
        'Task definition does not have any essential container.',
      );
    }
    const list = this.taskDefs.get(family) ?? [];
    const revision = (list[list.length - 1]?.revision ?? 0) + 1;
    const { tags, ...rest } = input;
    const td: TaskDefinition = {
      ...clone(rest),
      containerDefinitions: clone(defs as ContainerDefinition[]).map((c) => ({
        essential: true,
        environment: [],
        mountPoints: [],
        volumesFrom: [],
        portMappings: (c.portMappings ?? []).map((p) => ({
          protocol: 'tcp',
          ...p,
          hostPort: p.hostPort ?? (input.networkMode === 'awsvpc' ? p.containerPort : undefined),
        })),
        ...c,
      })),
      family,
      taskDefinitionArn: arn(
        'ecs',
        ctx.region,
        ctx.accountId,
        `task-definition/${family}:${revision}`,
      ),
      revision,
      status: 'ACTIVE',
      registeredAt: new Date(),
      registeredBy: `arn:aws:iam::${ctx.accountId}:root`,
      compatibilities: ['EC2', 'FARGATE'],
      requiresAttributes: [],
      volumes: (rest.volumes as unknown[]) ?? [],
      placementConstraints: (rest.placementConstraints as unknown[]) ?? [],
      tags: parseTags(tags),
    };
    list.push(td);
    this.taskDefs.set(family, list);
    return td;
  }

  private taskDefView(td: TaskDefinition): unknown {
    const { tags: _t, ...rest } = td;
    return rest;
  }

  private resourceTags(resourceArn: string): {
    get: () => { key: string; value?: string }[];
    set: (t: { key: string; value?: string }[]) => void;
  } {
    const p = parseArn(resourceArn);
    if (!p || p.service !== 'ecs')
      throw new AwsError(
        'InvalidParameterException',
        `\`${resourceArn}\` is not an ECS resource ARN.`,
      );
    const [type, ...path] = p.resource.split('/');
    const notFound = (): never => {
      throw new AwsError('ResourceNotFoundException', 'The specified resource could not be found.');
    };
    if (type === 'cluster') {
      const c = this.clusters.get(path[0]) ?? notFound();
      return { get: () => c.tags, set: (t) => (c.tags = t) };
    }
    if (type === 'service') {
      const s =
        this.services.get(path.length === 2 ? `${path[0]}/${path[1]}` : `default/${path[0]}`) ??
        notFound();
      return { get: () => s.tags, set: (t) => (s.tags = t) };
    }
    if (type === 'task-definition') {
      const td = this.resolveTaskDef(path.join('/')) ?? notFound();
      return { get: () => td.tags, set: (t) => (td.tags = t) };
    }
    if (type === 'task') {
      const t = this.tasks.get(resourceArn) ?? notFound();
      return { get: () => t.tags, set: (x) => (t.tags = x) };
    }
    return notFound();
  }

  private validateLoadBalancers(input: unknown): LoadBalancerRef[] {
    if (input === undefined) return [];
    if (!Array.isArray(input))
      throw new AwsError('InvalidParameterException', '`loadBalancers` must be a list.');
    return (input as LoadBalancerRef[]).map((lb) => {
      if (!lb.targetGroupArn)
        throw new AwsError(
          'InvalidParameterException',
          'Each load balancer needs a `targetGroupArn`.',
        );
      if (!this.opts.elb.targetGroup(lb.targetGroupArn)) {
        throw new AwsError(
          'InvalidParameterException',
          `The target group with targetGroupArn ${lb.targetGroupArn} does not have an associated load balancer.`,
        );
      }
      const adv = lb.advancedConfiguration;
      if (adv) {
        if (
          !adv.alternateTargetGroupArn ||
          !this.opts.elb.targetGroup(adv.alternateTargetGroupArn)
        ) {
          throw new AwsError(
            'InvalidParameterException',
            `The alternate target group \`${adv.alternateTargetGroupArn ?? ''}\` does not exist.`,
          );
        }
        if (!adv.productionListenerRule || !this.opts.elb.ruleExists(adv.productionListenerRule)) {
          throw new AwsError(
            'InvalidParameterException',
            `The production listener rule \`${adv.productionListenerRule ?? ''}\` does not exist.`,
          );
        }
        if (adv.testListenerRule && !this.opts.elb.ruleExists(adv.testListenerRule)) {
          throw new AwsError(
            'InvalidParameterException',
            `The test listener rule \`${adv.testListenerRule}\` does not exist.`,
          );
        }
      }
      return clone(lb);
    });
  }

  private deploymentConfiguration(
    input: unknown,
    base: DeploymentConfiguration,
    strategyRequiresAdvanced: LoadBalancerRef[],
  ): DeploymentConfiguration {
    const cfg: DeploymentConfiguration = {
      ...clone(base),
      ...clone((input ?? {}) as DeploymentConfiguration),
    };
    if (cfg.maximumPercent !== undefined && !(cfg.maximumPercent >= 100))
      throw new AwsError('InvalidParameterException', '`maximumPercent` must be at least 100.');
    if (
      cfg.minimumHealthyPercent !== undefined &&
      !(cfg.minimumHealthyPercent >= 0 && cfg.minimumHealthyPercent <= 100)
    ) {
      throw new AwsError(
        'InvalidParameterException',
        '`minimumHealthyPercent` must be between 0 and 100.',
      );
    }
    if (cfg.strategy && !['ROLLING', 'BLUE_GREEN', 'LINEAR', 'CANARY'].includes(cfg.strategy)) {
      throw new AwsError(
        'InvalidParameterException',
        `\`strategy\` must be ROLLING, BLUE_GREEN, LINEAR or CANARY, got \`${cfg.strategy}\`.`,
      );
    }
    if (
      cfg.strategy &&
      cfg.strategy !== 'ROLLING' &&
      strategyRequiresAdvanced.length &&
      !strategyRequiresAdvanced.some((l) => l.advancedConfiguration)
    ) {
      throw new AwsError(
        'InvalidParameterException',
        `The ${cfg.strategy} deployment strategy needs \`loadBalancers[].advancedConfiguration\`.`,
      );
    }
    if (cfg.alarms && cfg.alarms.enable) {
      if (!Array.isArray(cfg.alarms.alarmNames) || !cfg.alarms.alarmNames.length)
        throw new AwsError('InvalidParameterException', '`alarms.alarmNames` must not be empty.');
    }
    if (cfg.maximumPercent === undefined) cfg.maximumPercent = 200;
    if (cfg.minimumHealthyPercent === undefined) cfg.minimumHealthyPercent = 100;
    if (!cfg.deploymentCircuitBreaker)
      cfg.deploymentCircuitBreaker = { enable: false, rollback: false };
    if (!cfg.strategy) cfg.strategy = 'ROLLING';
    return cfg;
  }

  /** JSON operations by name. */
  readonly operations: Record<string, JsonOperation> = {
    CreateCluster: (input: Input, ctx) => {
      const name =
        typeof input.clusterName === 'string' && input.clusterName ? input.clusterName : 'default';
      if (!/^[A-Za-z0-9_-]{1,255}$/.test(name))
        throw new AwsError('InvalidParameterException', `Cluster name \`${name}\` is not valid.`);
      const existing = this.clusters.get(name);
      if (existing?.status === 'ACTIVE') return { cluster: existing };
      const c: Cluster = {
        clusterArn: arn('ecs', ctx.region, ctx.accountId, `cluster/${name}`),
        clusterName: name,
        status: 'ACTIVE',
        registeredContainerInstancesCount: 0,
        runningTasksCount: 0,
        pendingTasksCount: 0,
        activeServicesCount: 0,
        statistics: [],
        tags: parseTags(input.tags),
        settings: (input.settings as Cluster['settings']) ?? [
          { name: 'containerInsights', value: 'disabled' },
        ],
        capacityProviders: (input.capacityProviders as string[]) ?? [],
        defaultCapacityProviderStrategy: (input.defaultCapacityProviderStrategy as unknown[]) ?? [],
      };
      this.clusters.set(name, c);
      return { cluster: c };
    },
    DescribeClusters: (input: Input) => {
      const refs =
        Array.isArray(input.clusters) && input.clusters.length
          ? (input.clusters as string[])
          : ['default'];
      const include = Array.isArray(input.include) && input.include.includes('TAGS');
      const clusters: unknown[] = [];
      const failures: unknown[] = [];
      for (const ref of refs) {
        const c = this.clusters.get(nameOf(ref));
        if (c) {
          const { tags, ...rest } = c;
          clusters.push(include ? c : rest);
          void tags;
        } else failures.push({ arn: ref, reason: 'MISSING' });
      }
      return { clusters, failures };
    },
    ListClusters: (input: Input) => {
      const { page, nextToken } = paginate(
        [...this.clusters.values()].filter((c) => c.status === 'ACTIVE').map((c) => c.clusterArn),
        input,
      );
      return { clusterArns: page, nextToken };
    },
    DeleteCluster: (input: Input) => {
      const c = this.cluster(requireString(input, 'cluster'));
      if (
        [...this.services.values()].some(
          (s) => s.clusterArn === c.clusterArn && s.status !== 'INACTIVE',
        )
      ) {
        throw new AwsError(
          'ClusterContainsServicesException',
          'The Cluster cannot be deleted while Services are active.',
        );
      }
      if (
        [...this.tasks.values()].some(
          (t) => t.clusterArn === c.clusterArn && t.lastStatus !== 'STOPPED',
        )
      ) {
        throw new AwsError(
          'ClusterContainsTasksException',
          'The Cluster cannot be deleted while Tasks are active.',
        );
      }
      c.status = 'INACTIVE';
      return { cluster: c };
    },
    RegisterTaskDefinition: (input: Input, ctx) => {
      const td = this.registerTaskDefinition(input, ctx);
      return { taskDefinition: this.taskDefView(td), tags: td.tags };
    },
    DescribeTaskDefinition: (input: Input) => {
      const ref = requireString(input, 'taskDefinition');
      const td = this.resolveTaskDef(ref);
      if (!td || td.status === 'DELETE_IN_PROGRESS')
        throw new AwsError('ClientException', 'Unable to describe task definition.');
      const include = Array.isArray(input.include) && input.include.includes('TAGS');
      return { taskDefinition: this.taskDefView(td), ...(include ? { tags: td.tags } : {}) };
    },
    ListTaskDefinitions: (input: Input) => {
      const prefix = typeof input.familyPrefix === 'string' ? input.familyPrefix : undefined;
      const status = typeof input.status === 'string' ? input.status : 'ACTIVE';
      if (!['ACTIVE', 'INACTIVE', 'DELETE_IN_PROGRESS'].includes(status))
        throw new AwsError('InvalidParameterException', `Invalid \`status\` \`${status}\`.`);
      const sort = input.sort === 'DESC' ? -1 : 1;
      const all = [...this.taskDefs.values()]
        .flat()
        .filter((td) => td.status === status && (!prefix || td.family === prefix))
        .sort(
          (a, b) =>
            sort *
            (a.family === b.family ? a.revision - b.revision : a.family.localeCompare(b.family)),
        )
        .map((td) => td.taskDefinitionArn);
      const { page, nextToken } = paginate(all, input);
      return { taskDefinitionArns: page, nextToken };
    },
    ListTaskDefinitionFamilies: (input: Input) => {
      const prefix = typeof input.familyPrefix === 'string' ? input.familyPrefix : '';
      const status = typeof input.status === 'string' ? input.status : 'ACTIVE';
      const families = [...this.taskDefs.entries()]
        .filter(
          ([f, list]) =>
            f.startsWith(prefix) && (status === 'ALL' || list.some((t) => t.status === status)),
        )
        .map(([f]) => f)
        .sort();
      const { page, nextToken } = paginate(families, input);
      return { families: page, nextToken };
    },
    DeregisterTaskDefinition: (input: Input) => {
      const ref = requireString(input, 'taskDefinition');
      if (!/:\d+$/.test(ref))
        throw new AwsError(
          'ClientException',
          'The specified task definition needs a revision (family:revision or ARN).',
        );
      const td = this.resolveTaskDef(ref);
      if (!td)
        throw new AwsError('ClientException', 'The specified task definition does not exist.');
      td.status = 'INACTIVE';
      td.deregisteredAt = new Date();
      return { taskDefinition: this.taskDefView(td) };
    },
    CreateService: (input: Input, ctx) => {
      const cluster = this.cluster(input.cluster, ctx);
      const name = requireString(input, 'serviceName');
      if (!/^[A-Za-z0-9_-]{1,255}$/.test(name))
        throw new AwsError('InvalidParameterException', `Service name \`${name}\` is not valid.`);
      const existing = this.findService(cluster, name);
      if (existing && existing.status !== 'INACTIVE')
        throw new AwsError('InvalidParameterException', 'Creation of service was not idempotent.');
      const td = this.resolveTaskDef(requireString(input, 'taskDefinition'));
      if (!td || td.status !== 'ACTIVE')
        throw new AwsError('ClientException', 'TaskDefinition not found.');
      const desiredCount = input.desiredCount === undefined ? 0 : Number(input.desiredCount);
      if (!Number.isInteger(desiredCount) || desiredCount < 0)
        throw new AwsError(
          'InvalidParameterException',
          '`desiredCount` must be a non-negative integer.',
        );
      const loadBalancers = this.validateLoadBalancers(input.loadBalancers);
      const controller =
        (input.deploymentController as { type?: string } | undefined)?.type ?? 'ECS';
      if (controller !== 'ECS')
        throw new AwsError(
          'InvalidParameterException',
          `local-aws supports the ECS deployment controller only, not \`${controller}\`.`,
        );
      const now = this.opts.clock.now();
      const svc: Service = {
        serviceArn: arn('ecs', ctx.region, ctx.accountId, `service/${cluster.clusterName}/${name}`),
        serviceName: name,
        clusterArn: cluster.clusterArn,
        status: 'ACTIVE',
        desiredCount,
        runningCount: 0,
        pendingCount: 0,
        launchType:
          (input.launchType as string | undefined) ??
          (input.capacityProviderStrategy ? undefined : 'FARGATE'),
        platformVersion: (input.platformVersion as string | undefined) ?? 'LATEST',
        taskDefinition: td.taskDefinitionArn,
        loadBalancers,
        serviceRegistries: (input.serviceRegistries as unknown[]) ?? [],
        deploymentConfiguration: this.deploymentConfiguration(
          input.deploymentConfiguration,
          {},
          loadBalancers,
        ),
        deploymentController: { type: 'ECS' },
        deployments: [],
        events: [],
        networkConfiguration: clone(input.networkConfiguration),
        healthCheckGracePeriodSeconds: input.healthCheckGracePeriodSeconds as number | undefined,
        schedulingStrategy: (input.schedulingStrategy as string | undefined) ?? 'REPLICA',
        createdAt: now,
        createdBy: `arn:aws:iam::${ctx.accountId}:root`,
        enableECSManagedTags: input.enableECSManagedTags === true,
        propagateTags: (input.propagateTags as string | undefined) ?? 'NONE',
        enableExecuteCommand: input.enableExecuteCommand === true,
        availabilityZoneRebalancing: 'ENABLED',
        tags: parseTags(input.tags),
      };
      this.services.set(this.serviceKey(svc), svc);
      this.serviceRuntime.delete(svc.serviceArn);
      this.startDeployment(svc, td);
      this.reconcile(svc);
      return { service: this.serviceView(svc, false) };
    },
    UpdateService: (input: Input) => {
      const svc = this.service(input);
      if (svc.status !== 'ACTIVE')
        throw new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
      let td: TaskDefinition | undefined;
      if (input.taskDefinition !== undefined) {
        td = this.resolveTaskDef(requireString(input, 'taskDefinition'));
        if (!td || td.status !== 'ACTIVE')
          throw new AwsError('ClientException', 'TaskDefinition not found.');
      }
      let lbChanged = false;
      if (input.loadBalancers !== undefined) {
        const lbs = this.validateLoadBalancers(input.loadBalancers);
        lbChanged = JSON.stringify(lbs) !== JSON.stringify(svc.loadBalancers);
        svc.loadBalancers = lbs;
      }
      if (input.deploymentConfiguration !== undefined) {
        svc.deploymentConfiguration = this.deploymentConfiguration(
          input.deploymentConfiguration,
          svc.deploymentConfiguration,
          svc.loadBalancers,
        );
      }
      if (input.desiredCount !== undefined) {
        const n = Number(input.desiredCount);
        if (!Number.isInteger(n) || n < 0)
          throw new AwsError(
            'InvalidParameterException',
            '`desiredCount` must be a non-negative integer.',
          );
        if (n !== svc.desiredCount) svc.unsteady = true;
        svc.desiredCount = n;
        const p = this.primary(svc);
        if (p) p.desiredCount = n;
      }
      if (input.healthCheckGracePeriodSeconds !== undefined)
        svc.healthCheckGracePeriodSeconds = Number(input.healthCheckGracePeriodSeconds);
      let netChanged = false;
      if (input.networkConfiguration !== undefined) {
        netChanged =
          JSON.stringify(input.networkConfiguration) !== JSON.stringify(svc.networkConfiguration);
        svc.networkConfiguration = clone(input.networkConfiguration);
      }
      if (input.propagateTags !== undefined) svc.propagateTags = String(input.propagateTags);
      const current = this.resolveTaskDef(svc.taskDefinition)!;
      const changed =
        (td && td.taskDefinitionArn !== svc.taskDefinition) ||
        input.forceNewDeployment === true ||
        lbChanged ||
        netChanged;
      if (changed) {
        if (this.runtime(svc).blueGreenRunning) {
          throw new AwsError(
            'InvalidParameterException',
            'A blue/green service deployment is in progress; wait for it to finish or stop it before updating the service.',
          );
        }
        this.startDeployment(svc, td ?? current);
      }
      this.kick(svc);
      return { service: this.serviceView(svc, false) };
    },
    DescribeServices: (input: Input) => {
      const cluster = this.cluster(input.cluster);
      if (!Array.isArray(input.services) || !input.services.length)
        throw new AwsError('InvalidParameterException', 'Services cannot be empty.');
      if (input.services.length > 10)
        throw new AwsError(
          'InvalidParameterException',
          'At most 10 services can be described at once.',
        );
      const include = Array.isArray(input.include) && input.include.includes('TAGS');
      const services: unknown[] = [];
      const failures: unknown[] = [];
      for (const ref of input.services as string[]) {
        const s = this.findService(cluster, ref);
        if (s) services.push(this.serviceView(s, include));
        else
          failures.push({
            arn: ref.startsWith('arn:')
              ? ref
              : arn(
                  'ecs',
                  this.region(cluster),
                  parseArn(cluster.clusterArn)!.account,
                  `service/${cluster.clusterName}/${ref}`,
                ),
            reason: 'MISSING',
          });
      }
      return { services, failures };
    },
    ListServices: (input: Input) => {
      const cluster = this.cluster(input.cluster);
      const arns = [...this.services.values()]
        .filter((s) => s.clusterArn === cluster.clusterArn && s.status === 'ACTIVE')
        .map((s) => s.serviceArn);
      const { page, nextToken } = paginate(arns, input, 10);
      return { serviceArns: page, nextToken };
    },
    DeleteService: (input: Input) => {
      const svc = this.service(input);
      if (svc.status !== 'ACTIVE')
        throw new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
      if (svc.desiredCount > 0 && input.force !== true) {
        throw new AwsError(
          'InvalidParameterException',
          'The service cannot be stopped while it is scaled above 0.',
        );
      }
      svc.status = 'DRAINING';
      svc.desiredCount = 0;
      this.kick(svc);
      return { service: this.serviceView(svc, false) };
    },
    ListTasks: (input: Input) => {
      const cluster = this.cluster(input.cluster);
      const desired = typeof input.desiredStatus === 'string' ? input.desiredStatus : 'RUNNING';
      const svcName = typeof input.serviceName === 'string' ? nameOf(input.serviceName) : undefined;
      if (svcName && !this.findService(cluster, svcName))
        throw new AwsError('ServiceNotFoundException', 'Service not found.');
      const family = typeof input.family === 'string' ? input.family : undefined;
      const startedBy = typeof input.startedBy === 'string' ? input.startedBy : undefined;
      const arns = [...this.tasks.values()]
        .filter(
          (t) =>
            t.clusterArn === cluster.clusterArn &&
            t.desiredStatus === desired &&
            (!svcName || t.serviceName === svcName) &&
            (!family || t.taskDefinitionArn.includes(`task-definition/${family}:`)) &&
            (!startedBy || t.startedBy === startedBy),
        )
        .map((t) => t.taskArn);
      const { page, nextToken } = paginate(arns, input);
      return { taskArns: page, nextToken };
    },
    DescribeTasks: (input: Input) => {
      const cluster = this.cluster(input.cluster);
      if (!Array.isArray(input.tasks) || !input.tasks.length)
        throw new AwsError('InvalidParameterException', 'Tasks cannot be empty.');
      if (input.tasks.length > 100)
        throw new AwsError(
          'InvalidParameterException',
          'At most 100 tasks can be described at once.',
        );
      const include = Array.isArray(input.include) && input.include.includes('TAGS');
      const tasks: unknown[] = [];
      const failures: unknown[] = [];
      for (const ref of input.tasks as string[]) {
        const t =
          this.tasks.get(ref) ??
          [...this.tasks.values()].find(
            (x) => x.clusterArn === cluster.clusterArn && x.taskArn.endsWith(`/${ref}`),
          );
        if (t && t.clusterArn === cluster.clusterArn) tasks.push(this.taskView(t, include));
        else failures.push({ arn: ref, reason: 'MISSING' });
      }
      return { tasks, failures };
    },
    RunTask: (input: Input) => {
      const cluster = this.cluster(input.cluster);
      const td = this.resolveTaskDef(requireString(input, 'taskDefinition'));
      if (!td || td.status !== 'ACTIVE')
        throw new AwsError('ClientException', 'TaskDefinition not found.');
      const count = input.count === undefined ? 1 : Number(input.count);
      if (!(count >= 1 && count <= 10))
        throw new AwsError('InvalidParameterException', '`count` must be between 1 and 10.');
      const overrides =
        (
          input.overrides as
            | {
                containerOverrides?: {
                  name: string;
                  command?: string[];
                  environment?: { name: string; value: string }[];
                }[];
              }
            | undefined
        )?.containerOverrides ?? [];
      const effective: TaskDefinition = clone(td);
      for (const o of overrides) {
        const c = effective.containerDefinitions.find((x) => x.name === o.name);
        if (!c)
          throw new AwsError(
            'InvalidParameterException',
            `Override for unknown container \`${o.name}\`.`,
          );
        if (o.command) c.command = o.command;
        if (o.environment)
          c.environment = [
            ...(c.environment ?? []).filter((e) => !o.environment!.some((n) => n.name === e.name)),
            ...o.environment,
          ];
      }
      const tasks: Task[] = [];
      for (let i = 0; i < count; i++) {
        const t = this.newTask(
          cluster.clusterArn,
          td,
          typeof input.group === 'string' ? input.group : `family:${td.family}`,
          input.startedBy as string | undefined,
          input.launchType as string | undefined,
        );
        t.overrides = { containerOverrides: clone(overrides) };
        t.tags = parseTags(input.tags);
        this.startTask(t, effective);
        tasks.push(t);
      }
      return { tasks: tasks.map((t) => this.taskView(t, false)), failures: [] };
    },
    StopTask: async (input: Input) => {
      const cluster = this.cluster(input.cluster);
      const ref = requireString(input, 'task');
      const t =
        this.tasks.get(ref) ??
        [...this.tasks.values()].find(
          (x) => x.clusterArn === cluster.clusterArn && x.taskArn.endsWith(`/${ref}`),
        );
      if (!t) throw new AwsError('InvalidParameterException', 'The referenced task was not found.');
      void this.stopTask(
        t,
        typeof input.reason === 'string' ? input.reason : 'Task stopped by user',
        'UserInitiated',
        false,
      );
      await new Promise((r) => setImmediate(r));
      return { task: this.taskView(t, false) };
    },
    TagResource: (input: Input) => {
      const r = this.resourceTags(requireString(input, 'resourceArn'));
      r.set(mergeTags(r.get(), parseTags(input.tags)));
      return {};
    },
    UntagResource: (input: Input) => {
      const r = this.resourceTags(requireString(input, 'resourceArn'));
      const keys = Array.isArray(input.tagKeys) ? (input.tagKeys as string[]) : [];
      r.set(r.get().filter((t) => !keys.includes(t.key)));
      return {};
    },
    ListTagsForResource: (input: Input) => ({
      tags: this.resourceTags(requireString(input, 'resourceArn')).get(),
    }),
    ListServiceDeployments: (input: Input) => {
      const svc = this.service(input);
      const statuses = Array.isArray(input.status) ? (input.status as string[]) : [];
      const created = (input.createdAt ?? {}) as { before?: number; after?: number };
      const items = [...this.serviceDeployments.values()]
        .filter(
          (sd) =>
            sd.serviceArn === svc.serviceArn &&
            (!statuses.length || statuses.includes(sd.status)) &&
            (created.after === undefined || sd.createdAt.getTime() / 1000 >= created.after) &&
            (created.before === undefined || sd.createdAt.getTime() / 1000 <= created.before),
        )
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
        .map((sd) => ({
          serviceDeploymentArn: sd.serviceDeploymentArn,
          serviceArn: sd.serviceArn,
          clusterArn: sd.clusterArn,
          startedAt: sd.startedAt,
          createdAt: sd.createdAt,
          finishedAt: sd.finishedAt,
          targetServiceRevisionArn: sd.targetServiceRevision.arn,
          status: sd.status,
          statusReason: sd.statusReason,
        }));
      const { page, nextToken } = paginate(items, input, 20);
      return { serviceDeployments: page, nextToken };
    },
    DescribeServiceDeployments: (input: Input) => {
      const arns = input.serviceDeploymentArns;
      if (!Array.isArray(arns) || !arns.length)
        throw new AwsError('InvalidParameterException', '`serviceDeploymentArns` cannot be empty.');
      const serviceDeployments: unknown[] = [];
      const failures: unknown[] = [];
      for (const a of arns as string[]) {
        const sd = this.serviceDeployments.get(a);
        if (sd) serviceDeployments.push(this.sdView(sd));
        else
          failures.push({
            arn: a,
            reason: 'MISSING',
            detail: 'The service deployment does not exist.',
          });
      }
      return { serviceDeployments, failures };
    },
    DescribeServiceRevisions: (input: Input) => {
      const arns = input.serviceRevisionArns;
      if (!Array.isArray(arns) || !arns.length)
        throw new AwsError('InvalidParameterException', '`serviceRevisionArns` cannot be empty.');
      const serviceRevisions: unknown[] = [];
      const failures: unknown[] = [];
      for (const a of arns as string[]) {
        const r = this.revisions.get(a);
        if (r) serviceRevisions.push(r);
        else
          failures.push({
            arn: a,
            reason: 'MISSING',
            detail: 'The service revision does not exist.',
          });
      }
      return { serviceRevisions, failures };
    },
    StopServiceDeployment: (input: Input) => {
      const a = requireString(input, 'serviceDeploymentArn');
      const sd = this.serviceDeployments.get(a);
      if (!sd)
        throw new AwsError(
          'ServiceDeploymentNotFoundException',
          'The service deployment does not exist.',
        );
      const stopType = (input.stopType as string | undefined) ?? 'ROLLBACK';
      if (stopType !== 'ROLLBACK' && stopType !== 'ABORT')
        throw new AwsError('InvalidParameterException', '`stopType` must be ROLLBACK or ABORT.');
      if (!['PENDING', 'IN_PROGRESS'].includes(sd.status)) {
        throw new AwsError(
          'ConflictException',
          `The service deployment is ${sd.status} and cannot be stopped.`,
        );
      }
      const svc = [...this.services.values()].find((s) => s.serviceArn === sd.serviceArn);
      if (!svc) throw new AwsError('ServiceNotFoundException', 'Service not found.');
      sd.stopRequest = stopType;
      sd.status = stopType === 'ROLLBACK' ? 'ROLLBACK_REQUESTED' : 'STOP_REQUESTED';
      sd.updatedAt = this.opts.clock.now();
      const d = svc.deployments.find((x) => x.id === sd.deploymentId);
      if (!this.runtime(svc).blueGreenRunning && d) {
        // Rolling: roll back to the last completed revision (ABORT leaves tasks as they are).
        if (stopType === 'ROLLBACK') {
          this.failDeployment(
            svc,
            d,
            'stopped by request',
            'Service deployment rolled back because of a StopServiceDeployment request.',
            true,
          );
        } else {
          d.rolloutState = 'FAILED';
          d.rolloutStateReason =
            'Service deployment stopped because of a StopServiceDeployment request.';
          Object.assign(sd, {
            status: 'STOPPED',
            stoppedAt: this.opts.clock.now(),
            statusReason: d.rolloutStateReason,
          });
        }
      }
      return { serviceDeploymentArn: sd.serviceDeploymentArn };
    },
  };
}
