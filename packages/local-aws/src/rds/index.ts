/**
 * RDS over the query protocol (API version 2014-10-31): DB instances and clusters as records
 * (no database runs), manual DB snapshots and DB cluster snapshots that go from `creating` to
 * `available` after a delay scaled by the clock, and resource tags.
 */
import type { Clock } from '../clock';
import { AwsError, type RequestContext } from '../contracts';
import { alnumId, arn, parseArn } from '../ids';
import {
  qBool,
  qList,
  qNumber,
  qObject,
  qString,
  type QueryParams,
  type QueryValue,
} from '../protocol/query';
import {
  engineDefaults,
  isAuroraEngine,
  validIdentifier,
  type ClusterRecord,
  type InstanceRecord,
  type RdsTag,
  type SnapshotRecord,
} from './model';

export {
  RDS_LIST_ITEM_NAMES,
  RDS_LIST_WRAPPERS,
  RDS_VERSION,
  RDS_XMLNS,
  type RdsTag,
} from './model';

/** How long (in AWS time, scaled by the clock) a new snapshot stays `creating`. */
export const SNAPSHOT_CREATE_MS = 5000;

/** Options of {@link Rds}. */
export interface RdsOptions {
  clock: Clock;
  accountId: string;
  /** AWS milliseconds from `creating` to `available`; default {@link SNAPSHOT_CREATE_MS}. */
  snapshotCreateMs?: number;
}

/** A snapshot added by the admin hook {@link Rds.addSnapshot} (back-dated, already available). */
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

type Op = (p: QueryParams, ctx: RequestContext) => unknown;
type FilterFields<T> = Record<string, (r: T) => (string | undefined)[]>;

const SNAPSHOT_TYPES = new Set(['manual', 'automated', 'shared', 'public', 'awsbackup']);
const DEFAULT_REGION = 'us-east-1';

function need(p: QueryParams, name: string): string {
  const v = qString(p[name]);
  if (v === undefined || v === '')
    throw new AwsError('MissingParameter', `The request must contain the parameter ${name}.`);
  return v;
}

function invalid(message: string): AwsError {
  return new AwsError('InvalidParameterValue', message);
}

function parseTags(v: QueryValue | undefined): RdsTag[] {
  return qList(v).map((raw) => {
    const t = qObject(raw);
    const key = qString(t.Key);
    if (!key) throw invalid('A tag must have a `Key`.');
    return { Key: key, Value: qString(t.Value) ?? '' };
  });
}

function mergeTags(into: RdsTag[], add: RdsTag[]): void {
  for (const t of add) {
    const existing = into.find((x) => x.Key === t.Key);
    if (existing) existing.Value = t.Value;
    else into.push({ ...t });
  }
}

function applyFilters<T>(items: T[], p: QueryParams, fields: FilterFields<T>): T[] {
  const filters = qList(p.Filters).map((raw) => {
    const f = qObject(raw);
    const name = qString(f.Name) ?? '';
    if (!Object.prototype.hasOwnProperty.call(fields, name))
      throw invalid(`Unrecognized filter name: \`${name}\`.`);
    return { name, values: qList(f.Values).map((x) => String(x).toLowerCase()) };
  });
  return items.filter((r) =>
    filters.every((f) => {
      const have = fields[f.name](r).map((x) => x?.toLowerCase());
      return f.values.some((v) => have.includes(v));
    }),
  );
}

/** One page of `items` ordered by `key`, with the `Marker` of the next page when there is one. */
function paginate<T>(
  items: T[],
  key: (t: T) => string,
  p: QueryParams,
): { page: T[]; marker?: string } {
  const max = qNumber(p.MaxRecords) ?? 100;
  if (!Number.isInteger(max) || max < 20 || max > 100)
    throw invalid(
      `Invalid value \`${qString(p.MaxRecords)}\` for MaxRecords. Must be between 20 and 100.`,
    );
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const marker = qString(p.Marker);
  let start = 0;
  if (marker) {
    const from = Buffer.from(marker, 'base64url').toString('utf8');
    start = sorted.findIndex((x) => key(x) >= from);
    if (start < 0) start = sorted.length;
  }
  const next = sorted[start + max];
  return {
    page: sorted.slice(start, start + max),
    marker: next === undefined ? undefined : Buffer.from(key(next)).toString('base64url'),
  };
}

