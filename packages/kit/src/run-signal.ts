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

let deadline: number | undefined;

/**
 * When the step's own `timeout` ends (epoch ms), or undefined. Every AWS call made through a kit
 * client is cut at this time (or given a few seconds when it starts after it), so a stalled call
 * cannot hold a step past its timeout.
 */
export function currentRunDeadline(): number | undefined {
  return deadline;
}

/** Sets (or clears) the end of the step's `timeout`; actions with a `timeout` input call it. */
export function setRunDeadline(epochMs: number | undefined): void {
  deadline = epochMs;
}

/** Extra time after a step's `timeout` before calls in flight are cut: the action's own deadline check runs first. */
const STEP_TIMEOUT_GRACE_MS = 5_000;

/** Called by an action once it knows its `timeout`: AWS calls end at most a few seconds after it. */
export function setStepTimeout(timeoutMs: number): void {
  deadline = Date.now() + timeoutMs + STEP_TIMEOUT_GRACE_MS;
}
