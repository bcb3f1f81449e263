/** What the ECS API returns for each resource: internal bookkeeping removed, counts current. */
import type { Deployment, Service, ServiceDeployment, Task, TaskDefinition } from './model';
import type { EcsState } from './state';
import { nameOf } from './util';

/** Recomputes the running/pending counts of a service, its deployments and its cluster. */
export function updateCounts(state: EcsState, svc: Service): void {
  const live = state.liveTasks(svc);
  for (const d of svc.deployments) {
    const mine = live.filter((t) => t.deploymentId === d.id);
    d.runningCount = mine.filter((t) => t.lastStatus === 'RUNNING').length;
    d.pendingCount = mine.filter((t) => t.lastStatus !== 'RUNNING').length;
  }
  svc.runningCount = live.filter((t) => t.lastStatus === 'RUNNING').length;
  svc.pendingCount = live.filter((t) => t.lastStatus !== 'RUNNING').length;
  const cluster = state.clusters.get(nameOf(svc.clusterArn));
  if (cluster) {
    const all = [...state.tasks.values()].filter(
      (t) => t.clusterArn === cluster.clusterArn && t.desiredStatus === 'RUNNING',
    );
    cluster.runningTasksCount = all.filter((t) => t.lastStatus === 'RUNNING').length;
    cluster.pendingTasksCount = all.length - cluster.runningTasksCount;
    cluster.activeServicesCount = [...state.services.values()].filter(
      (s) => s.clusterArn === cluster.clusterArn && s.status === 'ACTIVE',
    ).length;
  }
}

/** A service as DescribeServices returns it (with `currentServiceRevisions`). */
export function serviceView(state: EcsState, svc: Service, includeTags: boolean): unknown {
  updateCounts(state, svc);
  const { productionTargetGroupArn: _p, unsteady: _u, tags, deployments, ...rest } = svc;
  const currentServiceRevisions = svc.deployments.map((d) => ({
    arn: d.serviceRevisionArn,
    requestedTaskCount: d.desiredCount,
    runningTaskCount: d.runningCount,
    pendingTaskCount: d.pendingCount,
  }));
  return {
    ...rest,
    deployments: deployments.map((d) => deploymentView(d)),
    currentServiceRevisions,
    ...(includeTags ? { tags } : {}),
  };
}

/** A `deployments[]` entry. */
export function deploymentView(d: Deployment): unknown {
  const { serviceDeploymentArn: _a, serviceRevisionArn: _b, ...rest } = d;
  return rest;
}

/** A task as DescribeTasks returns it. */
export function taskView(t: Task, includeTags: boolean): unknown {
  const { deploymentId: _d, serviceName: _s, targets: _t, wasHealthy: _w, tags, ...rest } = t;
  return { ...rest, ...(includeTags ? { tags } : {}) };
}

/** A service deployment as DescribeServiceDeployments returns it. */
export function serviceDeploymentView(sd: ServiceDeployment): unknown {
  const { deploymentId: _d, stopRequest: _s, ...rest } = sd;
  return rest;
}

/** A task definition without its tags (they are returned beside it). */
export function taskDefinitionView(td: TaskDefinition): unknown {
  const { tags: _t, ...rest } = td;
  return rest;
}
