// The log a domain orchestration writes to, and its implementation on the runner protocol.
import * as core from './core';

/** What a domain orchestration (a deploy, a rollback) writes to the log; the action maps it to the runner. */
export interface StepLog {
  info(message: string): void;
  debug(message: string): void;
  warning(message: string): void;
  /** Wraps a phase (the action shows it as a log group). */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/** A {@link StepLog} on the kit's runner protocol. */
export const runnerLog: StepLog = {
  info: (m) => core.info(m),
  debug: (m) => core.debug(m),
  warning: (m) => core.warning(m),
  group: (name, fn) => core.group(name, fn),
};
