// Reading the ECS service a deploy or a rollback works on.
import { parenthetical } from '../../kit/src/log-text';
import type { Service } from '@aws-sdk/client-ecs';
import { ConfigurationError } from '../../kit/src/errors';
import type { StepLog } from '../../kit/src/step-log';
import type { EcsApi } from './api';

/** What a deploy or a rollback writes to the log; the action maps it to the runner. */
export type DeployLog = StepLog;

/**
 * The deploy was asked to start from the running revision, and the service has none. The message
 * states the fact; the action says which input asked for it.
 */
export class NoRunningRevisionError extends ConfigurationError {
  constructor(message: string) {
    super(message);
    this.name = 'NoRunningRevisionError';
  }
}

/**
 * Reads the service; a missing or inactive service is a configuration mistake, and so is one
 * with the EXTERNAL deployment controller. A service with the CODE_DEPLOY controller is returned
 * as it is: a caller that cannot deploy through CodeDeploy refuses it itself.
 */
export async function describeService(
  api: EcsApi,
  cluster: string | undefined,
  service: string,
): Promise<Service> {
  const out = await api.describeServices({ cluster, services: [service] });
  const found = out.services?.[0];
  const where = cluster ? ` in cluster \`${cluster}\`` : ' in the default cluster';
  if (!found) {
    const failure = out.failures?.[0];
    throw new ConfigurationError(
      `Service \`${service}\` was not found${where}${parenthetical(failure?.reason)}.`,
    );
  }
  if (found.status && found.status !== 'ACTIVE') {
    throw new ConfigurationError(`Service \`${service}\`${where} is ${found.status}, not ACTIVE.`);
  }
  const controller = found.deploymentController?.type;
  if (controller && controller !== 'ECS' && controller !== 'CODE_DEPLOY') {
    throw new ConfigurationError(
      `Service \`${service}\` uses the ${controller} deployment controller; shipkit deploys services that use ECS deployments (rolling, blue/green, linear, canary) or CodeDeploy blue/green.`,
    );
  }
  return found;
}
