import { CancelledError, isTransientAwsError } from '../../../kit/src/errors';
import type { LogsReader } from './api';

/** How many of a task's last log lines are kept for the failure reason and the summary. */
export const LAST_LINES = 10;

/** What a follower could not do, for the caller to say once. */
export type FollowProblem = { kind: 'unreadable'; error: unknown };

/**
 * Follows one CloudWatch Logs stream from its head with GetLogEvents' forward token, handing
 * each new line to `onLine` in order and keeping the last {@link LAST_LINES}. A stream that does
 * not exist yet (the task has not started) reads as empty; a transient error is retried at the
 * next drain; any other error (access denied) ends the following, reported once to `onProblem`.
 */
export class LogFollower {
  private token: string | undefined;
  private stopped = false;
  /** The last lines read, oldest first. */
  readonly lastLines: string[] = [];
  /** Lines read in all. */
  count = 0;

  constructor(
    private readonly reader: LogsReader,
    readonly group: string,
    readonly stream: string,
    private readonly onLine: (line: string) => void,
    private readonly onProblem: (problem: FollowProblem) => void,
  ) {}

  /** Reads everything new in the stream (at most `maxPages` pages of GetLogEvents). */
  async drain(maxPages = 20): Promise<void> {
    for (let page = 0; page < maxPages && !this.stopped; page++) {
      let out;
      try {
        out = await this.reader.getLogEvents({
          logGroupName: this.group,
          logStreamName: this.stream,
          startFromHead: true,
          nextToken: this.token,
        });
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'ResourceNotFoundException' || isTransientAwsError(error)) return;
        if (error instanceof CancelledError || name === 'AbortError') throw error;
        this.stopped = true;
        this.onProblem({ kind: 'unreadable', error });
        return;
      }
      const events = out.events ?? [];
      for (const e of events) {
        const line = (e.message ?? '').replace(/\r?\n$/, '');
        this.count++;
        this.lastLines.push(line);
        if (this.lastLines.length > LAST_LINES) this.lastLines.shift();
        this.onLine(line);
      }
      const next = out.nextForwardToken;
      const atEnd = !events.length || !next || next === this.token;
      if (next) this.token = next;
      if (atEnd) return;
    }
  }
}
