// The action layer shared by the two ECS service actions, ecs-deploy and rollback: the ECS API
// they call through, their log, their GitHub Deployment statuses and the summary sections on
// what the service did.
import * as core from '../../../packages/kit/src/core';
import type { ECSClient, ServiceEvent } from '@aws-sdk/client-ecs';
import { CancelledError, errorMessage } from '../../../packages/kit/src/errors';
import type { SummaryBuilder } from '../../../packages/kit/src/summary';
import type {
  DeploymentState,
  GitHubDeployments,
} from '../../../packages/kit/src/github-deployments';
import type { EcsApi } from '../../../packages/ecs/src/api';
import type { DeployLog } from '../../../packages/ecs/src/deploy';
import type { StoppedTask } from '../../../packages/ecs/src/stopped-tasks';

/** The action's log, on the kit's runner protocol. */
export const coreLog: DeployLog = {
  info: (m) => core.info(m),
  debug: (m) => core.debug(m),
  warning: (m) => core.warning(m),
  group: (name, fn) => core.group(name, fn),
};

/** Builds the ECS API from the SDK client, after inputs are validated (lazy imports keep cold start small). */
export async function realEcsApi(): Promise<EcsApi> {
  const [{ ECSClient }, kitAws, { createEcsApi }] = await Promise.all([
    import('@aws-sdk/client-ecs'),
    import('../../../packages/kit/src/aws'),
    import('../../../packages/ecs/src/api'),
  ]);
  const client: ECSClient = kitAws.withErrorContext(
    new ECSClient(kitAws.awsClientConfig(kitAws.resolveRegion())),
    'ECS',
  );
  return createEcsApi(client);
}

/**
 * The ECS API an action calls through: `injected` (tests) or the real one, metered to at most 30
 * calls in any minute, whatever the rollout does, because the account's API budget is shared.
 */
export async function actionEcsApi(
  injected: EcsApi | undefined,
  signal: AbortSignal,
): Promise<EcsApi> {
  const { meteredEcsApi, newCallCounter } = await import('../../../packages/ecs/src/api');
  const { sleep } = await import('../../../packages/kit/src/poll');
  return meteredEcsApi(injected ?? (await realEcsApi()), newCallCounter(), {
    maxPerMinute: 30,
    sleep,
    signal,
  });
}

/**
 * The GitHub Deployment an action records, once created: statuses are added to it, and a status
 * that cannot be recorded is a warning, never the action's failure.
 */
export class GitHubDeploymentRecord {
  /** The deployment's id once created. */
  id?: number;

  constructor(
    /** The client; set later when it is created lazily. */
    public github?: GitHubDeployments,
    private readonly environmentUrl?: string,
  ) {}

  /** Adds status `state` to the deployment, when there is one. */
  async mark(state: DeploymentState, description: string): Promise<void> {
    if (!this.github || this.id === undefined) return;
    try {
      await this.github.setStatus(this.id, state, {
        description,
        environmentUrl: this.environmentUrl,
      });
    } catch (error) {
      core.warning(`Could not record GitHub deployment status ${state}: ${errorMessage(error)}`);
    }
  }

  /** Records why the action ended with `error`: `error` when cancelled, else `failure`. */
  async markThrown(error: unknown, cancelledDescription: string): Promise<void> {
    if (error instanceof CancelledError) await this.mark('error', cancelledDescription);
    else await this.mark('failure', errorMessage(error).slice(0, 140));
  }
}

/** `cluster/service`, or the service alone on the default cluster. */
export function serviceLabel(cluster: string | undefined, service: string): string {
  return `${cluster ? `${cluster}/` : ''}${service}`;
}

/** Adds the summary sections on what the service did: stopped tasks and its events. */
export async function addServiceSections(
  s: SummaryBuilder,
  r: { stoppedTasks: StoppedTask[]; events: ServiceEvent[] },
): Promise<void> {
  if (r.stoppedTasks.length) {
    const { describeStoppedTask } = await import('../../../packages/ecs/src/stopped-tasks');
    s.heading('Stopped tasks');
    s.list(r.stoppedTasks.map(describeStoppedTask));
  }
  if (r.events.length) {
    s.details(
      `Service events (${r.events.length})`,
      r.events.map((e) => `${e.createdAt?.toISOString() ?? ''} ${e.message ?? ''}`).join('\n'),
      true,
    );
  }
}
