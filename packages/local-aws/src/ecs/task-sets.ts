/**
 * Task sets: how services with the `CODE_DEPLOY` or `EXTERNAL` deployment controller run their
 * tasks. Each task set keeps `ceil(desiredCount × scale%)` tasks of its task definition,
 * registered in its own target group; the scheduler hands such services to {@link reconcileTaskSets}
 * instead of its rolling logic.
 */
import { AwsError } from '../contracts';
import { arn, digitsId, parseArn } from '../ids';
import type { EcsContext } from './context';
import { SETTLE_MS } from './scheduler';
import type { LoadBalancerRef, Service, Tag, Task } from './model';
import { clone, nameOf } from './util';

/** A task set as the API returns it (with `scale` in percent). */
export interface TaskSet {
  id: string;
  taskSetArn: string;
  serviceArn: string;
  clusterArn: string;
  startedBy?: string;
  externalId?: string;
  status: 'PRIMARY' | 'ACTIVE' | 'DRAINING';
  taskDefinition: string;
  computedDesiredCount: number;
  pendingCount: number;
  runningCount: number;
  createdAt: Date;
  updatedAt: Date;
  launchType?: string;
  platformVersion?: string;
  networkConfiguration?: unknown;
  loadBalancers: LoadBalancerRef[];
  serviceRegistries: unknown[];
  scale: { value: number; unit: 'PERCENT' };
  stabilityStatus: 'STEADY_STATE' | 'STABILIZING';
  stabilityStatusAt: Date;
  tags: Tag[];
}

/** A service whose tasks belong to task sets (kept on the service, so they are saved with it). */
export type TaskSetService = Service & { taskSets?: TaskSet[] };

/** True for services run by task sets (`CODE_DEPLOY` and `EXTERNAL` deployment controllers). */
export function usesTaskSets(svc: Service): svc is TaskSetService {
  return (
    svc.deploymentController.type === 'CODE_DEPLOY' || svc.deploymentController.type === 'EXTERNAL'
  );
}

/** The service's task sets (an empty list for other services). */
export function taskSetsOf(svc: Service): TaskSet[] {
  if (!usesTaskSets(svc)) return [];
  svc.taskSets ??= [];
  return svc.taskSets;
}

/** Options of {@link createTaskSet}. */
export interface NewTaskSet {
  taskDefinition: string;
  loadBalancers: LoadBalancerRef[];
  scalePercent: number;
  status: TaskSet['status'];
  externalId?: string;
  startedBy?: string;
  launchType?: string;
  platformVersion?: string;
  networkConfiguration?: unknown;
  tags?: Tag[];
}

/** Adds a task set to `svc`; its tasks register in its first load balancer's target group. */
export function createTaskSet(ctx: EcsContext, svc: TaskSetService, spec: NewTaskSet): TaskSet {
  const { region, account } = parseArn(svc.serviceArn)!;
  const id = `ecs-svc/${digitsId(19)}`;
  const now = ctx.opts.clock.now();
  const set: TaskSet = {
    id,
    taskSetArn: arn(
      'ecs',
      region,
      account,
      `task-set/${nameOf(svc.clusterArn)}/${svc.serviceName}/${id}`,
    ),
    serviceArn: svc.serviceArn,
    clusterArn: svc.clusterArn,
    startedBy: spec.startedBy,
    externalId: spec.externalId,
    status: spec.status,
    taskDefinition: spec.taskDefinition,
    computedDesiredCount: desiredFor(svc, spec.scalePercent),
    pendingCount: 0,
    runningCount: 0,
    createdAt: now,
    updatedAt: now,
    launchType: spec.launchType ?? svc.launchType,
    platformVersion: spec.platformVersion ?? svc.platformVersion,
    networkConfiguration: clone(spec.networkConfiguration ?? svc.networkConfiguration),
    loadBalancers: clone(spec.loadBalancers),
    serviceRegistries: [],
    scale: { value: spec.scalePercent, unit: 'PERCENT' },
    stabilityStatus: 'STABILIZING',
    stabilityStatusAt: now,
    tags: spec.tags ?? [],
  };
  ctx.state.deploymentRuntime.set(id, {
    targetGroups: spec.loadBalancers.map((l) => l.targetGroupArn).filter((x): x is string => !!x),
  });
  if (spec.status === 'PRIMARY') {
    for (const other of taskSetsOf(svc)) if (other.status === 'PRIMARY') other.status = 'ACTIVE';
    svc.taskDefinition = spec.taskDefinition;
  }
  taskSetsOf(svc).push(set);
  ctx.scheduler.kick(svc);
  return set;
}

