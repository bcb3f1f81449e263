// The job summary sections both ECS service actions write about what the service did.
import type { ServiceEvent } from '@aws-sdk/client-ecs';
import { markdownSafe } from '../../kit/src/log-text';
import type { SummaryBuilder } from '../../kit/src/summary';
import { describeStoppedTask, type StoppedTask } from './stopped-tasks';

/**
 * The name in an ECS cluster or service given by name or ARN
 * (`arn:aws:ecs:<region>:<account>:service/<cluster>/<name>`, the older `service/<name>`,
 * `cluster/<name>`): the last segment of an ARN, a name as it is.
 */
export function ecsResourceName(nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? (nameOrArn.split('/').pop() ?? nameOrArn) : nameOrArn;
}

/** `cluster/service` by name (from names or ARNs), or the service alone on the default cluster. */
export function serviceLabel(cluster: string | undefined, service: string): string {
  return `${cluster ? `${ecsResourceName(cluster)}/` : ''}${ecsResourceName(service)}`;
}

/** Adds the summary sections on what the service did: stopped tasks and its events. */
export function addServiceSections(
  s: SummaryBuilder,
  r: { stoppedTasks: StoppedTask[]; events: ServiceEvent[] },
): void {
  // Stopped reasons and events are AWS text: one escaped line each, never Markdown or HTML.
  if (r.stoppedTasks.length) {
    s.heading('Stopped tasks');
    s.list(r.stoppedTasks.map((t) => markdownSafe(describeStoppedTask(t))));
  }
  if (r.events.length) {
    s.details(
      `Service events (${r.events.length})`,
      r.events
        .map((e) => `- ${e.createdAt?.toISOString() ?? ''} ${markdownSafe(e.message ?? '')}`)
        .join('\n'),
    );
  }
}
