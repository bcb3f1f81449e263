/** CreateDBInstance, DescribeDBInstances, DeleteDBInstance. */
import { AwsError } from '../../contracts';
import { alnumId, arn } from '../../ids';
import { qBool, qNumber, qString } from '../../protocol/query';
import type { RdsContext, RdsOperation } from '../context';
import {
  engineDefaults,
  isAuroraEngine,
  validIdentifier,
  type ClusterRecord,
  type InstanceRecord,
} from '../model';
import { applyFilters, invalid, need, paginate, parseTags } from '../params';
import { instanceView } from '../views';

/** The DB instance operations. */
export function instanceOperations(ctx: RdsContext): Record<string, RdsOperation> {
  const { state, clock } = ctx;
  return {
    CreateDBInstance: (p, rc) => {
      const id = validIdentifier('DBInstanceIdentifier', need(p, 'DBInstanceIdentifier'), 63);
      const instanceClass = need(p, 'DBInstanceClass');
      if (!/^db\.[a-z0-9-]+\.[a-z0-9-]+$/.test(instanceClass))
        throw invalid(`Invalid DB instance class: \`${instanceClass}\`.`);
      const engine = need(p, 'Engine');
      const defaults = engineDefaults(engine, false);
      const clusterParam = qString(p.DBClusterIdentifier);
      let cluster: ClusterRecord | undefined;
      if (clusterParam !== undefined) {
        cluster = state.cluster(clusterParam);
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
      if (state.instances.has(id))
        throw new AwsError('DBInstanceAlreadyExists', `DB instance already exists: ${id}.`);
      const record: InstanceRecord = {
        id,
        instanceClass,
        engine,
        engineVersion: qString(p.EngineVersion) ?? cluster?.engineVersion ?? defaults.version,
        arn: arn('rds', rc.region, rc.accountId, `db:${id}`),
        resourceId: `db-${alnumId(26).toUpperCase()}`,
        createdAt: clock.now(),
        allocatedStorage: cluster ? 1 : (qNumber(p.AllocatedStorage) ?? 20),
        port: qNumber(p.Port) ?? cluster?.port ?? defaults.port,
        masterUsername: qString(p.MasterUsername) ?? cluster?.masterUsername,
        dbName: qString(p.DBName),
        clusterId: cluster?.id,
        tags: parseTags(p.Tags),
      };
      state.instances.set(id, record);
      return { DBInstance: instanceView(record) };
    },
    DescribeDBInstances: (p) => {
      const idParam = qString(p.DBInstanceIdentifier);
      const items = idParam ? [state.instance(idParam)] : [...state.instances.values()];
      const filtered = applyFilters(items, p, {
        'db-instance-id': (r) => [r.id, r.arn],
        'db-cluster-id': (r) => [r.clusterId],
        engine: (r) => [r.engine],
        'dbi-resource-id': (r) => [r.resourceId],
      });
      const { page, marker } = paginate(filtered, (r) => r.id, p);
      return { Marker: marker, DBInstances: page.map((r) => instanceView(r)) };
    },
    DeleteDBInstance: (p, rc) => {
      const record = state.instance(need(p, 'DBInstanceIdentifier'));
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
        if (state.snapshots.has(snapId))
          throw new AwsError(
            'DBSnapshotAlreadyExists',
            `Cannot create the snapshot because a snapshot with the identifier ${snapId} already exists.`,
          );
        state.snapshots.set(snapId, state.newSnapshot('snapshot', snapId, record, [], rc));
      }
      if (qBool(p.DeleteAutomatedBackups) ?? true) {
        for (const s of [...state.snapshots.values()])
          if (s.type === 'automated' && s.sourceId === record.id) state.snapshots.delete(s.id);
      }
      state.instances.delete(record.id);
      return { DBInstance: instanceView(record, 'deleting') };
    },
  };
}
