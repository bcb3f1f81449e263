// The GitHub Deployment an action records while it changes an environment.
import * as core from './core';
import { CancelledError, errorMessage } from './errors';
import type { DeploymentState, GitHubDeployments } from './github-deployments';
import { logSafe } from './log-text';

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
      core.warning(
        `Could not record GitHub deployment status ${state}: ${logSafe(errorMessage(error))}`,
      );
    }
  }

  /** Records why the action ended with `error`: `error` when cancelled, else `failure`. */
  async markThrown(error: unknown, cancelledDescription: string): Promise<void> {
    if (error instanceof CancelledError) await this.mark('error', cancelledDescription);
    else await this.mark('failure', errorMessage(error).slice(0, 140));
  }
}
