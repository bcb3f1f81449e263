import { CancelledError, isThrottlingError } from './errors';

/** Time source and sleeper; tests may pass their own. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Sleeps `ms`, rejecting with {@link CancelledError} as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const timer = setTimeout(done, Math.max(0, ms));
    function done(): void {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort(): void {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new CancelledError();
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now(), sleep };

/** Thrown by {@link poll} when the deadline passes before the condition holds. */
export class DeadlineExceededError extends Error {
  constructor(
    message: string,
    public readonly attempts: number,
  ) {
    super(message);
    this.name = 'DeadlineExceededError';
  }
}

/** What one polling step decided. `delayMs` overrides the next wait (for example: fast after a change). */
export type PollStep<T> = { done: true; value: T } | { done: false; delayMs?: number };

export interface PollOptions {
  /** Epoch milliseconds after which polling stops with {@link DeadlineExceededError}. */
  deadline: number;
  /** First wait between steps (default 1s). */
  initialDelayMs?: number;
  /** Longest wait between steps (default 15s). */
  maxDelayMs?: number;
  /** Growth of the wait after each step that changed nothing (default 1.5). */
  factor?: number;
  /** Random spread applied to each wait, as a share of it (default 0.2 → ±20%). */
  jitter?: number;
  signal?: AbortSignal;
  clock?: Clock;
  /** Describes what was awaited, for the deadline message. */
  what?: string;
  /** Called when a throttling error made polling back off. */
  onThrottle?: (error: unknown, delayMs: number) => void;
  random?: () => number;
}

/**
 * Calls `step` until it reports done, waiting between calls with exponential backoff and jitter,
 * never past the deadline (one last step runs at the deadline). Throttling errors thrown by
 * `step` double the wait and polling continues; any other error propagates. Aborting `signal`
 * rejects at once with the signal's reason.
 */
export async function poll<T>(
  step: (attempt: number) => Promise<PollStep<T>>,
  opts: PollOptions,
): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const initial = opts.initialDelayMs ?? 1000;
  const max = opts.maxDelayMs ?? 15_000;
  const factor = opts.factor ?? 1.5;
  const jitter = opts.jitter ?? 0.2;
  const random = opts.random ?? Math.random;
  let delay = initial;
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw abortReason(opts.signal);
    let wait: number;
    try {
      const result = await step(attempt);
      if (result.done) return result.value;
      wait = result.delayMs ?? delay;
      delay = result.delayMs !== undefined ? result.delayMs : Math.min(max, delay * factor);
    } catch (error) {
      if (!isThrottlingError(error)) throw error;
      delay = Math.min(max, Math.max(delay, initial) * 2);
      wait = delay;
      opts.onThrottle?.(error, wait);
    }
    const now = clock.now();
    if (now >= opts.deadline) {
      throw new DeadlineExceededError(
        `Gave up waiting${opts.what ? ` for ${opts.what}` : ''}: the deadline passed after ${attempt} checks.`,
        attempt,
      );
    }
    const spread = wait * jitter * (random() * 2 - 1);
    await clock.sleep(Math.min(Math.max(0, wait + spread), opts.deadline - now), opts.signal);
  }
}
