/**
 * RDS resources as local-aws keeps them, and what is fixed about RDS on the wire: list element
 * names, engines, identifier rules.
 */
import { AwsError } from '../contracts';

/** XML namespace of RDS API version 2014-10-31. */
export const RDS_XMLNS = 'http://rds.amazonaws.com/doc/2014-10-31/';

/** The `Version` RDS clients send. */
export const RDS_VERSION = '2014-10-31';

/**
 * Element names that wrap request list items (`Tags.Tag.1.Key`, `Filters.Filter.1.Values.Value.1`,
 * `TagKeys.member.1`, `VpcSecurityGroupIds.VpcSecurityGroupId.1`).
 */
export const RDS_LIST_WRAPPERS = [
  'member',
  'Tag',
  'Filter',
  'Value',
  'VpcSecurityGroupId',
  'AvailabilityZone',
];

/** Element names of response list items, by the list's element name. */
export const RDS_LIST_ITEM_NAMES: Record<string, string> = {
  DBInstances: 'DBInstance',
  DBClusters: 'DBCluster',
  DBClusterMembers: 'DBClusterMember',
  DBSnapshots: 'DBSnapshot',
  DBClusterSnapshots: 'DBClusterSnapshot',
  TagList: 'Tag',
};

/** A resource tag. */
export interface RdsTag {
  Key: string;
  Value: string;
}

/** A DB instance. */
export interface InstanceRecord {
  id: string;
  instanceClass: string;
  engine: string;
  engineVersion: string;
  arn: string;
  resourceId: string;
  createdAt: Date;
  allocatedStorage: number;
  port: number;
  masterUsername?: string;
  dbName?: string;
  clusterId?: string;
  tags: RdsTag[];
}

/** A DB cluster. */
export interface ClusterRecord {
  id: string;
  engine: string;
  engineVersion: string;
  arn: string;
  resourceId: string;
  createdAt: Date;
  port: number;
  masterUsername?: string;
  databaseName?: string;
  tags: RdsTag[];
}

/** A DB snapshot or DB cluster snapshot. */
export interface SnapshotRecord {
  id: string;
  /** The DB instance (DB snapshots) or DB cluster (cluster snapshots) it was taken of. */
  sourceId: string;
  type: 'manual' | 'automated';
  arn: string;
  createdAt: Date;
  /** Wall-clock time at which `creating` turns into `available`. */
  availableAt: Date;
  engine: string;
  engineVersion: string;
  allocatedStorage: number;
  port: number;
  masterUsername?: string;
  sourceCreatedAt?: Date;
  tags: RdsTag[];
}

/** Engines a DB instance may have; `aurora-*` instances belong to a cluster. */
const INSTANCE_ENGINES: Record<string, { version: string; port: number }> = {
  postgres: { version: '17.4', port: 5432 },
  mysql: { version: '8.4.5', port: 3306 },
  mariadb: { version: '11.4.5', port: 3306 },
  'aurora-postgresql': { version: '16.6', port: 5432 },
  'aurora-mysql': { version: '8.0.mysql_aurora.3.08.2', port: 3306 },
  'oracle-ee': { version: '19.0.0.0.ru-2025-04.rur-2025-04.r1', port: 1521 },
  'oracle-se2': { version: '19.0.0.0.ru-2025-04.rur-2025-04.r1', port: 1521 },
  'sqlserver-ee': { version: '16.00.4185.3.v1', port: 1433 },
  'sqlserver-se': { version: '16.00.4185.3.v1', port: 1433 },
  'sqlserver-ex': { version: '16.00.4185.3.v1', port: 1433 },
  'sqlserver-web': { version: '16.00.4185.3.v1', port: 1433 },
};

/** Engines a DB cluster may have (Aurora, and Multi-AZ DB clusters of MySQL/PostgreSQL). */
const CLUSTER_ENGINES = new Set(['aurora-postgresql', 'aurora-mysql', 'postgres', 'mysql']);

/** Default version and port of an engine; throws `InvalidParameterValue` for an unknown one. */
export function engineDefaults(
  engine: string,
  forCluster: boolean,
): { version: string; port: number } {
  const known = INSTANCE_ENGINES[engine];
  if (!known || (forCluster && !CLUSTER_ENGINES.has(engine)))
    throw new AwsError(
      'InvalidParameterValue',
      `Invalid DB engine: \`${engine}\` is not a ${forCluster ? 'DB cluster' : 'DB instance'} engine.`,
    );
  return known;
}

/** True for engines whose instances only exist inside a DB cluster. */
export function isAuroraEngine(engine: string): boolean {
  return engine.startsWith('aurora');
}

/**
 * Checks an identifier the way RDS does (a letter first; ASCII letters, digits and hyphens; no
 * trailing or double hyphen; at most `max` characters) and returns it lower-cased, as RDS stores it.
 */
export function validIdentifier(parameter: string, value: string, max: number): string {
  if (value.length > max || !/^[A-Za-z](?:-?[A-Za-z0-9])*$/.test(value))
    throw new AwsError(
      'InvalidParameterValue',
      `The parameter ${parameter} is not a valid identifier: \`${value}\`. Identifiers must begin ` +
        `with a letter; must contain only ASCII letters, digits, and hyphens; must not end with a ` +
        `hyphen or contain two consecutive hyphens; and must be at most ${max} characters.`,
    );
  return value.toLowerCase();
}
