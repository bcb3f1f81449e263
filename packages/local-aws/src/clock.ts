/**
 * Scaled timers. Every ECS/ELB delay is expressed in "AWS time" (what the real service would
 * wait) and runs `scale` times faster; reported timestamps stay on the wall clock.
 */
export class Clock {
  private readonly timers = new Set<NodeJS.Timeout>();
  private disposed = false;

  constructor(public readonly scale: number = 1) {
    if (!(scale > 0) || !Number.isFinite(scale)) {
      throw new Error(`\`timeScale\` must be a positive number, got ${scale}`);
    }
  }

  /** Wall-clock time, used for every reported timestamp. */
  now(): Date {
    return new Date();
  }

  /** Real milliseconds for a duration of `awsMs` AWS milliseconds. */
  real(awsMs: number): number {
    return Math.max(0, awsMs / this.scale);
  }

  /** Runs `fn` after `awsMs` AWS milliseconds. */
  setTimeout(fn: () => void, awsMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.disposed) fn();
    }, this.real(awsMs));
    this.timers.add(timer);
    return timer;
  }

  /** Runs `fn` every `awsMs` AWS milliseconds (at least every 5 real ms). */
  setInterval(fn: () => void, awsMs: number): NodeJS.Timeout {
    const timer = setInterval(
      () => {
        if (!this.disposed) fn();
      },
      Math.max(5, this.real(awsMs)),
    );
    this.timers.add(timer);
    return timer;
  }

  clear(timer: NodeJS.Timeout | undefined): void {
    if (!timer) return;
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  /** Resolves after `awsMs` AWS milliseconds. */
  sleep(awsMs: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, awsMs));
  }

  /** Cancels every pending timer; later timers never fire. */
  dispose(): void {
    this.disposed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
