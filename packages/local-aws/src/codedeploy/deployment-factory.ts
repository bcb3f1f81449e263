/** New deployment records: a user's CreateDeployment and the rollback deployments CodeDeploy makes. */
import { randomInt } from 'node:crypto';
import { copy } from './copy';
import type { Deployment, DeploymentGroup, LifecycleEvent } from './model';
import type { CodeDeployState } from './state';

/** The lifecycle events of an ECS deployment, in AWS's order. */
export const ECS_LIFECYCLE_EVENTS = [
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'AllowTestTraffic',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AllowTraffic',
  'AfterAllowTraffic',
] as const;

/** `d-` and nine upper-case letters and digits, as CodeDeploy's deployment ids read. */
function deploymentId(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let s = 'd-';
  for (let i = 0; i < 9; i++) s += chars[randomInt(0, chars.length)];
  return s;
}

/** Options of {@link newDeployment}. */
export interface NewDeployment {
  revision: Deployment['revision'];
  deploymentConfigName: string;
  creator: Deployment['creator'];
  description?: string;
  autoRollbackConfiguration?: Deployment['autoRollbackConfiguration'];
  now: Date;
}

/** Records a new deployment (status Created) of the group's ECS service. */
export function newDeployment(
  state: CodeDeployState,
  group: DeploymentGroup,
  spec: NewDeployment,
): Deployment {
  const svc = group.ecsServices[0];
  let id = deploymentId();
  while (state.deployments.has(id)) id = deploymentId();
  const previous = group.lastSuccessfulDeployment
    ? state.deployments.get(group.lastSuccessfulDeployment.deploymentId)
    : undefined;
  const d: Deployment = {
    applicationName: group.applicationName,
    deploymentGroupName: group.deploymentGroupName,
    deploymentConfigName: spec.deploymentConfigName,
    deploymentId: id,
    revision: copy(spec.revision),
    previousRevision: previous ? copy(previous.revision) : undefined,
    status: 'Created',
    createTime: spec.now,
    deploymentOverview: {
      Pending: 1,
      InProgress: 0,
      Succeeded: 0,
      Failed: 0,
      Skipped: 0,
      Ready: 0,
    },
    description: spec.description,
    creator: spec.creator,
    autoRollbackConfiguration: copy(
      spec.autoRollbackConfiguration ?? group.autoRollbackConfiguration,
    ),
    deploymentStyle: copy(group.deploymentStyle),
    blueGreenDeploymentConfiguration: copy(group.blueGreenDeploymentConfiguration),
    loadBalancerInfo: copy(group.loadBalancerInfo),
    computePlatform: 'ECS',
    deploymentStatusMessages: [],
    instanceTerminationWaitTimeStarted: false,
    target: {
      deploymentId: id,
      targetId: `${svc.clusterName}:${svc.serviceName}`,
      targetArn: '',
      lastUpdatedAt: spec.now,
      lifecycleEvents: ECS_LIFECYCLE_EVENTS.map((name): LifecycleEvent => ({
        lifecycleEventName: name,
        status: 'Pending',
      })),
      status: 'Pending',
      taskSetsInfo: [],
    },
    log: [],
  };
  state.deployments.set(id, d);
  return d;
}