function toDate(v: unknown): Date {
  const d = v instanceof Date ? v : new Date(String(v));
  if (Number.isNaN(d.getTime())) throw new Error(`not a date: \`${String(v)}\``);
  return d;
}

/** The RDS part of local-aws. */
export class Rds {
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly clusters = new Map<string, ClusterRecord>();
  private readonly snapshots = new Map<string, SnapshotRecord>();
  private readonly clusterSnapshots = new Map<string, SnapshotRecord>();
  private readonly clock: Clock;
  private readonly accountId: string;
  private readonly snapshotCreateMs: number;

  constructor(options: RdsOptions) {
    this.clock = options.clock;
    this.accountId = options.accountId;
    this.snapshotCreateMs = options.snapshotCreateMs ?? SNAPSHOT_CREATE_MS;
  }

  // ---- admin -------------------------------------------------------------------------------

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

  // ---- lifecycle ---------------------------------------------------------------------------

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

  // ---- rendering ---------------------------------------------------------------------------

  private status(r: SnapshotRecord): { Status: string; PercentProgress: number } {
    const now = this.clock.now().getTime();
    const due = r.availableAt.getTime();
    if (now >= due) return { Status: 'available', PercentProgress: 100 };
    const total = Math.max(1, due - r.createdAt.getTime());
    const done = Math.floor(((now - r.createdAt.getTime()) / total) * 100);
    return { Status: 'creating', PercentProgress: Math.min(99, Math.max(0, done)) };
  }

  private instanceOut(r: InstanceRecord, status = 'available'): Record<string, unknown> {
    return {
      DBInstanceIdentifier: r.id,
      DBInstanceClass: r.instanceClass,
      Engine: r.engine,
      DBInstanceStatus: status,
      MasterUsername: r.masterUsername,
      DBName: r.dbName,
      AllocatedStorage: r.allocatedStorage,
      InstanceCreateTime: r.createdAt,
      EngineVersion: r.engineVersion,
      DBClusterIdentifier: r.clusterId,
      StorageEncrypted: false,
      DbiResourceId: r.resourceId,
      DBInstanceArn: r.arn,
      TagList: r.tags,
    };
  }

  private clusterOut(r: ClusterRecord, status = 'available'): Record<string, unknown> {
    const members = [...this.instances.values()]
      .filter((i) => i.clusterId === r.id)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    return {
      DBClusterIdentifier: r.id,
      DatabaseName: r.databaseName,
      Status: status,
      Engine: r.engine,
      EngineVersion: r.engineVersion,
      Port: r.port,
      MasterUsername: r.masterUsername,
      StorageEncrypted: false,
      DbClusterResourceId: r.resourceId,
      DBClusterArn: r.arn,
      ClusterCreateTime: r.createdAt,
      EngineMode: 'provisioned',
      DBClusterMembers: members.map((m, i) => ({
        DBInstanceIdentifier: m.id,
        IsClusterWriter: i === 0,
        PromotionTier: 1,
      })),
      TagList: r.tags,
    };
  }

