import {
  AddTagsToResourceCommand,
  CreateDBClusterCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBInstanceCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClustersCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ListTagsForResourceCommand,
  paginateDescribeDBSnapshots,
  RDSClient,
  RemoveTagsFromResourceCommand,
  waitUntilDBClusterSnapshotAvailable,
  waitUntilDBSnapshotAvailable,
  type DBSnapshot,
  type DescribeDBSnapshotsCommandInput,
} from '@aws-sdk/client-rds';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';

const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };
const DAY = 86_400_000;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function client(aws: LocalAws): RDSClient {
  return new RDSClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials });
}

/** The raw XML of one query call, to check the wire shape the SDK parses. */
async function rawQuery(aws: LocalAws, params: Record<string, string>): Promise<string> {
  const res = await fetch(aws.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20260101/us-east-1/rds/aws4_request, ' +
        `SignedHeaders=host, Signature=${'0'.repeat(64)}`,
    },
    body: new URLSearchParams({ Version: '2014-10-31', ...params }).toString(),
    signal: AbortSignal.timeout(5000),
  });
  return res.text();
}

describe('local-aws RDS', () => {
  let aws: LocalAws;
  let rds: RDSClient;

  beforeAll(async () => {
    aws = await startLocalAws({ timeScale: 30 });
    rds = client(aws);
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'Shop-DB',
        DBInstanceClass: 'db.t4g.micro',
        Engine: 'postgres',
        Tags: [{ Key: 'team', Value: 'shop' }],
      }),
    );
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'other-db',
        DBInstanceClass: 'db.t4g.micro',
        Engine: 'mysql',
      }),
    );
    await rds.send(
      new CreateDBClusterCommand({ DBClusterIdentifier: 'aurora-1', Engine: 'aurora-postgresql' }),
    );
  });

  afterAll(async () => {
    rds?.destroy();
    await aws?.stop();
  });

  it('creates and describes DB instances with lower-cased identifiers, status and ARN', async () => {
    const one = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'SHOP-db' }));
    expect(one.DBInstances).toHaveLength(1);
    expect(one.DBInstances?.[0]).toMatchObject({
      DBInstanceIdentifier: 'shop-db',
      DBInstanceClass: 'db.t4g.micro',
      Engine: 'postgres',
      DBInstanceStatus: 'available',
      DBInstanceArn: 'arn:aws:rds:us-east-1:000000000000:db:shop-db',
      TagList: [{ Key: 'team', Value: 'shop' }],
    });
    expect(one.DBInstances?.[0].InstanceCreateTime).toBeInstanceOf(Date);
    const all = await rds.send(new DescribeDBInstancesCommand({}));
    expect(all.DBInstances?.map((i) => i.DBInstanceIdentifier).sort()).toEqual([
      'other-db',
      'shop-db',
    ]);
    const byEngine = await rds.send(
      new DescribeDBInstancesCommand({ Filters: [{ Name: 'engine', Values: ['mysql'] }] }),
    );
    expect(byEngine.DBInstances?.map((i) => i.DBInstanceIdentifier)).toEqual(['other-db']);
  });

  it('creates and describes DB clusters', async () => {
    const r = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'aurora-1' }));
    expect(r.DBClusters?.[0]).toMatchObject({
      DBClusterIdentifier: 'aurora-1',
      Engine: 'aurora-postgresql',
      Status: 'available',
      DBClusterArn: 'arn:aws:rds:us-east-1:000000000000:cluster:aurora-1',
    });
  });

  it('takes a DB snapshot that is creating, then available for the SDK waiter', async () => {
    const created = await rds.send(
      new CreateDBSnapshotCommand({
        DBSnapshotIdentifier: 'nightly-1',
        DBInstanceIdentifier: 'shop-db',
        Tags: [
          { Key: 'shipkit:managed-by', Value: 'shipkit' },
          { Key: 'shipkit:environment', Value: 'production' },
        ],
      }),
    );
    expect(created.DBSnapshot).toMatchObject({
      DBSnapshotIdentifier: 'nightly-1',
      DBSnapshotArn: 'arn:aws:rds:us-east-1:000000000000:snapshot:nightly-1',
      DBInstanceIdentifier: 'shop-db',
      Status: 'creating',
      SnapshotType: 'manual',
      Engine: 'postgres',
      TagList: [
        { Key: 'shipkit:managed-by', Value: 'shipkit' },
        { Key: 'shipkit:environment', Value: 'production' },
      ],
    });
    expect(created.DBSnapshot?.SnapshotCreateTime).toBeInstanceOf(Date);
    const waited = await waitUntilDBSnapshotAvailable(
      { client: rds, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { DBSnapshotIdentifier: 'nightly-1' },
    );
    expect(waited.state).toBe('SUCCESS');
    const after = await rds.send(
      new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'nightly-1' }),
    );
    expect(after.DBSnapshots?.[0]).toMatchObject({ Status: 'available', PercentProgress: 100 });
  });

  it('writes RDS element names and ISO 8601 timestamps on the wire', async () => {
    const xml = await rawQuery(aws, {
      Action: 'DescribeDBSnapshots',
      DBSnapshotIdentifier: 'nightly-1',
    });
    expect(xml).toContain(
      '<DescribeDBSnapshotsResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBSnapshotsResult><DBSnapshots><DBSnapshot>',
    );
    expect(xml).toContain(
      '<TagList><Tag><Key>shipkit:managed-by</Key><Value>shipkit</Value></Tag>',
    );
    expect(/<SnapshotCreateTime>([^<]+)<\/SnapshotCreateTime>/.exec(xml)?.[1]).toMatch(ISO);
  });

  it('lists an instance’s snapshots by type, over pages of MaxRecords', async () => {
    const now = Date.now();
    for (let i = 0; i < 45; i++)
      aws.rds.addSnapshot({
        id: `old-${String(i).padStart(2, '0')}`,
        instance: 'shop-db',
        createdAt: new Date(now - (i + 1) * DAY),
        tags: i % 2 ? [{ Key: 'n', Value: String(i) }] : [],
      });
    aws.rds.addSnapshot({
      id: 'rds:shop-db-2026-01-01-03-00',
      instance: 'shop-db',
      createdAt: new Date(now - DAY),
      type: 'automated',
    });
    aws.rds.addSnapshot({ id: 'other-1', instance: 'other-db', createdAt: new Date(now) });

    const pages: DBSnapshot[][] = [];
    for await (const page of paginateDescribeDBSnapshots(
      { client: rds, pageSize: 20 },
      { DBInstanceIdentifier: 'shop-db', SnapshotType: 'manual' },
    ))
      pages.push(page.DBSnapshots ?? []);
    expect(pages.map((p) => p.length)).toEqual([20, 20, 6]);
    const ids = pages.flat().map((s) => s.DBSnapshotIdentifier);
    expect(new Set(ids).size).toBe(46);
    expect(ids).toContain('nightly-1');
    const old07 = pages.flat().find((s) => s.DBSnapshotIdentifier === 'old-07');
    expect(old07?.TagList).toEqual([{ Key: 'n', Value: '7' }]);
    expect(old07?.SnapshotCreateTime?.getTime()).toBe(now - 8 * DAY);
    expect(pages.flat().find((s) => s.DBSnapshotIdentifier === 'old-00')?.TagList).toEqual([]);

    const cases: [string, DescribeDBSnapshotsCommandInput, number][] = [
      ['automated only', { DBInstanceIdentifier: 'shop-db', SnapshotType: 'automated' }, 1],
      ['manual and automated without a type', { DBInstanceIdentifier: 'shop-db' }, 47],
      ['another instance', { DBInstanceIdentifier: 'other-db', SnapshotType: 'manual' }, 1],
      ['an instance that never existed', { DBInstanceIdentifier: 'ghost-db' }, 0],
      [
        'filters',
        {
          Filters: [
            { Name: 'db-instance-id', Values: ['shop-db'] },
            { Name: 'snapshot-type', Values: ['automated'] },
          ],
        },
        1,
      ],
    ];
    for (const [what, input, count] of cases) {
      const r = await rds.send(new DescribeDBSnapshotsCommand(input));
      expect({ what, count: r.DBSnapshots?.length }).toEqual({ what, count });
    }
  });

  it('adds, lists and removes tags on snapshots and instances by ARN', async () => {
    const cases = [
      'arn:aws:rds:us-east-1:000000000000:snapshot:nightly-1',
      'arn:aws:rds:us-east-1:000000000000:db:shop-db',
    ];
    for (const ResourceName of cases) {
      await rds.send(
        new AddTagsToResourceCommand({
          ResourceName,
          Tags: [
            { Key: 'owner', Value: 'ops' },
            { Key: 'tier', Value: 'gold' },
          ],
        }),
      );
      await rds.send(
        new AddTagsToResourceCommand({ ResourceName, Tags: [{ Key: 'tier', Value: 'silver' }] }),
      );
      await rds.send(new RemoveTagsFromResourceCommand({ ResourceName, TagKeys: ['owner'] }));
      const r = await rds.send(new ListTagsForResourceCommand({ ResourceName }));
      expect(r.TagList?.find((t) => t.Key === 'owner')).toBeUndefined();
      expect(r.TagList?.find((t) => t.Key === 'tier')).toEqual({ Key: 'tier', Value: 'silver' });
    }
  });

  it('deletes a manual DB snapshot and answers DBSnapshotNotFound afterwards', async () => {
    aws.rds.addSnapshot({ id: 'to-delete', instance: 'shop-db', createdAt: new Date() });
    const r = await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'to-delete' }));
    expect(r.DBSnapshot).toMatchObject({ DBSnapshotIdentifier: 'to-delete', Status: 'deleted' });
    await expect(
      rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'to-delete' })),
    ).rejects.toMatchObject({ name: 'DBSnapshotNotFoundFault' });
  });

  it('takes, waits for, lists and deletes DB cluster snapshots', async () => {
    const created = await rds.send(
      new CreateDBClusterSnapshotCommand({
        DBClusterSnapshotIdentifier: 'aurora-nightly',
        DBClusterIdentifier: 'aurora-1',
        Tags: [{ Key: 'shipkit:managed-by', Value: 'shipkit' }],
      }),
    );
    expect(created.DBClusterSnapshot).toMatchObject({
      DBClusterSnapshotIdentifier: 'aurora-nightly',
      DBClusterIdentifier: 'aurora-1',
      DBClusterSnapshotArn: 'arn:aws:rds:us-east-1:000000000000:cluster-snapshot:aurora-nightly',
      Status: 'creating',
      SnapshotType: 'manual',
      TagList: [{ Key: 'shipkit:managed-by', Value: 'shipkit' }],
    });
    expect(created.DBClusterSnapshot?.SnapshotCreateTime).toBeInstanceOf(Date);
    const waited = await waitUntilDBClusterSnapshotAvailable(
      { client: rds, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { DBClusterSnapshotIdentifier: 'aurora-nightly' },
    );
    expect(waited.state).toBe('SUCCESS');
    aws.rds.addSnapshot({
      id: 'aurora-old',
      cluster: 'aurora-1',
      createdAt: new Date(Date.now() - 90 * DAY),
      tags: [{ Key: 'shipkit:managed-by', Value: 'shipkit' }],
    });
    const listed = await rds.send(
      new DescribeDBClusterSnapshotsCommand({
        DBClusterIdentifier: 'aurora-1',
        SnapshotType: 'manual',
      }),
    );
    expect(
      listed.DBClusterSnapshots?.map((s) => [s.DBClusterSnapshotIdentifier, s.Status]),
    ).toEqual([
      ['aurora-nightly', 'available'],
      ['aurora-old', 'available'],
    ]);
    const deleted = await rds.send(
      new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: 'aurora-old' }),
    );
    expect(deleted.DBClusterSnapshot?.Status).toBe('deleted');
    const left = await rds.send(
      new DescribeDBClusterSnapshotsCommand({ DBClusterIdentifier: 'aurora-1' }),
    );
    expect(left.DBClusterSnapshots?.map((s) => s.DBClusterSnapshotIdentifier)).toEqual([
      'aurora-nightly',
    ]);
  });

  it('refuses to delete an instance without a final-snapshot decision, and takes the final snapshot', async () => {
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'short-lived',
        DBInstanceClass: 'db.t4g.micro',
        Engine: 'postgres',
      }),
    );
    await expect(
      rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'short-lived' })),
    ).rejects.toMatchObject({ name: 'InvalidParameterCombination' });
    const r = await rds.send(
      new DeleteDBInstanceCommand({
        DBInstanceIdentifier: 'short-lived',
        FinalDBSnapshotIdentifier: 'short-lived-final',
      }),
    );
    expect(r.DBInstance?.DBInstanceStatus).toBe('deleting');
    await expect(
      rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'short-lived' })),
    ).rejects.toMatchObject({
      name: 'DBInstanceNotFoundFault',
      $metadata: { httpStatusCode: 404 },
    });
    const final = await rds.send(
      new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'short-lived-final' }),
    );
    expect(final.DBSnapshots?.[0].DBInstanceIdentifier).toBe('short-lived');
  });

  const errors: [string, string, number, () => Promise<unknown>][] = [
    [
      'CreateDBSnapshot of an unknown instance',
      'DBInstanceNotFound',
      404,
      () =>
        rds.send(
          new CreateDBSnapshotCommand({
            DBSnapshotIdentifier: 's-x',
            DBInstanceIdentifier: 'ghost',
          }),
        ),
    ],
    [
      'CreateDBSnapshot with a taken identifier',
      'DBSnapshotAlreadyExists',
      400,
      () =>
        rds.send(
          new CreateDBSnapshotCommand({
            DBSnapshotIdentifier: 'NIGHTLY-1',
            DBInstanceIdentifier: 'shop-db',
          }),
        ),
    ],
    [
      'CreateDBSnapshot with an invalid identifier',
      'InvalidParameterValue',
      400,
      () =>
        rds.send(
          new CreateDBSnapshotCommand({
            DBSnapshotIdentifier: 'bad--name',
            DBInstanceIdentifier: 'shop-db',
          }),
        ),
    ],
    [
      'DescribeDBSnapshots of an unknown snapshot',
      'DBSnapshotNotFound',
      404,
      () => rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'ghost' })),
    ],
    [
      'DescribeDBSnapshots with MaxRecords below 20',
      'InvalidParameterValue',
      400,
      () => rds.send(new DescribeDBSnapshotsCommand({ MaxRecords: 5 })),
    ],
    [
      'DescribeDBSnapshots with an unknown SnapshotType',
      'InvalidParameterValue',
      400,
      () => rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'nightly' })),
    ],
    [
      'DescribeDBSnapshots with an unknown filter',
      'InvalidParameterValue',
      400,
      () =>
        rds.send(new DescribeDBSnapshotsCommand({ Filters: [{ Name: 'color', Values: ['x'] }] })),
    ],
    [
      'DeleteDBSnapshot of an unknown snapshot',
      'DBSnapshotNotFound',
      404,
      () => rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'ghost' })),
    ],
    [
      'DeleteDBSnapshot of an automated snapshot',
      'InvalidDBSnapshotState',
      400,
      () =>
        rds.send(
          new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'rds:shop-db-2026-01-01-03-00' }),
        ),
    ],
    [
      'CreateDBClusterSnapshot of an unknown cluster',
      'DBClusterNotFoundFault',
      404,
      () =>
        rds.send(
          new CreateDBClusterSnapshotCommand({
            DBClusterSnapshotIdentifier: 'c-x',
            DBClusterIdentifier: 'ghost',
          }),
        ),
    ],
    [
      'CreateDBClusterSnapshot with a taken identifier',
      'DBClusterSnapshotAlreadyExistsFault',
      400,
      () =>
        rds.send(
          new CreateDBClusterSnapshotCommand({
            DBClusterSnapshotIdentifier: 'aurora-nightly',
            DBClusterIdentifier: 'aurora-1',
          }),
        ),
    ],
    [
      'DescribeDBClusterSnapshots of an unknown snapshot',
      'DBClusterSnapshotNotFoundFault',
      404,
      () =>
        rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: 'ghost' })),
    ],
    [
      'DeleteDBClusterSnapshot of an unknown snapshot',
      'DBClusterSnapshotNotFoundFault',
      404,
      () => rds.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: 'ghost' })),
    ],
    [
      'DescribeDBClusters of an unknown cluster',
      'DBClusterNotFoundFault',
      404,
      () => rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'ghost' })),
    ],
    [
      'CreateDBInstance with an unknown engine',
      'InvalidParameterValue',
      400,
      () =>
        rds.send(
          new CreateDBInstanceCommand({
            DBInstanceIdentifier: 'x',
            DBInstanceClass: 'db.t4g.micro',
            Engine: 'cassandra',
          }),
        ),
    ],
    [
      'CreateDBInstance with a taken identifier',
      'DBInstanceAlreadyExists',
      400,
      () =>
        rds.send(
          new CreateDBInstanceCommand({
            DBInstanceIdentifier: 'shop-db',
            DBInstanceClass: 'db.t4g.micro',
            Engine: 'postgres',
          }),
        ),
    ],
    [
      'ListTagsForResource of an unknown snapshot',
      'DBSnapshotNotFound',
      404,
      () =>
        rds.send(
          new ListTagsForResourceCommand({
            ResourceName: 'arn:aws:rds:us-east-1:000000000000:snapshot:ghost',
          }),
        ),
    ],
    [
      'ListTagsForResource of something that is not an ARN',
      'InvalidParameterValue',
      400,
      () => rds.send(new ListTagsForResourceCommand({ ResourceName: 'shop-db' })),
    ],
  ];

  it.each(errors)('%s fails with %s (HTTP %d)', async (_what, code, status, call) => {
    const error = (await call().then(
      () => undefined,
      (e: unknown) => e,
    )) as { Code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
    expect(error?.Code).toBe(code);
    expect(error?.$metadata?.httpStatusCode).toBe(status);
  });
});

