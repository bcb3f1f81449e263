/**
 * Fargate capacity as local-aws models it: always there, unless a test takes it away for the
 * next RunTask calls. ECS answers a RunTask it cannot place on Fargate with HTTP 200, no tasks
 * and one entry in `failures` per task it could not place (not with an error).
 */

/** The reason ECS gives when Fargate has no capacity for a task (as AWS support articles quote it). */
export const FARGATE_CAPACITY_UNAVAILABLE =
  'Capacity is unavailable at this time. Please try again later or in a different availability zone';

/** One entry of RunTask's `failures`. */
export interface PlacementFailure {
  arn?: string;
  reason: string;
  detail?: string;
}

/** Options of {@link FargateCapacity.withhold}. */
export interface WithholdCapacity {
  /** How many RunTask calls find no capacity (default 1). */
  runTasks?: number;
  /** The failure reason (default {@link FARGATE_CAPACITY_UNAVAILABLE}). */
  reason?: string;
}

/** Counts down the RunTask calls that find no Fargate capacity. */
export class FargateCapacity {
  private outages: { remaining: number; reason: string }[] = [];

  /** Makes the next `runTasks` RunTask calls find no capacity. */
  withhold(opts: WithholdCapacity = {}): void {
    const runTasks = opts.runTasks ?? 1;
    if (!Number.isInteger(runTasks) || runTasks < 1)
      throw new Error(`\`runTasks\` must be a whole number of at least 1, got ${String(runTasks)}`);
    this.outages.push({ remaining: runTasks, reason: opts.reason ?? FARGATE_CAPACITY_UNAVAILABLE });
  }

  /** The outages still to come: how many RunTask calls each will refuse, and with what reason. */
  pending(): { runTasks: number; reason: string }[] {
    return this.outages.map((o) => ({ runTasks: o.remaining, reason: o.reason }));
  }

  /** Gives the capacity back: no RunTask call is refused for it any more. */
  restore(): void {
    this.outages = [];
  }

  /**
   * Called once per RunTask that passed validation: the failures for its `count` tasks when
   * capacity is withheld (and one call of the outage used up), or none.
   */
  place(count: number): PlacementFailure[] {
    const outage = this.outages[0];
    if (!outage) return [];
    if (--outage.remaining <= 0) this.outages.shift();
    return Array.from({ length: count }, () => ({ reason: outage.reason }));
  }
}
