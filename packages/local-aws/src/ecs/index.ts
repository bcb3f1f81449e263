/**
 * ECS: clusters, task definitions, services with rolling and blue/green deployments, service
 * deployments and revisions, and tasks that run as local processes. This file only wires the
 * parts together; `README.md` says which file holds what.
 */
import { join } from 'node:path';
import type { JsonOperation } from '../contracts';
import { BlueGreen } from './blue-green';
import { FargateCapacity, type WithholdCapacity } from './capacity';
import type { EcsContext, EcsOptions } from './context';
import { Deployments } from './deployments';
import { clusterOperations } from './operations/clusters';
import { serviceDeploymentOperations } from './operations/service-deployments';
import { serviceOperations } from './operations/services';
import { tagOperations } from './operations/tags';
import { taskDefinitionOperations } from './operations/task-definitions';
import { taskOperations } from './operations/tasks';
import { Scheduler } from './scheduler';
import { EcsState } from './state';
import { TaskRunner } from './task-runner';

export type { EcsOptions } from './context';
export { FARGATE_CAPACITY_UNAVAILABLE, type WithholdCapacity } from './capacity';

/** The ECS part of local-aws. */
export class Ecs {
  /** Starts and stops the tasks' processes (and knows where their logs are). */
  readonly runner: TaskRunner;
  /** JSON operations by name. */
  readonly operations: Record<string, JsonOperation>;
  private readonly ctx: EcsContext;

  constructor(opts: EcsOptions) {
    this.runner = new TaskRunner(
      opts.clock,
      opts.images,
      opts.faults,
      join(opts.dataDir, 'task-logs'),
    );
    const parts: { -readonly [K in keyof EcsContext]?: EcsContext[K] } = {
      opts,
      state: new EcsState(opts.clock),
      runner: this.runner,
      capacity: new FargateCapacity(),
    };
    const ctx = parts as EcsContext;
    parts.deployments = new Deployments(ctx);
    parts.blueGreen = new BlueGreen(ctx);
    parts.scheduler = new Scheduler(ctx);
    this.ctx = ctx;
    this.operations = {
      ...clusterOperations(ctx),
      ...taskDefinitionOperations(ctx),
      ...serviceOperations(ctx),
      ...taskOperations(ctx),
      ...tagOperations(ctx),
      ...serviceDeploymentOperations(ctx),
    };
    ctx.scheduler.start();
  }

  /** Stops the scheduler and every task's processes. */
  close(): Promise<void> {
    return this.ctx.scheduler.close();
  }

  /** JSON-serialisable state for the state file and `GET /_local/state`. */
  snapshot(): unknown {
    return this.ctx.state.snapshot();
  }

  /**
   * Loads saved state. Tasks that were running are gone with the old process: they are marked
   * STOPPED and the scheduler starts replacements; interrupted deployments end as STOPPED.
   */
  restore(state: unknown): void {
    for (const svc of this.ctx.state.restore(state)) this.ctx.scheduler.kick(svc);
  }

  /** Stops a task as a fault would (host failure). */
  stopTaskByFault(taskArn: string, reason: string): void {
    this.ctx.scheduler.stopTaskByFault(taskArn, reason);
  }

  /**
   * Makes the next RunTask calls find no Fargate capacity: each answers with no tasks and one
   * `failures` entry per task (reason "Capacity is unavailable at this time. …"), as ECS does.
   */
  withholdFargateCapacity(opts: WithholdCapacity = {}): void {
    this.ctx.capacity.withhold(opts);
  }

  /** The capacity outages still to come (RunTask calls each will refuse, and the reason). */
  withheldFargateCapacity(): { runTasks: number; reason: string }[] {
    return this.ctx.capacity.pending();
  }

  /** Ends every capacity outage. */
  restoreFargateCapacity(): void {
    this.ctx.capacity.restore();
  }
}
