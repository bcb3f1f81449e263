/**
 * The calls a CodeDeploy ECS deployment makes to ECS and ELBv2, through their own APIs: read the
 * service and its task sets, create, promote and delete task sets, find the green task set's
 * failed tasks, and set the listeners' forward weights.
 */
import { AwsError, type RequestContext } from '../contracts';
import type { CodeDeployOptions } from './context';

/** A task set as DescribeServices shows it (the members CodeDeploy reads). */
export interface TaskSetInfo {
  id: string;
  taskSetArn: string;
  status: string;
  taskDefinition: string;
  computedDesiredCount: number;
  pendingCount: number;
  runningCount: number;
  stabilityStatus: string;
  loadBalancers: { targetGroupArn?: string; containerName?: string; containerPort?: number }[];
}

/** A service as DescribeServices shows it (the members CodeDeploy reads). */
export interface ServiceInfo {
  serviceArn: string;
  serviceName: string;
  clusterArn: string;
  status: string;
  launchType?: string;
  platformVersion?: string;
  networkConfiguration?: unknown;
  deploymentController?: { type?: string };
  loadBalancers: { targetGroupArn?: string; containerName?: string; containerPort?: number }[];
  taskSets?: TaskSetInfo[];
}

/** A stopped task of a task set, with why it stopped. */
export interface StoppedTask {
  taskArn: string;
  stoppedReason: string;
  exitCode?: number;
}

/** ECS and ELBv2 as a deployment of one service sees them. */
export class EcsCalls {
  constructor(
    private readonly opts: CodeDeployOptions,
    private readonly rc: RequestContext,
  ) {}

  private async ecs<T>(op: string, input: Record<string, unknown>): Promise<T> {
    return (await Promise.resolve(this.opts.ecs[op](input, this.rc))) as T;
  }

  private async elb<T>(op: string, input: Record<string, string | string[]>): Promise<T> {
    return (await Promise.resolve(this.opts.elb.operations[op](input, this.rc))) as T;
  }

  /** The service, or undefined when ECS does not know it (or it is not ACTIVE). */
  async service(cluster: string, service: string): Promise<ServiceInfo | undefined> {
    try {
      const out = await this.ecs<{ services: ServiceInfo[] }>('DescribeServices', {
        cluster,
        services: [service],
      });
      const svc = out.services[0];
      return svc && svc.status === 'ACTIVE' ? svc : undefined;
    } catch (error) {
      if (error instanceof AwsError && error.code === 'ClusterNotFoundException') return undefined;
      throw error;
    }
  }

  /** Creates the replacement task set at 100% in `targetGroupArn`. */
  async createTaskSet(input: {
    cluster: string;
    service: string;
    taskDefinition: string;
    targetGroupArn: string;
    containerName: string;
    containerPort: number;
    externalId: string;
    launchType?: string;
    platformVersion?: string;
    networkConfiguration?: unknown;
  }): Promise<TaskSetInfo> {
    const out = await this.ecs<{ taskSet: TaskSetInfo }>('CreateTaskSet', {
      cluster: input.cluster,
      service: input.service,
      taskDefinition: input.taskDefinition,
      externalId: input.externalId,
      launchType: input.launchType,
      platformVersion: input.platformVersion,
      networkConfiguration: input.networkConfiguration,
      loadBalancers: [
        {
          targetGroupArn: input.targetGroupArn,
          containerName: input.containerName,
          containerPort: input.containerPort,
        },
      ],
      scale: { value: 100, unit: 'PERCENT' },
    });
    return out.taskSet;
  }

  /** Makes a task set the service's PRIMARY. */
  async makePrimary(cluster: string, service: string, taskSet: string): Promise<void> {
    await this.ecs('UpdateServicePrimaryTaskSet', { cluster, service, primaryTaskSet: taskSet });
  }

  /** Deletes a task set (its tasks drain and stop); no error when it is already gone. */
  async deleteTaskSet(cluster: string, service: string, taskSet: string): Promise<void> {
    try {
      await this.ecs('DeleteTaskSet', { cluster, service, taskSet, force: true });
    } catch (error) {
      if (!(error instanceof AwsError && error.code === 'TaskSetNotFoundException')) throw error;
    }
  }

  /** Tasks of the task set that stopped other than by scaling in, newest first. */
  async failedTasks(cluster: string, taskSetId: string): Promise<StoppedTask[]> {
    const list = await this.ecs<{ taskArns: string[] }>('ListTasks', {
      cluster,
      startedBy: taskSetId,
      desiredStatus: 'STOPPED',
    });
    if (!list.taskArns.length) return [];
    const out = await this.ecs<{
      tasks: {
        taskArn: string;
        stoppedReason?: string;
        stoppedAt?: Date;
        containers: { exitCode?: number }[];
      }[];
    }>('DescribeTasks', { cluster, tasks: list.taskArns.slice(0, 100) });
    return out.tasks
      .filter((t) => !(t.stoppedReason ?? '').startsWith('Scaling activity'))
      .sort((a, b) => (b.stoppedAt?.getTime() ?? 0) - (a.stoppedAt?.getTime() ?? 0))
      .map((t) => ({
        taskArn: t.taskArn,
        stoppedReason: t.stoppedReason ?? '',
        exitCode: t.containers.find((c) => c.exitCode !== undefined && c.exitCode !== 0)?.exitCode,
      }));
  }

  /** Target group ARN by name, or undefined. */
  async targetGroupArn(name: string): Promise<string | undefined> {
    try {
      const out = await this.elb<{ TargetGroups: { TargetGroupArn: string }[] }>(
        'DescribeTargetGroups',
        { Names: [name] },
      );
      return out.TargetGroups[0]?.TargetGroupArn;
    } catch {
      return undefined;
    }
  }

  /** Whether the group has at least `count` targets and all of them are `healthy`. */
  async targetsHealthy(tgArn: string, count: number): Promise<boolean> {
    const out = await this.elb<{
      TargetHealthDescriptions: { TargetHealth?: { State?: string } }[];
    }>('DescribeTargetHealth', { TargetGroupArn: tgArn });
    const all = out.TargetHealthDescriptions;
    return all.length >= count && all.every((t) => t.TargetHealth?.State === 'healthy');
  }

  /** The default rule of a listener (whose forward action CodeDeploy rewrites), or undefined. */
  async defaultRule(listenerArn: string): Promise<string | undefined> {
    try {
      const out = await this.elb<{ Rules: { RuleArn: string; IsDefault: boolean }[] }>(
        'DescribeRules',
        { ListenerArn: listenerArn },
      );
      return out.Rules.find((r) => r.IsDefault)?.RuleArn;
    } catch {
      return undefined;
    }
  }

  /** Sends `greenPercent` of a listener's traffic to green and the rest to blue. */
  route(ruleArn: string, blueTg: string, greenTg: string, greenPercent: number): void {
    this.opts.elb.setForwardWeights(ruleArn, {
      [blueTg]: 100 - greenPercent,
      [greenTg]: greenPercent,
    });
  }

  /** The share (0–100) of a listener's traffic that goes to `tgArn`. */
  share(ruleArn: string, tgArn: string): number {
    const w = this.opts.elb.forwardWeights(ruleArn);
    const total = Object.values(w).reduce((a, b) => a + b, 0);
    return total > 0 ? Math.round(((w[tgArn] ?? 0) * 100) / total) : 0;
  }
}
