import {
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ListTagsForResourceCommand,
  type RDSClient,
  type Tag,
} from '@aws-sdk/client-rds';
import { ActionFailure, isAwsError } from '../../kit/src/errors';
import { poll, systemClock, type Clock } from '../../kit/src/poll';
import { snapshotIdentifier } from './keys';
import { planRetention, type RetentionDecision } from './retention';

/** The part of an RDS client used here (a real RDSClient, or a typed fake in tests). */
export type RdsApi = Pick<RDSClient, 'send'>;

/** The tag that marks a snapshot as shipkit's; retention only ever touches snapshots carrying it. */
export const MANAGED_TAG = { Key: 'shipkit:managed-by', Value: 'shipkit' };
export const ENVIRONMENT_TAG = 'shipkit:environment';

/** What to snapshot: a DB instance or an Aurora cluster. */
export type SnapshotTarget =
  { instance: string; cluster?: undefined } | { cluster: string; instance?: undefined };

/** One manual snapshot as listed. */
export interface SnapshotInfo {
  id: string;
  arn?: string;
  status?: string;
  created?: Date;
  tags: Tag[];
}

export interface SnapshotRunOptions {
  rds: RdsApi;
  target: SnapshotTarget;
  environment: string;
  sha?: string;
  keepDays: number;
  keepLast: number;
  dryRun: boolean;
  /** How long to wait for the snapshot to become available. */
  timeoutMs: number;
  clock?: Clock;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Told what could not be checked (a dry run without the permission to read the source). */
  warn?: (line: string) => void;
  /** Poll interval bounds (tests shorten them). */
  pollDelayMs?: { initial: number; max: number };
}

export interface SnapshotRunResult {
  snapshotId: string;
  arn?: string;
  created: boolean;
  decisions: RetentionDecision[];
  deleted: string[];
}

const kindOf = (t: SnapshotTarget): string => (t.instance ? 'DB snapshot' : 'DB cluster snapshot');

function fromInstance(s: {
  DBSnapshotIdentifier?: string;
  DBSnapshotArn?: string;
  Status?: string;
  SnapshotCreateTime?: Date;
  TagList?: Tag[];
}): SnapshotInfo & { hasTags: boolean } {
  return {
    id: s.DBSnapshotIdentifier ?? '',
    arn: s.DBSnapshotArn,
    status: s.Status,
    created: s.SnapshotCreateTime,
    tags: s.TagList ?? [],
    hasTags: s.TagList !== undefined,
  };
}

function fromCluster(s: {
  DBClusterSnapshotIdentifier?: string;
  DBClusterSnapshotArn?: string;
  Status?: string;
  SnapshotCreateTime?: Date;
  TagList?: Tag[];
}): SnapshotInfo & { hasTags: boolean } {
  return {
    id: s.DBClusterSnapshotIdentifier ?? '',
    arn: s.DBClusterSnapshotArn,
    status: s.Status,
    created: s.SnapshotCreateTime,
    tags: s.TagList ?? [],
    hasTags: s.TagList !== undefined,
  };
}

/** Describes one snapshot by id; undefined when RDS says it does not exist. */
export async function describeSnapshot(
  rds: RdsApi,
  target: SnapshotTarget,
  id: string,
): Promise<SnapshotInfo | undefined> {
  try {
    if (target.instance) {
      const r = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }));
      return r.DBSnapshots?.[0] ? fromInstance(r.DBSnapshots[0]) : undefined;
    }
    const r = await rds.send(
      new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id }),
    );
    return r.DBClusterSnapshots?.[0] ? fromCluster(r.DBClusterSnapshots[0]) : undefined;
  } catch (error) {
    if (/SnapshotNotFound/.test((error as { name?: string }).name ?? '')) return undefined;
    throw error;
  }
}

/** Every manual snapshot of the target (all pages), with tags (from the listing or ListTagsForResource). */
export async function listManualSnapshots(
  rds: RdsApi,
  target: SnapshotTarget,
): Promise<SnapshotInfo[]> {
  const found: (SnapshotInfo & { hasTags: boolean })[] = [];
  let marker: string | undefined;
  do {
    if (target.instance) {
      const r = await rds.send(
        new DescribeDBSnapshotsCommand({
          DBInstanceIdentifier: target.instance,
          SnapshotType: 'manual',
          Marker: marker,
        }),
      );
      found.push(...(r.DBSnapshots ?? []).map(fromInstance));
      marker = r.Marker;
    } else {
      const r = await rds.send(
        new DescribeDBClusterSnapshotsCommand({
          DBClusterIdentifier: target.cluster,
          SnapshotType: 'manual',
          Marker: marker,
        }),
      );
      found.push(...(r.DBClusterSnapshots ?? []).map(fromCluster));
      marker = r.Marker;
    }
  } while (marker);
  for (const s of found) {
    if (!s.hasTags && s.arn) {
      const r = await rds.send(new ListTagsForResourceCommand({ ResourceName: s.arn }));
      s.tags = r.TagList ?? [];
    }
  }
  return found.map(({ hasTags: _hasTags, ...s }) => s);
}

/** True when a snapshot carries shipkit's tag and this environment's. */
export function isShipkitSnapshot(s: SnapshotInfo, environment: string): boolean {
  const tag = (k: string): string | undefined => s.tags.find((t) => t.Key === k)?.Value;
  return tag(MANAGED_TAG.Key) === MANAGED_TAG.Value && tag(ENVIRONMENT_TAG) === environment;
}