  private snapshotOut(r: SnapshotRecord, deleted = false): Record<string, unknown> {
    const { Status, PercentProgress } = deleted
      ? { Status: 'deleted', PercentProgress: 100 }
      : this.status(r);
    return {
      DBSnapshotIdentifier: r.id,
      DBInstanceIdentifier: r.sourceId,
      SnapshotCreateTime: r.createdAt,
      Engine: r.engine,
      AllocatedStorage: r.allocatedStorage,
      Status,
      Port: r.port,
      InstanceCreateTime: r.sourceCreatedAt,
      MasterUsername: r.masterUsername,
      EngineVersion: r.engineVersion,
      SnapshotType: r.type,
      PercentProgress,
      Encrypted: false,
      DBSnapshotArn: r.arn,
      TagList: r.tags,
      OriginalSnapshotCreateTime: r.createdAt,
      SnapshotTarget: 'region',
    };
  }

  private clusterSnapshotOut(r: SnapshotRecord, deleted = false): Record<string, unknown> {
    const { Status, PercentProgress } = deleted
      ? { Status: 'deleted', PercentProgress: 100 }
      : this.status(r);
    return {
      DBClusterSnapshotIdentifier: r.id,
      DBClusterIdentifier: r.sourceId,
      SnapshotCreateTime: r.createdAt,
      Engine: r.engine,
      EngineMode: 'provisioned',
      AllocatedStorage: r.allocatedStorage,
      Status,
      Port: r.port,
      ClusterCreateTime: r.sourceCreatedAt,
      MasterUsername: r.masterUsername,
      EngineVersion: r.engineVersion,
      SnapshotType: r.type,
      PercentProgress,
      StorageEncrypted: false,
      DBClusterSnapshotArn: r.arn,
      TagList: r.tags,
    };
  }

  // ---- lookups -----------------------------------------------------------------------------

  private instance(id: string): InstanceRecord {
    const r = this.instances.get(id.toLowerCase());
    if (!r) throw new AwsError('DBInstanceNotFound', `DBInstance ${id} not found.`, 404);
    return r;
  }

  private cluster(id: string): ClusterRecord {
    const r = this.clusters.get(id.toLowerCase());
    if (!r) throw new AwsError('DBClusterNotFoundFault', `DBCluster ${id} not found.`, 404);
    return r;
  }

  private instanceSnapshot(id: string): SnapshotRecord {
    const r = this.snapshots.get(id.toLowerCase());
    if (!r) throw new AwsError('DBSnapshotNotFound', `DBSnapshot ${id} not found.`, 404);
    return r;
  }

