/** What the RDS operations return for instances, clusters and snapshots (query members). */
import type { ClusterRecord, InstanceRecord, SnapshotRecord } from './model';

/** A snapshot's `Status` and `PercentProgress`. */
export interface SnapshotProgress {
  Status: string;
  PercentProgress: number;
}

/** A deleted snapshot's progress, as the Delete operations return it. */
export const DELETED: SnapshotProgress = { Status: 'deleted', PercentProgress: 100 };

/** A DB instance. */
export function instanceView(r: InstanceRecord, status = 'available'): Record<string, unknown> {
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

/** A DB cluster with its member instances (the oldest is the writer). */
export function clusterView(
  r: ClusterRecord,
  instances: Iterable<InstanceRecord>,
  status = 'available',
): Record<string, unknown> {
  const members = [...instances]
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

/** A DB snapshot. */
export function snapshotView(
  r: SnapshotRecord,
  { Status, PercentProgress }: SnapshotProgress,
): Record<string, unknown> {
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

/** A DB cluster snapshot. */
export function clusterSnapshotView(
  r: SnapshotRecord,
  { Status, PercentProgress }: SnapshotProgress,
): Record<string, unknown> {
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
