const DAY_MS = 86_400_000;

/** One backup considered by retention: an S3 object or an RDS snapshot. */
export interface RetentionItem {
  /** Object key or snapshot identifier. */
  id: string;
  /** S3 `LastModified` or the snapshot's creation time. */
  lastModified: Date;
  /**
   * False for an item that cannot be restored (an object without its checksum: an interrupted
   * upload, or something another tool wrote). It never counts toward `keepLast`. Default true.
   */
  restorable?: boolean;
}

/** What retention decided for one item, and why. */
export interface RetentionDecision extends RetentionItem {
  action: 'keep' | 'delete';
  /** One readable sentence. */
  reason: string;
  /** When the item passes `keep-days` (S3 lifecycle rounding). */
  expiresAt: Date;
  /** 1 for the newest item. */
  rank: number;
  /** True for an item that cannot be restored (see {@link RetentionItem.restorable}). */
  leftover: boolean;
}

export interface RetentionPolicy {
  now: Date;
  /** Items older than this many days (by S3 lifecycle rules) may be deleted. At least 1. */
  keepDays: number;
  /** The newest N items are always kept, whatever their age. At least 1. */
  keepLast: number;
  /** Ids that are never deleted (this run's backup). */
  protect?: readonly string[];
}

/**
 * When an item passes `keepDays`, the way S3 lifecycle expiration counts: its time plus the
 * days, rounded up to the next midnight UTC (a time exactly at midnight stays).
 */
export function expiryTime(lastModified: Date, keepDays: number): Date {
  const t = lastModified.getTime() + keepDays * DAY_MS;
  return new Date(Math.ceil(t / DAY_MS) * DAY_MS);
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/**
 * Decides, for every item, keep or delete. Pure: no clock, no I/O.
 * - The `keepLast` newest restorable items (by time, then id) are kept, whatever their age:
 *   an item that cannot be restored never takes the place of one that can.
 * - Protected ids are kept.
 * - Any other item (a leftover that cannot be restored too) is deleted once `now` reaches its
 *   {@link expiryTime}, else kept.
 * Throws when a policy could delete everything (`keepLast` < 1) or is malformed.
 * Decisions come back newest first.
 */
export function planRetention(
  items: readonly RetentionItem[],
  policy: RetentionPolicy,
): RetentionDecision[] {
  if (!Number.isInteger(policy.keepLast) || policy.keepLast < 1) {
    throw new Error(`keep-last must be a whole number of at least 1; got ${policy.keepLast}`);
  }
  if (!Number.isFinite(policy.keepDays) || policy.keepDays < 1) {
    throw new Error(`keep-days must be at least 1; got ${policy.keepDays}`);
  }
  const ids = new Set<string>();
  for (const item of items) {
    if (ids.has(item.id)) throw new Error(`retention was given ${item.id} twice`);
    if (Number.isNaN(item.lastModified.getTime())) throw new Error(`${item.id} has no valid time`);
    ids.add(item.id);
  }
  const protect = new Set(policy.protect ?? []);
  const now = policy.now.getTime();
  const sorted = [...items].sort(
    (a, b) =>
      b.lastModified.getTime() - a.lastModified.getTime() ||
      (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
  let restorableRank = 0;
  return sorted.map((item, index): RetentionDecision => {
    const rank = index + 1;
    const leftover = item.restorable === false;
    const expiresAt = expiryTime(item.lastModified, policy.keepDays);
    const base = { ...item, expiresAt, rank, leftover };
    if (protect.has(item.id)) {
      if (!leftover) restorableRank++;
      return { ...base, action: 'keep', reason: "this run's backup" };
    }
    if (leftover) {
      const why = 'no checksum, so it cannot be restored (not counted toward keep-last)';
      return now >= expiresAt.getTime()
        ? {
            ...base,
            action: 'delete',
            reason: `${why}; older than ${policy.keepDays} days (expired ${day(expiresAt)})`,
          }
        : {
            ...base,
            action: 'keep',
            reason: `${why}; within ${policy.keepDays} days (expires ${day(expiresAt)})`,
          };
    }
    restorableRank++;
    if (restorableRank <= policy.keepLast) {
      const aged =
        now >= expiresAt.getTime() ? `, although older than ${policy.keepDays} days` : '';
      return {
        ...base,
        action: 'keep',
        reason: `one of the ${policy.keepLast} newest (keep-last)${aged}`,
      };
    }
    if (now >= expiresAt.getTime()) {
      return {
        ...base,
        action: 'delete',
        reason: `older than ${policy.keepDays} days (expired ${day(expiresAt)}) and not among the ${policy.keepLast} newest`,
      };
    }
    return {
      ...base,
      action: 'keep',
      reason: `within ${policy.keepDays} days (expires ${day(expiresAt)})`,
    };
  });
}
