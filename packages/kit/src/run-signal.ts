// The abort signal of the run in progress, kept apart from run.ts so that the AWS client options
// can read it without loading the run wrapper.

let current: AbortSignal | undefined;

/** The abort signal of the action run in progress (aborted when the workflow is cancelled). */
export function currentRunSignal(): AbortSignal | undefined {
  return current;
}

/** Sets (or clears, with `undefined`) the signal of the run in progress; only the run wrapper calls it. */
export function setCurrentRunSignal(signal: AbortSignal | undefined): void {
  current = signal;
}