/** The task set `ref` (id or ARN) of `svc`, or undefined. */
export function findTaskSet(svc: Service, ref: string): TaskSet | undefined {
  return taskSetsOf(svc).find((s) => s.taskSetArn === ref || s.id === ref);
}

/** The task set, or `TaskSetNotFoundException`. */
export function taskSet(svc: Service, ref: unknown): TaskSet {
  const set = typeof ref === 'string' ? findTaskSet(svc, ref) : undefined;
  if (!set)
    throw new AwsError('TaskSetNotFoundException', 'The specified task set does not exist.');
  return set;
}

function desiredFor(svc: Service, percent: number): number {
  return Math.ceil((svc.desiredCount * percent) / 100);
}

/** Makes `set` the service's PRIMARY task set (its task definition becomes the service's). */
export function makePrimary(ctx: EcsContext, svc: TaskSetService, set: TaskSet): void {
  const now = ctx.opts.clock.now();
  for (const other of taskSetsOf(svc))
    if (other.status === 'PRIMARY' && other !== set) {
      other.status = 'ACTIVE';
      other.updatedAt = now;
    }
  set.status = 'PRIMARY';
  set.updatedAt = now;
  svc.taskDefinition = set.taskDefinition;
  ctx.scheduler.kick(svc);
}

/** Changes the scale of a task set (percent of the service's desired count). */
export function scaleTaskSet(
  ctx: EcsContext,
  svc: TaskSetService,
  set: TaskSet,
  percent: number,
): void {
  set.scale = { value: percent, unit: 'PERCENT' };
  set.updatedAt = ctx.opts.clock.now();
  ctx.scheduler.kick(svc);
}

/** Starts draining a task set: its tasks stop and it disappears once they are gone. */
export function deleteTaskSet(ctx: EcsContext, svc: TaskSetService, set: TaskSet): void {
  set.status = 'DRAINING';
  set.scale = { value: 0, unit: 'PERCENT' };
  set.updatedAt = ctx.opts.clock.now();
  ctx.scheduler.kick(svc);
}

/**
 * Whether a task of a task set counts as healthy: RUNNING, passing its container health checks
 * (when it has some), and `healthy` in its target groups, or `unused` there (no listener routes to
 * the group yet, so the load balancer cannot judge it: the green task set before test traffic);
 * a task nothing judges counts after the scheduler's settle window ({@link SETTLE_MS}).
 */
export function taskSetTaskHealthy(ctx: EcsContext, t: Task): boolean {
  if (t.lastStatus !== 'RUNNING' || t.desiredStatus !== 'RUNNING') return false;
  if (t.healthStatus === 'UNHEALTHY') return false;
  const td = ctx.state.resolveTaskDef(t.taskDefinitionArn);
  const checks = td?.containerDefinitions.some(
    (c) => c.essential !== false && c.healthCheck?.command?.length,
  );
  if (checks && t.healthStatus !== 'HEALTHY') return false;
  let judged = !!checks;
  for (const target of t.targets ?? []) {
    const st = ctx.opts.elb.targetState(target.targetGroupArn, target.port)?.state;
    if (st !== 'healthy' && st !== 'unused') return false;
    if (st === 'healthy') judged = true;
  }
  // Nothing judges the task yet: it counts once it stayed RUNNING for the settle window, as
  // the scheduler treats tasks without health signals.
  if (!judged && !t.wasHealthy) {
    if (!t.startedAt || Date.now() < t.startedAt.getTime() + ctx.opts.clock.real(SETTLE_MS))
      return false;
    t.wasHealthy = true;
  }
  return true;
}