/** The input that names a target, for messages. */
function inputOf(target: SnapshotTarget): string {
  return target.instance ? 'db-instance-identifier' : 'db-cluster-identifier';
}

/**
 * A dry run creates nothing, so nothing else would notice a source that does not exist: it is
 * read (DescribeDBInstances or DescribeDBClusters) and a missing one fails, naming the input.
 * Without the permission to read it, the dry run goes on with a warning (a dry run that passed
 * before keeps passing).
 */
async function checkSourceExists(opts: SnapshotRunOptions): Promise<void> {
  const { target } = opts;
  const what = target.instance ? 'DB instance' : 'DB cluster';
  const name = target.instance ?? target.cluster;
  try {
    if (target.instance)
      await opts.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: name }));
    else await opts.rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: name }));
  } catch (error) {
    const code = isAwsError(error) ? error.name : '';
    if (/^DB(Instance|Cluster)NotFound/.test(code))
      throw new ActionFailure(
        `Input \`${inputOf(target)}\`: ${what} \`${name}\` does not exist in this account and region, so no snapshot could be taken (dry run: nothing was changed).`,
      );
    if (/AccessDenied|UnauthorizedOperation/.test(code)) {
      opts.warn?.(
        `Dry run: could not check that ${what} \`${name}\` exists (${code}: allow rds:Describe${target.instance ? 'DBInstances' : 'DBClusters'} to have it checked).`,
      );
      return;
    }
    throw error;
  }
}

/**
 * Takes a manual snapshot named with the environment, time and commit, tagged as shipkit's;
 * waits until it is available; then applies retention to this target's snapshots that carry
 * shipkit's tag for this environment. Snapshots without the tag are never touched.
 * With `dryRun`, nothing is created or deleted: the plan is returned as if the snapshot existed.
 */
export async function runSnapshot(opts: SnapshotRunOptions): Promise<SnapshotRunResult> {
  const clock = opts.clock ?? systemClock;
  const now = new Date(clock.now());
  const source = opts.target.instance ?? opts.target.cluster;
  const id = snapshotIdentifier({ environment: opts.environment, source, at: now, sha: opts.sha });
  const tags: Tag[] = [
    MANAGED_TAG,
    { Key: ENVIRONMENT_TAG, Value: opts.environment },
    { Key: 'shipkit:commit', Value: opts.sha ?? '' },
    { Key: 'shipkit:source', Value: source },
  ];
  let arn: string | undefined;
  if (opts.dryRun) await checkSourceExists(opts);
  else {
    opts.log?.(`Creating ${kindOf(opts.target)} ${id} of ${source}…`);
    if (opts.target.instance) {
      const r = await opts.rds.send(
        new CreateDBSnapshotCommand({
          DBSnapshotIdentifier: id,
          DBInstanceIdentifier: opts.target.instance,
          Tags: tags,
        }),
      );
      arn = r.DBSnapshot?.DBSnapshotArn;
    } else {
      const r = await opts.rds.send(
        new CreateDBClusterSnapshotCommand({
          DBClusterSnapshotIdentifier: id,
          DBClusterIdentifier: opts.target.cluster,
          Tags: tags,
        }),
      );
      arn = r.DBClusterSnapshot?.DBClusterSnapshotArn;
    }
    let last = '';
    await poll(
      async () => {
        const s = await describeSnapshot(opts.rds, opts.target, id);
        const status = s?.status ?? 'missing';
        if (status !== last) opts.log?.(`${id}: ${status}`);
        last = status;
        if (status === 'available') return { done: true, value: s };
        if (
          ['failed', 'error', 'deleted', 'deleting', 'incompatible-restore', 'missing'].includes(
            status,
          )
        ) {
          throw new ActionFailure(
            `Snapshot ${id} ended as \`${status}\` instead of becoming available.`,
          );
        }
        return { done: false };
      },
      {
        deadline: clock.now() + opts.timeoutMs,
        initialDelayMs: opts.pollDelayMs?.initial ?? 5000,
        maxDelayMs: opts.pollDelayMs?.max ?? 30_000,
        clock,
        signal: opts.signal,
        what: `snapshot ${id} to become available`,
      },
    );
  }
  const all = await listManualSnapshots(opts.rds, opts.target);
  const ours = all.filter((s) => isShipkitSnapshot(s, opts.environment) && s.created);
  if (opts.dryRun && !ours.some((s) => s.id === id)) ours.push({ id, created: now, tags });
  const decisions = planRetention(
    ours.map((s) => ({ id: s.id, lastModified: s.created as Date })),
    { now, keepDays: opts.keepDays, keepLast: opts.keepLast, protect: [id] },
  );
  const deleted: string[] = [];
  for (const d of decisions) {
    if (d.action !== 'delete' || opts.dryRun) continue;
    opts.log?.(`Deleting ${d.id}: ${d.reason}`);
    if (opts.target.instance)
      await opts.rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: d.id }));
    else
      await opts.rds.send(
        new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: d.id }),
      );
    deleted.push(d.id);
  }
  return { snapshotId: id, arn, created: !opts.dryRun, decisions, deleted };
}
