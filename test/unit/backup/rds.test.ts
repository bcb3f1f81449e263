import { runSnapshot, type RdsApi } from '../../../packages/backup/src/rds';
import type { Clock } from '../../../packages/kit/src/poll';
import { awsError, FakeClient } from './fakes';

const DAY = 86_400_000;
const now = new Date('2026-03-31T12:00:00Z').getTime();

function fakeClock(): Clock {
  let t = now;
  return { now: () => t, sleep: async (ms) => void (t += ms) };
}

const tags = (env: string, managed = true): { Key: string; Value: string }[] => [
  ...(managed ? [{ Key: 'shipkit:managed-by', Value: 'shipkit' }] : []),
  { Key: 'shipkit:environment', Value: env },
];

/** Existing manual snapshots of instance `shop`: shipkit's, another environment's and someone else's. */
function existing(): Record<string, unknown>[] {
  return [
    ...Array.from({ length: 12 }, (_, i) => ({
      DBSnapshotIdentifier: `shipkit-production-old-${i}`,
      DBSnapshotArn: `arn:aws:rds:us-east-1:1:snapshot:shipkit-production-old-${i}`,
      Status: 'available',
      SnapshotCreateTime: new Date(now - (i * 5 + 1) * DAY),
      TagList: tags('production'),
    })),
    {
      DBSnapshotIdentifier: 'hand-made',
      Status: 'available',
      SnapshotCreateTime: new Date(now - 400 * DAY),
      TagList: [],
    },
    {
      DBSnapshotIdentifier: 'staging-one',
      Status: 'available',
      SnapshotCreateTime: new Date(now - 400 * DAY),
      TagList: tags('staging'),
    },
    {
      DBSnapshotIdentifier: 'untagged-listing',
      DBSnapshotArn: 'arn:untagged',
      Status: 'available',
      SnapshotCreateTime: new Date(now - 400 * DAY),
    },
  ];
}

function fakeRds(
  statuses: string[],
  describeInstances: () => unknown = () => ({ DBInstances: [{ DBInstanceIdentifier: 'shop' }] }),
): FakeClient<RdsApi> {
  let created: Record<string, unknown> | undefined;
  return new FakeClient<RdsApi>({
    CreateDBSnapshotCommand: (input) => {
      created = {
        DBSnapshotIdentifier: input.DBSnapshotIdentifier,
        DBSnapshotArn: `arn:${input.DBSnapshotIdentifier}`,
        SnapshotCreateTime: new Date(now),
        TagList: input.Tags,
      };
      return { DBSnapshot: { ...created, Status: 'creating' } };
    },
    DescribeDBSnapshotsCommand: (input) => {
      if (input.DBSnapshotIdentifier)
        return { DBSnapshots: [{ ...created, Status: statuses.shift() ?? 'available' }] };
      const all = [...existing(), ...(created ? [{ ...created, Status: 'available' }] : [])];
      // Two pages, to follow the marker.
      return input.Marker
        ? { DBSnapshots: all.slice(8) }
        : { DBSnapshots: all.slice(0, 8), Marker: 'm2' };
    },
    ListTagsForResourceCommand: (input) => ({
      TagList: input.ResourceName === 'arn:untagged' ? tags('production', false) : [],
    }),
    DeleteDBSnapshotCommand: () => ({}),
    DescribeDBInstancesCommand: describeInstances,
  });
}

