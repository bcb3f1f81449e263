import type { Clock } from '../../../packages/kit/src/poll';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

/**
 * A clock for tests: time stands still while code runs, and {@link VirtualClock.run} jumps to
 * the next sleeper's wake-up time whenever nothing else can run. Sleepers waking at the same time
 * wake in the order they went to sleep, so a run is the same every time.
 */
export class VirtualClock implements Clock {
  private time = 0;
  private seq = 0;
  private timers: Timer[] = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const reason = (): unknown => signal?.reason ?? new Error('aborted');
      if (signal?.aborted) return reject(reason());
      const timer: Timer = {
        at: this.time + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.timers = this.timers.filter((t) => t !== timer);
        reject(reason());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
    });
  }

  /** Drives time until `work` settles; throws when it waits on nothing the clock can wake. */
  async run<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (;;) {
      await new Promise((r) => setImmediate(r));
      if (settled) return work;
      const next = [...this.timers].sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) throw new Error('VirtualClock: the work waits on something other than the clock');
      this.timers = this.timers.filter((t) => t !== next);
      this.time = next.at;
      next.resolve();
    }
  }
}