  private clusterSnapshot(id: string): SnapshotRecord {
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
  private tagsOf(resourceName: string): RdsTag[] {
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

  private newSnapshot(
    kind: 'snapshot' | 'cluster-snapshot',
    id: string,
    source: InstanceRecord | ClusterRecord,
    tags: RdsTag[],
    ctx: RequestContext,
  ): SnapshotRecord {
    const now = this.clock.now();
    return {
      id,
      sourceId: source.id,
      type: 'manual',
      arn: arn('rds', ctx.region, ctx.accountId, `${kind}:${id}`),
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

  private snapshotTypeFilter(p: QueryParams): (r: SnapshotRecord) => boolean {
    const type = qString(p.SnapshotType);
    if (type === undefined) return () => true;
    if (!SNAPSHOT_TYPES.has(type))
      throw invalid(
        `Invalid value \`${type}\` for SnapshotType. Valid values: ${[...SNAPSHOT_TYPES].join(', ')}.`,
      );
    return (r) => r.type === type;
  }

  // ---- operations --------------------------------------------------------------------------

  private readonly createDBInstance: Op = (p, ctx) => {
    const id = validIdentifier('DBInstanceIdentifier', need(p, 'DBInstanceIdentifier'), 63);
    const instanceClass = need(p, 'DBInstanceClass');
    if (!/^db\.[a-z0-9-]+\.[a-z0-9-]+$/.test(instanceClass))
      throw invalid(`Invalid DB instance class: \`${instanceClass}\`.`);
    const engine = need(p, 'Engine');
    const defaults = engineDefaults(engine, false);
    const clusterParam = qString(p.DBClusterIdentifier);
    let cluster: ClusterRecord | undefined;
    if (clusterParam !== undefined) {
      cluster = this.cluster(clusterParam);
      if (cluster.engine !== engine)
        throw new AwsError(
          'InvalidParameterCombination',
          `The engine \`${engine}\` does not match the engine \`${cluster.engine}\` of DB cluster ${cluster.id}.`,
        );
    } else if (isAuroraEngine(engine)) {
      throw new AwsError(
        'InvalidParameterCombination',
        `An \`${engine}\` DB instance must name its DB cluster in DBClusterIdentifier.`,
      );
    }
    if (this.instances.has(id))
      throw new AwsError('DBInstanceAlreadyExists', `DB instance already exists: ${id}.`);
    const record: InstanceRecord = {
      id,
      instanceClass,
      engine,
      engineVersion: qString(p.EngineVersion) ?? cluster?.engineVersion ?? defaults.version,
      arn: arn('rds', ctx.region, ctx.accountId, `db:${id}`),
      resourceId: `db-${alnumId(26).toUpperCase()}`,
      createdAt: this.clock.now(),
      allocatedStorage: cluster ? 1 : (qNumber(p.AllocatedStorage) ?? 20),
      port: qNumber(p.Port) ?? cluster?.port ?? defaults.port,
      masterUsername: qString(p.MasterUsername) ?? cluster?.masterUsername,
      dbName: qString(p.DBName),
      clusterId: cluster?.id,
      tags: parseTags(p.Tags),
    };
    this.instances.set(id, record);
    return { DBInstance: this.instanceOut(record) };
  };

  private readonly describeDBInstances: Op = (p) => {
    const idParam = qString(p.DBInstanceIdentifier);
    const items = idParam ? [this.instance(idParam)] : [...this.instances.values()];
    const filtered = applyFilters(items, p, {
      'db-instance-id': (r) => [r.id, r.arn],
      'db-cluster-id': (r) => [r.clusterId],
      engine: (r) => [r.engine],
      'dbi-resource-id': (r) => [r.resourceId],
    });
    const { page, marker } = paginate(filtered, (r) => r.id, p);
    return { Marker: marker, DBInstances: page.map((r) => this.instanceOut(r)) };
  };

  private readonly deleteDBInstance: Op = (p, ctx) => {
    const record = this.instance(need(p, 'DBInstanceIdentifier'));
    const skip = qBool(p.SkipFinalSnapshot) ?? false;
    const finalId = qString(p.FinalDBSnapshotIdentifier);
    if (!record.clusterId) {
      if (skip && finalId !== undefined)
        throw new AwsError(
          'InvalidParameterCombination',
          'FinalDBSnapshotIdentifier can not be specified when SkipFinalSnapshot is true.',
        );
      if (!skip && finalId === undefined)
        throw new AwsError(
          'InvalidParameterCombination',
          'FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.',
        );
    }
    if (finalId !== undefined && !record.clusterId) {
      const snapId = validIdentifier('FinalDBSnapshotIdentifier', finalId, 255);
      if (this.snapshots.has(snapId))
        throw new AwsError(
          'DBSnapshotAlreadyExists',
          `Cannot create the snapshot because a snapshot with the identifier ${snapId} already exists.`,
        );
      this.snapshots.set(snapId, this.newSnapshot('snapshot', snapId, record, [], ctx));
    }
    if (qBool(p.DeleteAutomatedBackups) ?? true) {
      for (const s of [...this.snapshots.values()])
        if (s.type === 'automated' && s.sourceId === record.id) this.snapshots.delete(s.id);
    }
    this.instances.delete(record.id);
    return { DBInstance: this.instanceOut(record, 'deleting') };
  };

  private readonly createDBCluster: Op = (p, ctx) => {
    const id = validIdentifier('DBClusterIdentifier', need(p, 'DBClusterIdentifier'), 63);
    const engine = need(p, 'Engine');
    const defaults = engineDefaults(engine, true);
    if (this.clusters.has(id))
      throw new AwsError('DBClusterAlreadyExistsFault', `DB Cluster already exists: ${id}.`);
    const record: ClusterRecord = {
      id,
      engine,
      engineVersion: qString(p.EngineVersion) ?? defaults.version,
      arn: arn('rds', ctx.region, ctx.accountId, `cluster:${id}`),
      resourceId: `cluster-${alnumId(26).toUpperCase()}`,
      createdAt: this.clock.now(),
      port: qNumber(p.Port) ?? defaults.port,
      masterUsername: qString(p.MasterUsername),
      databaseName: qString(p.DatabaseName),
      tags: parseTags(p.Tags),
    };
    this.clusters.set(id, record);
    return { DBCluster: this.clusterOut(record) };
  };

  private readonly describeDBClusters: Op = (p) => {
    const idParam = qString(p.DBClusterIdentifier);
    const items = idParam ? [this.cluster(idParam)] : [...this.clusters.values()];
    const filtered = applyFilters(items, p, {
      'db-cluster-id': (r) => [r.id, r.arn],
      engine: (r) => [r.engine],
      'db-cluster-resource-id': (r) => [r.resourceId],
    });
    const { page, marker } = paginate(filtered, (r) => r.id, p);
    return { Marker: marker, DBClusters: page.map((r) => this.clusterOut(r)) };
  };

  private readonly createDBSnapshot: Op = (p, ctx) => {
    const id = validIdentifier('DBSnapshotIdentifier', need(p, 'DBSnapshotIdentifier'), 255);
    const source = this.instance(need(p, 'DBInstanceIdentifier'));
    if (source.clusterId)
      throw invalid(
        `The specified instance ${source.id} is a member of a cluster and a snapshot cannot be ` +
          'created directly on the instance. Please use the CreateDBClusterSnapshot API instead.',
      );
    if (this.snapshots.has(id))
      throw new AwsError(
        'DBSnapshotAlreadyExists',
        `Cannot create the snapshot because a snapshot with the identifier ${id} already exists.`,
      );
    const record = this.newSnapshot('snapshot', id, source, parseTags(p.Tags), ctx);
    this.snapshots.set(id, record);
    return { DBSnapshot: this.snapshotOut(record) };
  };

  private readonly describeDBSnapshots: Op = (p) => {
    const idParam = qString(p.DBSnapshotIdentifier);
    const instanceParam = qString(p.DBInstanceIdentifier)?.toLowerCase();
    const typeMatches = this.snapshotTypeFilter(p);
    const items = (idParam ? [this.instanceSnapshot(idParam)] : [...this.snapshots.values()])
      .filter((r) => instanceParam === undefined || r.sourceId === instanceParam)
      .filter(typeMatches);
    const filtered = applyFilters(items, p, {
      'db-instance-id': (r) => [r.sourceId, this.instances.get(r.sourceId)?.arn],
      'db-snapshot-id': (r) => [r.id, r.arn],
      'snapshot-type': (r) => [r.type],
      engine: (r) => [r.engine],
    });
    const { page, marker } = paginate(filtered, (r) => r.id, p);
    return { Marker: marker, DBSnapshots: page.map((r) => this.snapshotOut(r)) };
  };

  private readonly deleteDBSnapshot: Op = (p) => {
    const record = this.instanceSnapshot(need(p, 'DBSnapshotIdentifier'));
    if (record.type !== 'manual')
      throw new AwsError('InvalidDBSnapshotState', 'Only manual snapshots may be deleted.');
    if (this.status(record).Status !== 'available')
      throw new AwsError(
        'InvalidDBSnapshotState',
        `Cannot delete DB snapshot ${record.id}: it must be in the available state.`,
      );
    this.snapshots.delete(record.id);
    return { DBSnapshot: this.snapshotOut(record, true) };
  };

  private readonly createDBClusterSnapshot: Op = (p, ctx) => {
    const id = validIdentifier(
      'DBClusterSnapshotIdentifier',
      need(p, 'DBClusterSnapshotIdentifier'),
      255,
    );
    const source = this.cluster(need(p, 'DBClusterIdentifier'));
    if (this.clusterSnapshots.has(id))
      throw new AwsError(
        'DBClusterSnapshotAlreadyExistsFault',
        `Cannot create the cluster snapshot because one with the identifier ${id} already exists.`,
      );
    const record = this.newSnapshot('cluster-snapshot', id, source, parseTags(p.Tags), ctx);
    this.clusterSnapshots.set(id, record);
    return { DBClusterSnapshot: this.clusterSnapshotOut(record) };
  };

  private readonly describeDBClusterSnapshots: Op = (p) => {
    const idParam = qString(p.DBClusterSnapshotIdentifier);
    const clusterParam = qString(p.DBClusterIdentifier)?.toLowerCase();
    const typeMatches = this.snapshotTypeFilter(p);
    const items = (idParam ? [this.clusterSnapshot(idParam)] : [...this.clusterSnapshots.values()])
      .filter((r) => clusterParam === undefined || r.sourceId === clusterParam)
      .filter(typeMatches);
    const filtered = applyFilters(items, p, {
      'db-cluster-id': (r) => [r.sourceId, this.clusters.get(r.sourceId)?.arn],
      'db-cluster-snapshot-id': (r) => [r.id, r.arn],
      'snapshot-type': (r) => [r.type],
      engine: (r) => [r.engine],
    });
    const { page, marker } = paginate(filtered, (r) => r.id, p);
    return { Marker: marker, DBClusterSnapshots: page.map((r) => this.clusterSnapshotOut(r)) };
  };

  private readonly deleteDBClusterSnapshot: Op = (p) => {
    const record = this.clusterSnapshot(need(p, 'DBClusterSnapshotIdentifier'));
    if (record.type !== 'manual')
      throw new AwsError(
        'InvalidDBClusterSnapshotStateFault',
        'Only manual cluster snapshots may be deleted.',
      );
    if (this.status(record).Status !== 'available')
      throw new AwsError(
        'InvalidDBClusterSnapshotStateFault',
        `Cannot delete DB cluster snapshot ${record.id}: it must be in the available state.`,
      );
    this.clusterSnapshots.delete(record.id);
    return { DBClusterSnapshot: this.clusterSnapshotOut(record, true) };
  };

  /** Query-protocol operations by name. */
  readonly operations: Record<string, Op> = {
    CreateDBInstance: this.createDBInstance,
    DescribeDBInstances: this.describeDBInstances,
    DeleteDBInstance: this.deleteDBInstance,
    CreateDBCluster: this.createDBCluster,
    DescribeDBClusters: this.describeDBClusters,
    CreateDBSnapshot: this.createDBSnapshot,
    DescribeDBSnapshots: this.describeDBSnapshots,
    DeleteDBSnapshot: this.deleteDBSnapshot,
    CreateDBClusterSnapshot: this.createDBClusterSnapshot,
    DescribeDBClusterSnapshots: this.describeDBClusterSnapshots,
    DeleteDBClusterSnapshot: this.deleteDBClusterSnapshot,
    AddTagsToResource: (p) => {
      const tags = this.tagsOf(need(p, 'ResourceName'));
      mergeTags(tags, parseTags(p.Tags));
      return {};
    },
    ListTagsForResource: (p) => {
      return { TagList: this.tagsOf(need(p, 'ResourceName')) };
    },
    RemoveTagsFromResource: (p) => {
      const tags = this.tagsOf(need(p, 'ResourceName'));
      const keys = new Set(qList(p.TagKeys).map(String));
      const kept = tags.filter((t) => !keys.has(t.Key));
      tags.splice(0, tags.length, ...kept);
      return {};
    },
  };
}
