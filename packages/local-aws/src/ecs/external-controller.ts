/**
 * What Create/UpdateService do differently for services with the `CODE_DEPLOY` or `EXTERNAL`
 * deployment controller: the controller check, the initial task set, and the changes ECS
 * refuses because a deployment of such a service belongs to CodeDeploy (or the external deployer).
 */
import { AwsError } from '../contracts';
import type { EcsContext } from './context';
import type { LoadBalancerRef, Service } from './model';
import { createTaskSet, type TaskSetService } from './task-sets';
import type { Input } from './util';

/** `deploymentController.type` of CreateService: ECS, CODE_DEPLOY (with a load balancer) or EXTERNAL. */
export function checkDeploymentController(type: string, loadBalancers: LoadBalancerRef[]): void {
  if (!['ECS', 'CODE_DEPLOY', 'EXTERNAL'].includes(type))
    throw new AwsError(
      'InvalidParameterException',
      `\`deploymentController.type\` must be ECS, CODE_DEPLOY or EXTERNAL, got \`${type}\`.`,
    );
  if (type === 'CODE_DEPLOY' && !loadBalancers.length)
    throw new AwsError(
      'InvalidParameterException',
      'A service with the CODE_DEPLOY deployment controller needs a load balancer (`loadBalancers`).',
    );
}

/**
 * A new CODE_DEPLOY service starts with one PRIMARY task set at 100% in its first target group
 * (an EXTERNAL service starts with none: its deployer creates them).
 */
export function startTaskSetService(ctx: EcsContext, svc: TaskSetService): void {
  svc.taskSets = [];
  if (svc.deploymentController.type !== 'CODE_DEPLOY') return;
  createTaskSet(ctx, svc, {
    taskDefinition: svc.taskDefinition,
    loadBalancers: svc.loadBalancers.slice(0, 1),
    scalePercent: 100,
    status: 'PRIMARY',
  });
}

/**
 * UpdateService on a task-set service may change the desired count, deployment configuration,
 * health-check grace period and the like, not what a deployment changes: ECS answers a task
 * definition change with "Use AWS CodeDeploy to trigger a new deployment."
 */
export function refuseTaskSetServiceChanges(svc: Service, input: Input): void {
  const type = svc.deploymentController.type;
  if (type !== 'CODE_DEPLOY' && type !== 'EXTERNAL') return;
  if (input.taskDefinition !== undefined && input.taskDefinition !== svc.taskDefinition) {
    throw new AwsError(
      'InvalidParameterException',
      type === 'CODE_DEPLOY'
        ? 'Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.'
        : 'Unable to update task definition on services with an EXTERNAL deployment controller. Use a task set to deploy a new task definition.',
    );
  }
  for (const member of ['loadBalancers', 'networkConfiguration', 'forceNewDeployment'] as const) {
    if (input[member] !== undefined && input[member] !== false)
      throw new AwsError(
        'InvalidParameterException',
        `\`${member}\` cannot be updated on services with a ${type} deployment controller.`,
      );
  }
}