describe('runSnapshot', () => {
  it.each([
    ['does not exist', 'DBInstanceNotFoundFault', 404],
    ['cannot be read', 'AccessDenied', 403],
  ])(
    'a dry run whose DB instance %s (%s, HTTP %i) fails naming the input, or warns when it may not be read',
    async (_what, name, status) => {
      const rds = fakeRds([], () => {
        throw awsError(name, status);
      });
      const warnings: string[] = [];
      const run = runSnapshot({
        rds: rds.api,
        target: { instance: 'shop' },
        environment: 'production',
        keepDays: 30,
        keepLast: 3,
        dryRun: true,
        timeoutMs: 60_000,
        clock: fakeClock(),
        warn: (line) => warnings.push(line),
      });
      if (name === 'DBInstanceNotFoundFault') {
        await expect(run).rejects.toThrow(
          'Input `db-instance-identifier`: DB instance `shop` does not exist in this account and region',
        );
      } else {
        await expect(run).resolves.toMatchObject({ created: false });
        expect(warnings).toEqual([
          expect.stringContaining(
            'could not check that DB instance `shop` exists (AccessDenied: allow rds:DescribeDBInstances',
          ),
        ]);
      }
      expect(rds.names()).not.toContain('CreateDBSnapshotCommand');
    },
  );

  it('creates a tagged snapshot, waits for it, and deletes only old shipkit snapshots of this environment', async () => {
    const rds = fakeRds(['creating', 'creating', 'available']);
    const result = await runSnapshot({
      rds: rds.api,
      target: { instance: 'shop' },
      environment: 'production',
      sha: 'abcdef1234',
      keepDays: 30,
      keepLast: 3,
      dryRun: false,
      timeoutMs: 3_600_000,
      clock: fakeClock(),
    });
    expect(result.snapshotId).toBe('shipkit-production-shop-20260331-120000-abcdef1');
    const create = rds.sent.find((c) => c.name === 'CreateDBSnapshotCommand');
    expect(create?.input).toMatchObject({
      DBInstanceIdentifier: 'shop',
      Tags: expect.arrayContaining([
        { Key: 'shipkit:managed-by', Value: 'shipkit' },
        { Key: 'shipkit:environment', Value: 'production' },
      ]),
    });
    // Ages 1, 6, 11, …, 56 days: those past 30 days (31, 36, … 56) go; the new one and the rest stay.
    expect(result.deleted.sort()).toEqual(
      [6, 7, 8, 9, 10, 11].map((i) => `shipkit-production-old-${i}`).sort(),
    );
    const deletedIds = rds.sent
      .filter((c) => c.name === 'DeleteDBSnapshotCommand')
      .map((c) => c.input.DBSnapshotIdentifier);
    expect(deletedIds).not.toContain('hand-made');
    expect(deletedIds).not.toContain('staging-one');
    expect(deletedIds).not.toContain('untagged-listing');
    expect(
      rds.sent.filter((c) => c.name === 'DescribeDBSnapshotsCommand' && c.input.Marker === 'm2'),
    ).toHaveLength(1);
  });

  it('keeps keep-last snapshots whatever their age', async () => {
    const rds = fakeRds([]);
    const result = await runSnapshot({
      rds: rds.api,
      target: { instance: 'shop' },
      environment: 'production',
      keepDays: 1,
      keepLast: 13,
      dryRun: false,
      timeoutMs: 60_000,
      clock: fakeClock(),
    });
    expect(result.deleted).toEqual([]);
  });

  it('dry run creates and deletes nothing but reports the plan', async () => {
    const rds = fakeRds([]);
    const result = await runSnapshot({
      rds: rds.api,
      target: { instance: 'shop' },
      environment: 'production',
      keepDays: 30,
      keepLast: 3,
      dryRun: true,
      timeoutMs: 60_000,
      clock: fakeClock(),
    });
    expect(rds.names()).not.toContain('CreateDBSnapshotCommand');
    expect(rds.names()).not.toContain('DeleteDBSnapshotCommand');
    expect(result.decisions.filter((d) => d.action === 'delete')).toHaveLength(6);
    expect(result.decisions[0]).toMatchObject({ id: result.snapshotId, action: 'keep' });
  });

  it('fails when the snapshot fails instead of becoming available', async () => {
    const rds = fakeRds(['creating', 'failed']);
    await expect(
      runSnapshot({
        rds: rds.api,
        target: { instance: 'shop' },
        environment: 'production',
        keepDays: 30,
        keepLast: 3,
        dryRun: false,
        timeoutMs: 3_600_000,
        clock: fakeClock(),
      }),
    ).rejects.toThrow(/ended as `failed`/);
    expect(rds.names()).not.toContain('DeleteDBSnapshotCommand');
  });

  it('uses the cluster operations for a cluster', async () => {
    const rds = new FakeClient<RdsApi>({
      CreateDBClusterSnapshotCommand: (input) => ({
        DBClusterSnapshot: { DBClusterSnapshotIdentifier: input.DBClusterSnapshotIdentifier },
      }),
      DescribeDBClusterSnapshotsCommand: (input) =>
        input.DBClusterSnapshotIdentifier
          ? {
              DBClusterSnapshots: [
                {
                  DBClusterSnapshotIdentifier: input.DBClusterSnapshotIdentifier,
                  Status: 'available',
                },
              ],
            }
          : { DBClusterSnapshots: [] },
    });
    const result = await runSnapshot({
      rds: rds.api,
      target: { cluster: 'aurora' },
      environment: 'staging',
      keepDays: 30,
      keepLast: 3,
      dryRun: false,
      timeoutMs: 60_000,
      clock: fakeClock(),
    });
    expect(result.snapshotId).toMatch(/^shipkit-staging-aurora-/);
    expect(rds.names()).toEqual([
      'CreateDBClusterSnapshotCommand',
      'DescribeDBClusterSnapshotsCommand',
      'DescribeDBClusterSnapshotsCommand',
    ]);
  });
});
