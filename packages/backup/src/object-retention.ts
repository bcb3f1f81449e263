import { planRetention, type RetentionDecision } from './retention';
import { deleteObject, hasChecksum, listObjects, headObject, type S3Api } from './store';

/** Retention of the backup objects under one folder. */
export interface ObjectRetentionOptions {
  s3: S3Api;
  bucket: string;
  /** `<prefix><name>/`: every object under it is considered. */
  folder: string;
  now: Date;
  keepDays: number;
  keepLast: number;
  /** This run's backup: never deleted, and counted as restorable even before it is listed. */
  protect: string;
  /** Decide only: nothing is deleted. */
  dryRun: boolean;
  /** Objects checked at once for their checksum (HeadObject). */
  concurrency?: number;
  /** Called once per decision, as it is carried out (or would be, in a dry run). */
  onDecision?: (decision: RetentionDecision, done: boolean) => void;
}

/** What retention decided and did. */
export interface ObjectRetentionResult {
  decisions: RetentionDecision[];
  /** Keys deleted (none in a dry run). */
  deleted: string[];
  /** Keys of objects without a checksum (cannot be restored): never counted toward keep-last. */
  leftovers: string[];
}

/** Runs `work` over `items` with at most `limit` at once, keeping the order of the results. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Applies retention to the objects under a folder. Only objects whose metadata holds a
 * checksum (what shipkit stores once a backup is complete) can be restored, so only those count
 * toward `keepLast`; the others are leftovers, reported, and deleted like any backup beyond
 * `keepLast` once older than `keepDays`. The protected key (this run's backup) is kept, and is
 * added when the listing does not show it yet (a dry run writes nothing).
 */
export async function applyObjectRetention(
  opts: ObjectRetentionOptions,
): Promise<ObjectRetentionResult> {
  const objects = await listObjects(opts.s3, opts.bucket, opts.folder);
  const items = await mapLimited(objects, opts.concurrency ?? 8, async (o) => ({
    id: o.key,
    lastModified: o.lastModified,
    restorable:
      o.key === opts.protect ||
      hasChecksum((await headObject(opts.s3, opts.bucket, o.key))?.metadata ?? {}),
  }));
  if (!items.some((i) => i.id === opts.protect))
    items.push({ id: opts.protect, lastModified: opts.now, restorable: true });
  const decisions = planRetention(items, {
    now: opts.now,
    keepDays: opts.keepDays,
    keepLast: opts.keepLast,
    protect: [opts.protect],
  });
  const deleted: string[] = [];
  for (const d of decisions) {
    if (d.action === 'delete' && !opts.dryRun) {
      await deleteObject(opts.s3, opts.bucket, d.id);
      deleted.push(d.id);
    }
    opts.onDecision?.(d, d.action === 'delete' && !opts.dryRun);
  }
  return { decisions, deleted, leftovers: decisions.filter((d) => d.leftover).map((d) => d.id) };
}
