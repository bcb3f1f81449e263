/**
 * RDS state: DB instances, DB clusters, DB snapshots and DB cluster snapshots, their lookups
 * (by identifier or by ARN for tags), how far a snapshot has come, seeded snapshots, and
 * snapshot/restore.
 */
import type { Clock } from '../clock';
import { AwsError, type RequestContext } from '../contracts';
import { arn, parseArn } from '../ids';
import {
  engineDefaults,
  validIdentifier,
  type ClusterRecord,
  type InstanceRecord,
  type RdsTag,
  type SnapshotRecord,
} from './model';
import { invalid } from './params';

const DEFAULT_REGION = 'us-east-1';

/** A snapshot added by the admin hook (back-dated, already available). */
export interface RdsSnapshotSeed {
  /** Snapshot identifier; automated ones start with `rds:`. */
  id: string;
  /** The DB instance it was taken of (a DB snapshot); give this or `cluster`. */
  instance?: string;
  /** The DB cluster it was taken of (a DB cluster snapshot); give this or `instance`. */
  cluster?: string;
  createdAt: Date;
  tags?: { Key: string; Value: string }[];
  /** Default `manual`. */
  type?: 'manual' | 'automated';
}

/** A date from a `Date` or an ISO string (saved state). */
export function toDate(v: unknown): Date {
  const d = v instanceof Date ? v : new Date(String(v));
  if (Number.isNaN(d.getTime())) throw new Error(`not a date: \`${String(v)}\``);
  return d;
}

/** Every RDS resource local-aws holds. */
export class RdsState {
  readonly instances = new Map<string, InstanceRecord>();
  readonly clusters = new Map<string, ClusterRecord>();
  readonly snapshots = new Map<string, SnapshotRecord>();
  readonly clusterSnapshots = new Map<string, SnapshotRecord>();

  constructor(
    private readonly clock: Clock,
    private readonly accountId: string,
    /** AWS milliseconds from `creating` to `available`. */
    private readonly snapshotCreateMs: number,
  ) {}

  /** A DB instance, or `DBInstanceNotFound`. */
  instance(id: string): InstanceRecord {
    const r = this.instances.get(id.toLowerCase());
    if (!r) throw new AwsError('DBInstanceNotFound', `DBInstance ${id} not found.`, 404);
    return r;
  }

  /** A DB cluster, or `DBClusterNotFoundFault`. */
  cluster(id: string): ClusterRecord {
    const r = this.clusters.get(id.toLowerCase());
    if (!r) throw new AwsError('DBClusterNotFoundFault', `DBCluster ${id} not found.`, 404);
    return r;
  }

  /** A DB snapshot, or `DBSnapshotNotFound`. */
  instanceSnapshot(id: string): SnapshotRecord {
    const r = this.snapshots.get(id.toLowerCase());
    if (!r) throw new AwsError('DBSnapshotNotFound', `DBSnapshot ${id} not found.`, 404);
    return r;
  }

  /** A DB cluster snapshot, or `DBClusterSnapshotNotFoundFault`. */
  clusterSnapshot(id: string): SnapshotRecord {
    const r = this.clusterSnapshots.get(id.toLowerCase());
    if (!r)
      throw new AwsError(
        'DBClusterSnapshotNotFoundFault',
        `DBClusterSnapshot ${id} not found.`,
        404,
      );
    return r;
  }

  /** The tags of the resource named by an RDS ARN (the live array, for changes). */
  tagsOf(resourceName: string): RdsTag[] {
    const parsed = parseArn(resourceName);
    const colon = parsed?.resource.indexOf(':') ?? -1;
    if (!parsed || parsed.service !== 'rds' || colon < 0)
      throw invalid(`The specified resource name \`${resourceName}\` is not an RDS ARN.`);
    const kind = parsed.resource.slice(0, colon);
    const id = parsed.resource.slice(colon + 1);
    if (kind === 'db') return this.instance(id).tags;
    if (kind === 'cluster') return this.cluster(id).tags;
    if (kind === 'snapshot') return this.instanceSnapshot(id).tags;
    if (kind === 'cluster-snapshot') return this.clusterSnapshot(id).tags;
    throw invalid(
      `The specified resource name \`${resourceName}\` does not name a resource local-aws keeps.`,
    );
  }

  /** `creating` (with its progress) until the snapshot is due, then `available`. */
  snapshotStatus(r: SnapshotRecord): { Status: string; PercentProgress: number } {
    const now = this.clock.now().getTime();
    const due = r.availableAt.getTime();
    if (now >= due) return { Status: 'available', PercentProgress: 100 };
    const total = Math.max(1, due - r.createdAt.getTime());
    const done = Math.floor(((now - r.createdAt.getTime()) / total) * 100);
    return { Status: 'creating', PercentProgress: Math.min(99, Math.max(0, done)) };
  }

