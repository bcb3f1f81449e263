/** What the Get and BatchGet operations return: bookkeeping removed, copies of the state. */
import { copy } from './copy';
import type { Deployment, DeploymentGroup } from './model';

/** `deploymentInfo` of GetDeployment / BatchGetDeployments. */
export function deploymentView(d: Deployment): unknown {
  const { target: _target, log: _log, ...info } = d;
  return {
    ...copy(info),
    deploymentStatusMessages: [...d.deploymentStatusMessages],
  };
}

/** `deploymentTarget` of GetDeploymentTarget / BatchGetDeploymentTargets (an ECS target). */
export function targetView(d: Deployment): unknown {
  return { deploymentTargetType: 'ECSTarget', ecsTarget: copy(d.target) };
}

/** `deploymentGroupInfo` of GetDeploymentGroup. */
export function groupView(g: DeploymentGroup): unknown {
  const { tags: _tags, ...info } = g;
  return copy(info);
}
