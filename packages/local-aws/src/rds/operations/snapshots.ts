/**
 * DB snapshots and DB cluster snapshots: Create, Describe and Delete of each. A new snapshot is
 * `creating` until a delay (scaled by the clock) has passed; only available manual snapshots
 * can be deleted.
 */
import { AwsError } from '../../contracts';
import { qString } from '../../protocol/query';
import type { RdsContext, RdsOperation } from '../context';
import { validIdentifier } from '../model';
import { applyFilters, invalid, need, paginate, parseTags, snapshotTypeFilter } from '../params';
import { clusterSnapshotView, DELETED, snapshotView } from '../views';

/** The snapshot operations. */
export function snapshotOperations(ctx: RdsContext): Record<string, RdsOperation> {
  const { state } = ctx;
  return {
    CreateDBSnapshot: (p, rc) => {
      const id = validIdentifier('DBSnapshotIdentifier', need(p, 'DBSnapshotIdentifier'), 255);
      const source = state.instance(need(p, 'DBInstanceIdentifier'));
      if (source.clusterId)
        throw invalid(
          `The specified instance ${source.id} is a member of a cluster and a snapshot cannot be ` +
            'created directly on the instance. Please use the CreateDBClusterSnapshot API instead.',
        );
      if (state.snapshots.has(id))
        throw new AwsError(
          'DBSnapshotAlreadyExists',
          `Cannot create the snapshot because a snapshot with the identifier ${id} already exists.`,
        );
      const record = state.newSnapshot('snapshot', id, source, parseTags(p.Tags), rc);
      state.snapshots.set(id, record);
      return { DBSnapshot: snapshotView(record, state.snapshotStatus(record)) };
    },
    DescribeDBSnapshots: (p) => {
      const idParam = qString(p.DBSnapshotIdentifier);
      const instanceParam = qString(p.DBInstanceIdentifier)?.toLowerCase();
      const typeMatches = snapshotTypeFilter(p);
      const items = (idParam ? [state.instanceSnapshot(idParam)] : [...state.snapshots.values()])
        .filter((r) => instanceParam === undefined || r.sourceId === instanceParam)
        .filter(typeMatches);
      const filtered = applyFilters(items, p, {
        'db-instance-id': (r) => [r.sourceId, state.instances.get(r.sourceId)?.arn],
        'db-snapshot-id': (r) => [r.id, r.arn],
        'snapshot-type': (r) => [r.type],
        engine: (r) => [r.engine],
      });
      const { page, marker } = paginate(filtered, (r) => r.id, p);
      return {
        Marker: marker,
        DBSnapshots: page.map((r) => snapshotView(r, state.snapshotStatus(r))),
      };
    },
    DeleteDBSnapshot: (p) => {
      const record = state.instanceSnapshot(need(p, 'DBSnapshotIdentifier'));
      if (record.type !== 'manual')
        throw new AwsError('InvalidDBSnapshotState', 'Only manual snapshots may be deleted.');
      if (state.snapshotStatus(record).Status !== 'available')
        throw new AwsError(
          'InvalidDBSnapshotState',
          `Cannot delete DB snapshot ${record.id}: it must be in the available state.`,
        );
      state.snapshots.delete(record.id);
      return { DBSnapshot: snapshotView(record, DELETED) };
    },
    CreateDBClusterSnapshot: (p, rc) => {
      const id = validIdentifier(
        'DBClusterSnapshotIdentifier',
        need(p, 'DBClusterSnapshotIdentifier'),
        255,
      );
      const source = state.cluster(need(p, 'DBClusterIdentifier'));
      if (state.clusterSnapshots.has(id))
        throw new AwsError(
          'DBClusterSnapshotAlreadyExistsFault',
          `Cannot create the cluster snapshot because one with the identifier ${id} already exists.`,
        );
      const record = state.newSnapshot('cluster-snapshot', id, source, parseTags(p.Tags), rc);
      state.clusterSnapshots.set(id, record);
      return { DBClusterSnapshot: clusterSnapshotView(record, state.snapshotStatus(record)) };
    },
    DescribeDBClusterSnapshots: (p) => {
      const idParam = qString(p.DBClusterSnapshotIdentifier);
      const clusterParam = qString(p.DBClusterIdentifier)?.toLowerCase();
      const typeMatches = snapshotTypeFilter(p);
      const items = (
        idParam ? [state.clusterSnapshot(idParam)] : [...state.clusterSnapshots.values()]
      )
        .filter((r) => clusterParam === undefined || r.sourceId === clusterParam)
        .filter(typeMatches);
      const filtered = applyFilters(items, p, {
        'db-cluster-id': (r) => [r.sourceId, state.clusters.get(r.sourceId)?.arn],
        'db-cluster-snapshot-id': (r) => [r.id, r.arn],
        'snapshot-type': (r) => [r.type],
        engine: (r) => [r.engine],
      });
      const { page, marker } = paginate(filtered, (r) => r.id, p);
      return {
        Marker: marker,
        DBClusterSnapshots: page.map((r) => clusterSnapshotView(r, state.snapshotStatus(r))),
      };
    },
    DeleteDBClusterSnapshot: (p) => {
      const record = state.clusterSnapshot(need(p, 'DBClusterSnapshotIdentifier'));
      if (record.type !== 'manual')
        throw new AwsError(
          'InvalidDBClusterSnapshotStateFault',
          'Only manual cluster snapshots may be deleted.',
        );
      if (state.snapshotStatus(record).Status !== 'available')
        throw new AwsError(
          'InvalidDBClusterSnapshotStateFault',
          `Cannot delete DB cluster snapshot ${record.id}: it must be in the available state.`,
        );
      state.clusterSnapshots.delete(record.id);
      return { DBClusterSnapshot: clusterSnapshotView(record, DELETED) };
    },
  };
}
