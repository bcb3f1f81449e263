// The CodeDeploy application and deployment group a deployment goes to, read and checked
// before anything is registered.
import type { DeploymentGroupInfo } from '@aws-sdk/client-codedeploy';
import { ConfigurationError } from '../../../kit/src/errors';
import { parenthetical } from '../../../kit/src/log-text';
import type { CodeDeployApi } from './api';

/** Where a deployment goes: the application and the deployment group, and the configuration. */
export interface CodeDeployTarget {
  application: string;
  deploymentGroup: string;
  /** A deployment configuration name; unset keeps the group's. */
  config?: string;
  /** Which of the names are the console's defaults (not given). */
  defaulted?: { application: boolean; deploymentGroup: boolean };
}

/** The application or the deployment group does not exist. `which` says which one. */
export class UnknownCodeDeployTargetError extends ConfigurationError {
  constructor(
    readonly which: 'application' | 'deployment-group',
    readonly resourceName: string,
    message: string,
    /** True when the name was not given and is the console's default. */
    readonly defaulted = false,
  ) {
    super(message);
    this.name = 'UnknownCodeDeployTargetError';
  }
}

/** The deployment group cannot hold a deployment at the test listener (the fact, in words). */
export class TestTrafficWaitError extends ConfigurationError {
  constructor(message: string) {
    super(message);
    this.name = 'TestTrafficWaitError';
  }
}

/** The default names the ECS console gives: `AppECS-<cluster>-<service>`, `DgpECS-<cluster>-<service>`. */
export function defaultCodeDeployNames(
  clusterName: string,
  serviceName: string,
): { application: string; deploymentGroup: string } {
  return {
    application: `AppECS-${clusterName}-${serviceName}`,
    deploymentGroup: `DgpECS-${clusterName}-${serviceName}`,
  };
}

/**
 * Reads the deployment group (GetDeploymentGroup); an unknown application or group is a
 * {@link UnknownCodeDeployTargetError}.
 */
export async function readDeploymentGroup(
  api: CodeDeployApi,
  target: CodeDeployTarget,
): Promise<DeploymentGroupInfo> {
  try {
    const out = await api.getDeploymentGroup({
      applicationName: target.application,
      deploymentGroupName: target.deploymentGroup,
    });
    if (!out.deploymentGroupInfo)
      throw new UnknownCodeDeployTargetError(
        'deployment-group',
        target.deploymentGroup,
        `CodeDeploy returned no deployment group \`${target.deploymentGroup}\`.`,
      );
    return out.deploymentGroupInfo;
  } catch (error) {
    const name = (error as { name?: string }).name;
    const message = (error as { message?: string }).message;
    if (name === 'ApplicationDoesNotExistException')
      throw new UnknownCodeDeployTargetError(
        'application',
        target.application,
        `CodeDeploy application \`${target.application}\` does not exist${parenthetical(message)}.`,
        target.defaulted?.application,
      );
    if (name === 'DeploymentGroupDoesNotExistException')
      throw new UnknownCodeDeployTargetError(
        'deployment-group',
        target.deploymentGroup,
        `CodeDeploy deployment group \`${target.deploymentGroup}\` does not exist in application \`${target.application}\`${parenthetical(message)}.`,
        target.defaulted?.deploymentGroup,
      );
    throw error;
  }
}

/**
 * Checks that a deployment of `group` stops in `Ready` with test traffic on green and waits for
 * a go-ahead: the group has a test listener and `deploymentReadyOption.actionOnTimeout` is
 * `STOP_DEPLOYMENT`. Returns a warning when the group waits a while and then goes on by itself;
 * throws {@link TestTrafficWaitError} when it reroutes production traffic at once.
 */
export function checkTestTrafficWait(group: DeploymentGroupInfo): string | undefined {
  const name = group.deploymentGroupName ?? 'the deployment group';
  const pairs = group.loadBalancerInfo?.targetGroupPairInfoList ?? [];
  if (!pairs.some((p) => p.testTrafficRoute?.listenerArns?.length))
    throw new TestTrafficWaitError(
      `deployment group \`${name}\` has no test listener (testTrafficRoute), so green never serves test traffic before production.`,
    );
  const ready = group.blueGreenDeploymentConfiguration?.deploymentReadyOption;
  const action = ready?.actionOnTimeout ?? 'CONTINUE_DEPLOYMENT';
  const minutes = ready?.waitTimeInMinutes ?? 0;
  if (action === 'STOP_DEPLOYMENT') return undefined;
  if (minutes <= 0)
    throw new TestTrafficWaitError(
      `deployment group \`${name}\` reroutes production traffic as soon as green is ready (deploymentReadyOption ${action} after ${minutes} minutes), so there is no test-traffic stop to wait for; set "wait before rerouting production traffic" (actionOnTimeout STOP_DEPLOYMENT) on the group.`,
    );
  return `Deployment group \`${name}\` waits ${minutes} minute(s) in Ready and then reroutes production traffic by itself (actionOnTimeout CONTINUE_DEPLOYMENT): a gate after this step has that long.`;
}