describe('local-aws RDS state', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rds-state-'));
  const stateFile = join(dir, 'state.json');
  let aws: LocalAws | undefined;
  let rds: RDSClient | undefined;

  afterAll(async () => {
    rds?.destroy();
    await aws?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps instances, clusters, snapshots, tags and a snapshot still creating across a restart', async () => {
    // At this scale a snapshot stays `creating` for hours of real time.
    aws = await startLocalAws({ timeScale: 0.001, stateFile });
    rds = client(aws);
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'kept-db',
        DBInstanceClass: 'db.t4g.micro',
        Engine: 'postgres',
      }),
    );
    await rds.send(
      new CreateDBClusterCommand({ DBClusterIdentifier: 'kept-cluster', Engine: 'aurora-mysql' }),
    );
    const created = await rds.send(
      new CreateDBSnapshotCommand({
        DBSnapshotIdentifier: 'slow-one',
        DBInstanceIdentifier: 'kept-db',
        Tags: [{ Key: 'k', Value: '2026-01-01T00:00:00Z' }],
      }),
    );
    await expect(
      rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'slow-one' })),
    ).rejects.toMatchObject({ Code: 'InvalidDBSnapshotState' });
    const seededAt = new Date(Date.now() - 3 * DAY);
    aws.rds.addSnapshot({ id: 'seeded', cluster: 'kept-cluster', createdAt: seededAt });
    rds.destroy();
    await aws.stop();

    aws = await startLocalAws({ timeScale: 0.001, stateFile });
    rds = client(aws);
    const instance = await rds.send(
      new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'kept-db' }),
    );
    expect(instance.DBInstances?.[0].Engine).toBe('postgres');
    const snap = await rds.send(
      new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'slow-one' }),
    );
    expect(snap.DBSnapshots?.[0]).toMatchObject({
      Status: 'creating',
      SnapshotCreateTime: created.DBSnapshot?.SnapshotCreateTime,
      TagList: [{ Key: 'k', Value: '2026-01-01T00:00:00Z' }],
    });
    const clusterSnap = await rds.send(
      new DescribeDBClusterSnapshotsCommand({ DBClusterIdentifier: 'kept-cluster' }),
    );
    expect(clusterSnap.DBClusterSnapshots?.[0]).toMatchObject({
      DBClusterSnapshotIdentifier: 'seeded',
      Engine: 'aurora-mysql',
      Status: 'available',
      SnapshotCreateTime: seededAt,
    });
  });
});
