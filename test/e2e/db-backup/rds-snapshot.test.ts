import {
  CreateDBInstanceCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { runAction } from '../../support/run-action';

interface RdsSeeding {
  rds: {
    addSnapshot(s: {
      id: string;
      instance?: string;
      cluster?: string;
      createdAt: Date;
      tags: { Key: string; Value: string }[];
    }): void;
  };
}

const DAY = 86_400_000;
const managed = (env: string): { Key: string; Value: string }[] => [
  { Key: 'shipkit:managed-by', Value: 'shipkit' },
  { Key: 'shipkit:environment', Value: env },
];

// Runs unconditionally: if local-aws stops answering an RDS operation, these tests fail.
describe('db-backup rds-snapshot against local-aws', () => {
  let lo: Awaited<ReturnType<typeof import('../../../packages/local-aws/src/index').startLocalAws>>;
  let env: Record<string, string>;
  let rds: RDSClient;

  beforeAll(async () => {
    const { startLocalAws } = await import('../../../packages/local-aws/src/index');
    lo = await startLocalAws({ port: 0, timeScale: 20 });
    env = {
      AWS_ENDPOINT_URL: lo.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      GITHUB_SHA: 'abcdef0123456789',
    };
    rds = new RDSClient({
      endpoint: lo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'shop-db',
        DBInstanceClass: 'db.t4g.micro',
        Engine: 'postgres',
      }),
    );
    const seed = (lo as unknown as Partial<RdsSeeding>).rds;
    if (typeof seed?.addSnapshot !== 'function')
      throw new Error(
        'local-aws answers RDS but has no rds.addSnapshot seeding hook (see the db-backup request)',
      );
    const now = Date.now();
    for (let i = 0; i < 10; i++)
      seed.addSnapshot({
        id: `shipkit-production-shop-db-old-${i}`,
        instance: 'shop-db',
        createdAt: new Date(now - (i * 7 + 1) * DAY),
        tags: managed('production'),
      });
    seed.addSnapshot({
      id: 'hand-made-2019',
      instance: 'shop-db',
      createdAt: new Date(now - 2000 * DAY),
      tags: [],
    });
    seed.addSnapshot({
      id: 'staging-copy',
      instance: 'shop-db',
      createdAt: new Date(now - 2000 * DAY),
      tags: managed('staging'),
    });
  });

  afterAll(async () => {
    rds?.destroy();
    await lo?.stop();
  });

  async function ids(): Promise<string[]> {
    const r = await rds.send(
      new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'shop-db', SnapshotType: 'manual' }),
    );
    return (r.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier ?? '').sort();
  }

  it('dry run reports the plan and changes nothing', async () => {
    const before = await ids();
    const run = await runAction('db-backup', {
      inputs: {
        mode: 'rds-snapshot',
        environment: 'production',
        'db-instance-identifier': 'shop-db',
        'keep-last': '3',
        'dry-run': 'true',
      },
      env,
    });
    expect(run.error).toBeUndefined();
    expect(await ids()).toEqual(before);
    expect(run.summary.match(/\| would delete \|/g)?.length).toBe(5);
  });

  it.each([
    [
      'db-instance-identifier',
      'no-such-db',
      /Input `db-instance-identifier`: DB instance `no-such-db` does not exist/,
    ],
    [
      'db-cluster-identifier',
      'no-such-cluster',
      /Input `db-cluster-identifier`: DB cluster `no-such-cluster` does not exist/,
    ],
  ])(
    'a dry run of a %s that does not exist fails naming the input',
    async (input, value, message) => {
      const run = await runAction('db-backup', {
        inputs: {
          mode: 'rds-snapshot',
          environment: 'production',
          [input]: value,
          'dry-run': 'true',
        },
        env,
      });
      expect(run.code).not.toBe(0);
      expect(run.error).toMatch(message);
    },
  );

  it('creates a tagged snapshot, waits for it, and deletes only old shipkit snapshots of this environment', async () => {
    const run = await runAction('db-backup', {
      inputs: {
        mode: 'rds-snapshot',
        environment: 'production',
        'db-instance-identifier': 'shop-db',
        'keep-last': '3',
      },
      env,
    });
    expect(run.error).toBeUndefined();
    expect(run.outputs['snapshot-id']).toMatch(/^shipkit-production-shop-db-\d{8}-\d{6}-abcdef0$/);
    // Ages 1, 8, 15, 22, 29 days stay (within 30); 36 … 64 go: 5 deleted.
    expect(run.outputs.deleted).toBe('5');
    const left = await ids();
    expect(left).toContain(run.outputs['snapshot-id']);
    expect(left).toContain('hand-made-2019');
    expect(left).toContain('staging-copy');
    expect(left.filter((id) => id.startsWith('shipkit-production-shop-db-old-'))).toHaveLength(5);
  });
});
