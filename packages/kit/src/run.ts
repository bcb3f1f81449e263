import * as core from './core';
import {
  ActionFailure,
  CancelledError,
  ConfigurationError,
  describeAwsError,
  errorMessage,
  isAwsError,
} from './errors';
import { DeadlineExceededError } from './poll';
import { setCurrentRunSignal, setRunDeadline } from './run-signal';

/** What the run wrapper hands to an action's main function. */
export interface ActionContext {
  /** Aborted when the workflow is cancelled (SIGINT/SIGTERM). */
  signal: AbortSignal;
}

/** The one line a failure is reported with, by kind. */
export function failureMessage(error: unknown): string {
  if (error instanceof ConfigurationError) return `Invalid configuration: ${error.message}`;
  if (error instanceof CancelledError) return `Cancelled: ${error.message}`;
  if (error instanceof ActionFailure || error instanceof DeadlineExceededError)
    return error.message;
  if (isAwsError(error)) return describeAwsError(error);
  return errorMessage(error) || 'failed without a message';
}

/**
 * Runs an action's main function and is the single place that reports failure
 * (`core.setFailed` once). SIGINT and SIGTERM abort the signal handed to `main`, which is also
 * the signal every kit AWS client's calls carry (see `withErrorContext`), so waits and calls in
 * flight stop within a second and the action can record what it was doing; a second signal
 * exits at once. A cancelled run exits as soon as `main` has returned, without waiting for
 * timers a library left behind (the SDK's wait before a retry, a keep-alive socket).
 */
export async function runAction(main: (ctx: ActionContext) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) process.exit(130);
    signalled = true;
    core.info(`Received ${sig}: stopping and recording the current state…`);
    controller.abort(new CancelledError(`the workflow was cancelled (${sig})`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  setCurrentRunSignal(controller.signal);
  try {
    await main({ signal: controller.signal });
  } catch (error) {
    if (error instanceof Error && error.stack) core.debug(error.stack);
    core.setFailed(failureMessage(error));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    setCurrentRunSignal(undefined);
    setRunDeadline(undefined);
  }
  if (signalled) process.exit();
}
