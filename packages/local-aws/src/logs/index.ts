/**
 * CloudWatch Logs for local-aws: the wire operations and the sink the ECS task runner writes
 * `awslogs` container output into.
 */
import type { JsonOperation } from '../contracts';
import { logsOperations } from './operations';
import { LogsState } from './state';

export { LogsState } from './state';
export type { LogEvent, LogGroup, LogStream } from './state';
export { matchesPattern } from './operations';

/** CloudWatch Logs: state, operations, and the `awslogs` sink for tasks. */
export class Logs {
  readonly state: LogsState;
  readonly operations: Record<string, JsonOperation>;

  constructor(now: () => number = () => Date.now()) {
    this.state = new LogsState(now);
    this.operations = logsOperations(this.state);
  }

  /**
   * Opens the stream a container's `awslogs` driver writes to, creating it (and the group when
   * `createGroup`, as `awslogs-create-group: true` does). Returns the error the driver reports
   * when it cannot (the group is missing), or undefined.
   */
  openStream(
    region: string,
    group: string,
    stream: string,
    createGroup: boolean,
  ): string | undefined {
    if (!this.state.findGroup(region, group)) {
      if (!createGroup) return `ResourceNotFoundException: The specified log group does not exist.`;
      this.state.createGroup(region, group);
    }
    const g = this.state.group(region, group);
    if (!g.streams.has(stream)) this.state.createStream(region, group, stream);
    return undefined;
  }

  /** Appends lines to a stream opened with {@link openStream}. */
  put(
    region: string,
    group: string,
    stream: string,
    events: { timestamp: number; message: string }[],
  ): void {
    const g = this.state.findGroup(region, group);
    const s = g?.streams.get(stream);
    if (s && events.length) this.state.append(s, events);
  }

  snapshot(): unknown {
    return this.state.snapshot();
  }

  restore(saved: unknown): void {
    this.state.restore(saved);
  }
}
