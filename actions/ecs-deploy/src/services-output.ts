// The `services` output: per service its status, revisions and reason, for one service or a release.
import { ecsResourceName } from '../../../packages/ecs/src/summary-sections';

/** One service's entry of the `services` output. */
export interface ServiceOutcome {
  service: string;
  status: string;
  taskDefinitionArn?: string;
  previousTaskDefinitionArn?: string;
  reason: string;
}

/** The `services` output: a JSON object keyed by service name (the name, also for a service given by ARN). */
export function servicesOutput(outcomes: ServiceOutcome[]): string {
  return JSON.stringify(
    Object.fromEntries(
      outcomes.map((s) => [
        ecsResourceName(s.service),
        {
          status: s.status,
          'task-definition-arn': s.taskDefinitionArn ?? '',
          'previous-task-definition-arn': s.previousTaskDefinitionArn ?? '',
          reason: s.reason,
        },
      ]),
    ),
  );
}