/**
 * The scheduler's work for a task-set service: keep each task set at its computed count
 * (launching with `launch`, stopping extras), drop drained task sets, update counts and stability.
 */
export function reconcileTaskSets(ctx: EcsContext, svc: TaskSetService): void {
  const { state, opts, scheduler } = ctx;
  const now = opts.clock.now();
  const sets = taskSetsOf(svc);
  const started: Task[] = [];
  const stopped: Task[] = [];
  for (const set of sets) {
    const desired = set.status === 'DRAINING' ? 0 : desiredFor(svc, set.scale.value);
    if (desired !== set.computedDesiredCount) {
      set.computedDesiredCount = desired;
      set.updatedAt = now;
    }
    const mine = state.liveTasks(svc, set.id);
    for (let i = mine.length; i < desired; i++) started.push(launchTask(ctx, svc, set));
    const order = [...mine].sort(
      (a, b) => Number(taskSetTaskHealthy(ctx, a)) - Number(taskSetTaskHealthy(ctx, b)),
    );
    for (const t of order.slice(0, Math.max(0, mine.length - desired))) {
      stopped.push(t);
      void scheduler.stopTask(
        t,
        `Scaling activity initiated by (deployment ${set.id})`,
        'ServiceSchedulerInitiated',
        false,
      );
    }
  }
  if (started.length)
    state.event(
      svc,
      `has started ${started.length} tasks: ${started.map((t) => `(task ${t.taskArn.split('/').pop()})`).join(' ')}.`,
    );
  if (stopped.length)
    state.event(
      svc,
      `has stopped ${stopped.length} running tasks: ${stopped.map((t) => `(task ${t.taskArn.split('/').pop()})`).join(' ')}.`,
    );
  svc.taskSets = sets.filter((s) => s.status !== 'DRAINING' || state.tasksOf(svc, s.id).length > 0);
  let running = 0;
  let pending = 0;
  for (const set of svc.taskSets) {
    const tasks = state.tasksOf(svc, set.id);
    set.runningCount = tasks.filter((t) => t.lastStatus === 'RUNNING').length;
    set.pendingCount = tasks.filter((t) =>
      ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(t.lastStatus),
    ).length;
    running += set.runningCount;
    pending += set.pendingCount;
    const live = state.liveTasks(svc, set.id);
    const steady =
      live.length === set.computedDesiredCount &&
      tasks.length === live.length &&
      live.every((t) => taskSetTaskHealthy(ctx, t));
    const stability = steady ? 'STEADY_STATE' : 'STABILIZING';
    if (stability !== set.stabilityStatus) {
      set.stabilityStatus = stability;
      set.stabilityStatusAt = now;
    }
  }
  svc.runningCount = running;
  svc.pendingCount = pending;
}

/** Creates a task of `set` (started by the task set's id) and starts it. */
function launchTask(ctx: EcsContext, svc: TaskSetService, set: TaskSet): Task {
  const td = ctx.state.resolveTaskDef(set.taskDefinition)!;
  const t = ctx.scheduler.newTask(
    svc.clusterArn,
    td,
    `service:${svc.serviceName}`,
    set.id,
    set.launchType,
  );
  t.deploymentId = set.id;
  t.serviceName = svc.serviceName;
  if (svc.propagateTags === 'SERVICE') t.tags = clone(svc.tags);
  else if (svc.propagateTags === 'TASK_DEFINITION') t.tags = clone(td.tags);
  ctx.scheduler.startTask(t, td, svc);
  return t;
}

/** The service view with its task sets, as DescribeServices returns a task-set service. */
export function withTaskSets(view: unknown, svc: Service): unknown {
  if (!usesTaskSets(svc)) return view;
  return { ...(view as object), deployments: [], taskSets: taskSetsOf(svc).map(taskSetView) };
}

/** What DescribeTaskSets returns for a task set. */
export function taskSetView(set: TaskSet): unknown {
  // Dates stay this realm's (the JSON writer turns them into epoch seconds).
  return {
    ...clone(set),
    createdAt: set.createdAt,
    updatedAt: set.updatedAt,
    stabilityStatusAt: set.stabilityStatusAt,
  };
}
