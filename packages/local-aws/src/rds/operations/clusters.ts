/** CreateDBCluster, DescribeDBClusters. */
import { AwsError } from '../../contracts';
import { alnumId, arn } from '../../ids';
import { qNumber, qString } from '../../protocol/query';
import type { RdsContext, RdsOperation } from '../context';
import { engineDefaults, validIdentifier, type ClusterRecord } from '../model';
import { applyFilters, need, paginate, parseTags } from '../params';
import { clusterView } from '../views';

/** The DB cluster operations. */
export function clusterOperations(ctx: RdsContext): Record<string, RdsOperation> {
  const { state, clock } = ctx;
  return {
    CreateDBCluster: (p, rc) => {
      const id = validIdentifier('DBClusterIdentifier', need(p, 'DBClusterIdentifier'), 63);
      const engine = need(p, 'Engine');
      const defaults = engineDefaults(engine, true);
      if (state.clusters.has(id))
        throw new AwsError('DBClusterAlreadyExistsFault', `DB Cluster already exists: ${id}.`);
      const record: ClusterRecord = {
        id,
        engine,
        engineVersion: qString(p.EngineVersion) ?? defaults.version,
        arn: arn('rds', rc.region, rc.accountId, `cluster:${id}`),
        resourceId: `cluster-${alnumId(26).toUpperCase()}`,
        createdAt: clock.now(),
        port: qNumber(p.Port) ?? defaults.port,
        masterUsername: qString(p.MasterUsername),
        databaseName: qString(p.DatabaseName),
        tags: parseTags(p.Tags),
      };
      state.clusters.set(id, record);
      return { DBCluster: clusterView(record, state.instances.values()) };
    },
    DescribeDBClusters: (p) => {
      const idParam = qString(p.DBClusterIdentifier);
      const items = idParam ? [state.cluster(idParam)] : [...state.clusters.values()];
      const filtered = applyFilters(items, p, {
        'db-cluster-id': (r) => [r.id, r.arn],
        engine: (r) => [r.engine],
        'db-cluster-resource-id': (r) => [r.resourceId],
      });
      const { page, marker } = paginate(filtered, (r) => r.id, p);
      return {
        Marker: marker,
        DBClusters: page.map((r) => clusterView(r, state.instances.values())),
      };
    },
  };
}
