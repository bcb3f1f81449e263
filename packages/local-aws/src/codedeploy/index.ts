/**
 * CodeDeploy's ECS compute platform: applications, deployment groups, deployment configurations,
 * blue/green deployments of ECS services and their targets. This file only wires the parts
 * together; `README.md` says which file holds what.
 */
import type { JsonOperation } from '../contracts';
import type { CodeDeployOptions } from './context';
import { applicationOperations } from './operations/applications';
import { deploymentGroupOperations } from './operations/deployment-groups';
import { deploymentOperations } from './operations/deployments';
import { Rollouts } from './rollout';
import { CodeDeployState } from './state';

export type { CodeDeployOptions } from './context';

/** What the operations share. */
export interface CodeDeployContext {
  readonly opts: CodeDeployOptions;
  readonly state: CodeDeployState;
  readonly rollouts: Rollouts;
}

/** The `X-Amz-Target` prefix of CodeDeploy's JSON 1.1 API. */
export const CODEDEPLOY_TARGET = 'CodeDeploy_20141006';

/** The CodeDeploy part of local-aws. */
export class CodeDeploy {
  /** JSON operations by name. */
  readonly operations: Record<string, JsonOperation>;
  private readonly ctx: CodeDeployContext;

  constructor(opts: CodeDeployOptions) {
    const state = new CodeDeployState();
    this.ctx = { opts, state, rollouts: new Rollouts(opts, state) };
    this.operations = {
      ...applicationOperations(this.ctx),
      ...deploymentGroupOperations(this.ctx),
      ...deploymentOperations(this.ctx),
    };
  }

  /** JSON-serialisable state for the state file and `GET /_local/state`. */
  snapshot(): unknown {
    return this.ctx.state.snapshot();
  }

  /** Loads saved state; deployments that were in flight end as Stopped. */
  restore(state: unknown): void {
    this.ctx.state.restore(state);
  }
}
