/**
 * ECS state: clusters, task definitions, services, tasks, service revisions and deployments,
 * the scheduler's bookkeeping per deployment and service, lookups, and snapshot/restore.
 */
import { AwsError } from '../contracts';
import type { Clock } from '../clock';
import { parseArn, requestId as uuid } from '../ids';
import type {
  Cluster,
  Deployment,
  Service,
  ServiceDeployment,
  ServiceRevision,
  Task,
  TaskDefinition,
} from './model';
import { nameOf, requireString, type Input } from './util';

const MAX_EVENTS = 100;
const MAX_STOPPED_TASKS = 200;

/** Scheduler bookkeeping for one deployment (`ecs-svc/…`). */
export interface DeploymentRuntime {
  /** Target groups this deployment's tasks register in. */
  targetGroups: string[];
}

/** The last deployment of a service that completed (the circuit breaker's rollback target). */
export interface CompletedDeployment {
  deploymentId: string;
  taskDefinition: string;
  serviceRevisionArn: string;
}

/** A failed deployment waiting for an older one to complete before it is rolled back. */
export interface PendingRollback {
  deploymentId: string;
  cause: string;
  reason: string;
}

/** Scheduler bookkeeping for one service (by service ARN). */
export interface ServiceRuntime {
  lastCompleted?: CompletedDeployment;
  blueGreenRunning?: boolean;
  pendingRollback?: PendingRollback;
}

/** Every ECS resource local-aws holds, and the lookups the operations and the scheduler share. */
export class EcsState {
  readonly clusters = new Map<string, Cluster>();
  /** Task definitions by family, in revision order. */
  readonly taskDefs = new Map<string, TaskDefinition[]>();
  /** Services by `cluster/name`. */
  readonly services = new Map<string, Service>();
  readonly tasks = new Map<string, Task>();
  readonly revisions = new Map<string, ServiceRevision>();
  readonly serviceDeployments = new Map<string, ServiceDeployment>();
  readonly deploymentRuntime = new Map<string, DeploymentRuntime>();
  readonly serviceRuntime = new Map<string, ServiceRuntime>();
  /** Deployments that roll back a failed one: alarms and the circuit breaker do not act on them. */
  readonly rollbacks = new Set<string>();

  constructor(private readonly clock: Clock) {}

  // ---- lookups -------------------------------------------------------------------------------

  /** The key of a service in {@link services}. */
  serviceKey(s: Service): string {
    return `${nameOf(s.clusterArn)}/${s.serviceName}`;
  }

  /** An ACTIVE cluster by name or ARN (`default` when absent), or ClusterNotFoundException. */
  cluster(ref: unknown): Cluster {
    const name = typeof ref === 'string' && ref ? nameOf(ref) : 'default';
    const c = this.clusters.get(name);
    if (!c || c.status !== 'ACTIVE')
      throw new AwsError('ClusterNotFoundException', 'Cluster not found.');
    return c;
  }

  /** A service of `cluster` by name or ARN. */
  findService(cluster: Cluster, ref: string): Service | undefined {
    return this.services.get(`${cluster.clusterName}/${nameOf(ref)}`);
  }

  /** The service an operation names (`cluster` + `service`), or ServiceNotFoundException. */
  service(input: Input, key = 'service'): Service {
    const cluster = this.cluster(input.cluster);
    const svc = this.findService(cluster, requireString(input, key));
    if (!svc) throw new AwsError('ServiceNotFoundException', 'Service not found.');
    return svc;
  }

  /** The service a task belongs to, if any. */
  serviceOf(t: Task): Service | undefined {
    return t.serviceName
      ? this.services.get(`${nameOf(t.clusterArn)}/${t.serviceName}`)
      : undefined;
  }

  /** `family`, `family:N` or a task definition ARN; a bare family is its latest ACTIVE revision. */
  resolveTaskDef(ref: string): TaskDefinition | undefined {
    const m = /(?:task-definition\/)?([A-Za-z0-9_-]+)(?::(\d+))?$/.exec(ref);
    if (!m) return undefined;
    const list = this.taskDefs.get(m[1]) ?? [];
    if (m[2]) return list.find((t) => t.revision === Number(m[2]));
    return [...list].reverse().find((t) => t.status === 'ACTIVE');
  }

  /** A task by ARN, or by id within `clusterArn`. */
  findTask(ref: string, clusterArn?: string): Task | undefined {
    return (
      this.tasks.get(ref) ??
      [...this.tasks.values()].find(
        (x) => (!clusterArn || x.clusterArn === clusterArn) && x.taskArn.endsWith(`/${ref}`),
      )
    );
  }

  region(svcOrCluster: { clusterArn: string }): string {
    return parseArn(svcOrCluster.clusterArn)?.region ?? 'us-east-1';
  }

  /** The service's scheduler bookkeeping (created on first use). */
  runtime(svc: Service): ServiceRuntime {
    const key = svc.serviceArn;
    let rt = this.serviceRuntime.get(key);
    if (!rt) {
      rt = {};
      this.serviceRuntime.set(key, rt);
    }
    return rt;
  }

  /** The service deployment a deployment belongs to. */
  sdOf(d: Deployment): ServiceDeployment | undefined {
    return this.serviceDeployments.get(d.serviceDeploymentArn);
  }

  primary(svc: Service): Deployment | undefined {
    return svc.deployments.find((d) => d.status === 'PRIMARY');
  }

  /** Tasks of `svc` (of one deployment when given) that are not STOPPED yet. */
  tasksOf(svc: Service, deploymentId?: string): Task[] {
    return [...this.tasks.values()].filter(
      (t) =>
        t.serviceName === svc.serviceName &&
        t.clusterArn === svc.clusterArn &&
        t.lastStatus !== 'STOPPED' &&
        (!deploymentId || t.deploymentId === deploymentId),
    );
  }

  /** {@link tasksOf} that are still meant to run (not being stopped). */
  liveTasks(svc: Service, deploymentId?: string): Task[] {
    return this.tasksOf(svc, deploymentId).filter((t) => t.desiredStatus === 'RUNNING');
  }

  /** Adds a service event (newest first, at most 100 kept). */
  event(svc: Service, message: string): void {
    svc.events.unshift({
      id: uuid(),
      createdAt: this.clock.now(),
      message: `(service ${svc.serviceName}) ${message}`,
    });
    if (svc.events.length > MAX_EVENTS) svc.events.length = MAX_EVENTS;
  }

  /** Keeps at most 200 STOPPED tasks (the oldest go first). */
  pruneStopped(): void {
    const stopped = [...this.tasks.values()].filter((t) => t.lastStatus === 'STOPPED');
    for (const t of stopped.slice(0, Math.max(0, stopped.length - MAX_STOPPED_TASKS)))
      this.tasks.delete(t.taskArn);
  }

  // ---- snapshot and restore --------------------------------------------------------------------

  /** JSON-serialisable state for the state file and `GET /_local/state`. */
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
   * STOPPED; interrupted deployments end as STOPPED. Returns the ACTIVE services, which the
   * scheduler must bring back to their counts.
   */
  restore(state: unknown): Service[] {
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
    const now = this.clock.now();
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
    const active: Service[] = [];
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
      if (svc.status === 'ACTIVE') active.push(svc);
    }
    return active;
  }
}