  /** A new manual snapshot of an instance or cluster, `creating` from now. */
  newSnapshot(
    kind: 'snapshot' | 'cluster-snapshot',
    id: string,
    source: InstanceRecord | ClusterRecord,
    tags: RdsTag[],
    rc: RequestContext,
  ): SnapshotRecord {
    const now = this.clock.now();
    return {
      id,
      sourceId: source.id,
      type: 'manual',
      arn: arn('rds', rc.region, rc.accountId, `${kind}:${id}`),
      createdAt: now,
      availableAt: new Date(now.getTime() + this.clock.real(this.snapshotCreateMs)),
      engine: source.engine,
      engineVersion: source.engineVersion,
      allocatedStorage: 'allocatedStorage' in source ? source.allocatedStorage : 0,
      port: source.port,
      masterUsername: source.masterUsername,
      sourceCreatedAt: source.createdAt,
      tags,
    };
  }

  /**
   * Adds a snapshot that is already `available`, created at `createdAt` (for retention tests).
   * The instance or cluster need not exist. Returns the snapshot's ARN.
   */
  addSnapshot(seed: RdsSnapshotSeed): string {
    if ((seed.instance === undefined) === (seed.cluster === undefined))
      throw new Error(`snapshot \`${seed.id}\`: give exactly one of \`instance\` and \`cluster\``);
    const type = seed.type ?? 'manual';
    const id = type === 'automated' ? seed.id.toLowerCase() : validIdentifier('id', seed.id, 255);
    if (type === 'automated' && !id.startsWith('rds:'))
      throw new Error(`automated snapshot \`${seed.id}\`: the id must start with \`rds:\``);
    const createdAt = toDate(seed.createdAt);
    const tags = (seed.tags ?? []).map((t) => ({ Key: t.Key, Value: t.Value }));
    if (seed.instance !== undefined) {
      if (this.snapshots.has(id)) throw new Error(`DB snapshot \`${id}\` already exists`);
      const sourceId = seed.instance.toLowerCase();
      const source = this.instances.get(sourceId);
      const engine = source?.engine ?? 'postgres';
      const defaults = engineDefaults(engine, false);
      const region = (source && parseArn(source.arn)?.region) || DEFAULT_REGION;
      const record: SnapshotRecord = {
        id,
        sourceId,
        type,
        arn: arn('rds', region, this.accountId, `snapshot:${id}`),
        createdAt,
        availableAt: createdAt,
        engine,
        engineVersion: source?.engineVersion ?? defaults.version,
        allocatedStorage: source?.allocatedStorage ?? 20,
        port: source?.port ?? defaults.port,
        masterUsername: source?.masterUsername,
        sourceCreatedAt: source?.createdAt,
        tags,
      };
      this.snapshots.set(id, record);
      return record.arn;
    }
    if (this.clusterSnapshots.has(id))
      throw new Error(`DB cluster snapshot \`${id}\` already exists`);
    const sourceId = (seed.cluster ?? '').toLowerCase();
    const source = this.clusters.get(sourceId);
    const engine = source?.engine ?? 'aurora-postgresql';
    const defaults = engineDefaults(engine, true);
    const region = (source && parseArn(source.arn)?.region) || DEFAULT_REGION;
    const record: SnapshotRecord = {
      id,
      sourceId,
      type,
      arn: arn('rds', region, this.accountId, `cluster-snapshot:${id}`),
      createdAt,
      availableAt: createdAt,
      engine,
      engineVersion: source?.engineVersion ?? defaults.version,
      allocatedStorage: 0,
      port: source?.port ?? defaults.port,
      masterUsername: source?.masterUsername,
      sourceCreatedAt: source?.createdAt,
      tags,
    };
    this.clusterSnapshots.set(id, record);
    return record.arn;
  }

  /** JSON-serialisable state for `--state-file` and `GET /_local/state`. */
  snapshot(): unknown {
    return {
      instances: [...this.instances.values()],
      clusters: [...this.clusters.values()],
      snapshots: [...this.snapshots.values()],
      clusterSnapshots: [...this.clusterSnapshots.values()],
    };
  }

  /**
   * Loads saved state (dates as `Date`s or ISO strings). A snapshot that was `creating` when the
   * state was saved becomes available at the time it was due.
   */
  restore(state: unknown): void {
    const s = (state ?? {}) as {
      instances?: InstanceRecord[];
      clusters?: ClusterRecord[];
      snapshots?: SnapshotRecord[];
      clusterSnapshots?: SnapshotRecord[];
    };
    for (const i of s.instances ?? [])
      this.instances.set(i.id, { ...i, createdAt: toDate(i.createdAt) });
    for (const c of s.clusters ?? [])
      this.clusters.set(c.id, { ...c, createdAt: toDate(c.createdAt) });
    const snap = (r: SnapshotRecord): SnapshotRecord => ({
      ...r,
      createdAt: toDate(r.createdAt),
      availableAt: toDate(r.availableAt),
      sourceCreatedAt: r.sourceCreatedAt === undefined ? undefined : toDate(r.sourceCreatedAt),
    });
    for (const r of s.snapshots ?? []) this.snapshots.set(r.id, snap(r));
    for (const r of s.clusterSnapshots ?? []) this.clusterSnapshots.set(r.id, snap(r));
  }
}
