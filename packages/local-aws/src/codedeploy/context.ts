/** What the parts of local-aws CodeDeploy get: the clock and the services it drives. */
import type { Clock } from '../clock';
import type { JsonOperation, RequestContext } from '../contracts';
import type { QueryParams } from '../protocol/query';

/** Options of the CodeDeploy part of local-aws. */
export interface CodeDeployOptions {
  clock: Clock;
  accountId: string;
  /** ECS's operations by name: CodeDeploy drives task sets through ECS's own API. */
  ecs: Record<string, JsonOperation>;
  /** ELBv2: its query operations by name, and the forward weights of a (default) rule. */
  elb: {
    operations: Record<string, (p: QueryParams, rc: RequestContext) => unknown>;
    setForwardWeights(ruleArn: string, weights: Record<string, number>): void;
    forwardWeights(ruleArn: string): Record<string, number>;
  };
  /** CloudWatch alarm states by name. */
  cloudwatch: { alarmState(name: string): string | undefined };
  /** Receives the deployments' log lines. */
  log?: (line: string) => void;
}
