import { runAction, type ActionRun } from '../../support/run-action';
import { rowCounts, seedDatabase, startPostgres, type TestPostgres } from '../../support/postgres';
import { startS3, type TestS3 } from '../../support/s3';

// Restores as a user chains them: from the `location` output of the backup step, and rehearsed
// with `dry-run` first.
const BUCKET = 'restore-backups';
const PREFIX = 'restore-trial/';
let pg: TestPostgres;
let s3: TestS3;
let backup: ActionRun;

function run(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction('db-backup', {
    inputs: {
      environment: 'production',
      bucket: BUCKET,
      's3-force-path-style': 'true',
      prefix: PREFIX,
      ...inputs,
    },
    env: { ...s3.env, GITHUB_REPOSITORY: 'acme/shop', GITHUB_SHA: 'b'.repeat(40) },
  });
}

beforeAll(async () => {
  [pg, s3] = await Promise.all([startPostgres(), startS3()]);
  pg.createDatabase('shop');
  seedDatabase(pg, 'shop', 1);
  await s3.createBucket(BUCKET);
  backup = await run({ 'database-url': pg.url('shop') });
  if (backup.error) throw new Error(backup.error);
}, 120_000);

afterAll(async () => {
  await Promise.all([pg?.stop(), s3?.stop()]);
});

describe('db-backup restore', () => {
  it('restores from the location output of the backup step', async () => {
    pg.createDatabase('from_location');
    const restore = await run({
      mode: 'restore',
      name: 'shop',
      'database-url': pg.url('from_location'),
      'backup-key': backup.outputs.location,
      'confirm-database': 'from_location',
    });
    expect(restore.error).toBeUndefined();
    expect(restore.outputs.key).toBe(backup.outputs.key);
    expect(rowCounts(pg, 'from_location')).toEqual(rowCounts(pg, 'shop'));
  });

  it.each(['custom', 'plain'])(
    'a %s restore over objects created since the backup names them, says nothing changed and what to do',
    async (format) => {
      const db = `grown_${format}`;
      pg.createDatabase(db);
      pg.sql(db, 'CREATE TABLE t (id int); INSERT INTO t VALUES (1);');
      const taken = await run({ format, name: db, 'database-url': pg.url(db) });
      expect(taken.error).toBeUndefined();
      pg.sql(db, 'INSERT INTO t VALUES (2); CREATE VIEW newer_view AS SELECT * FROM t;');
      const restore = await run({
        mode: 'restore',
        name: db,
        'database-url': pg.url(db),
        'backup-key': taken.outputs.key,
        'confirm-database': db,
      });
      expect(restore.error).toMatch(
        /cannot drop table public\.t because other objects depend on it.*\(view public\.newer_view depends on table public\.t\)\. Nothing was changed \(the restore is one transaction\): objects the backup does not hold .* drop them first, or restore into an empty database/,
      );
      expect(pg.sql(db, 'SELECT count(*) FROM t').trim()).toBe('2');
    },
  );

  it('latest does not choose between a newer schema-only backup and an older whole one: it names both and changes nothing', async () => {
    const db = 'two_kinds';
    pg.createDatabase(db);
    pg.sql(db, 'CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2);');
    const whole = await run({ name: db, 'database-url': pg.url(db) });
    const schemaOnly = await run({
      name: db,
      format: 'plain',
      'pg-dump-args': '--schema-only',
      'database-url': pg.url(db),
    });
    expect([whole.error, schemaOnly.error]).toEqual([undefined, undefined]);
    expect((await s3.head(BUCKET, schemaOnly.outputs.key))?.metadata['shipkit-partial']).toBe(
      'true',
    );
    expect((await s3.head(BUCKET, whole.outputs.key))?.metadata['shipkit-partial']).toBeUndefined();
    pg.sql(db, 'DELETE FROM t WHERE id = 2;');
    const restore = await run({
      mode: 'restore',
      name: db,
      'database-url': pg.url(db),
      'backup-key': 'latest',
      'confirm-database': db,
    });
    expect(restore.error).toContain(
      `does not choose between the newest backup, ${schemaOnly.outputs.key}, taken with pg-dump-args that select part of the database, and the newest backup of the whole database, ${whole.outputs.key} (older)`,
    );
    expect(pg.sql(db, 'SELECT count(*) FROM t').trim()).toBe('1');
  });

  it('latest without name says the folder is named after the target database, and to set name', async () => {
    pg.createDatabase('shop_copy');
    const restore = await run({
      mode: 'restore',
      'database-url': pg.url('shop_copy'),
      'backup-key': 'latest',
      'confirm-database': 'shop_copy',
    });
    expect(restore.error).toMatch(
      /^No database backup .* was found under s3:\/\/restore-backups\/restore-trial\/shop_copy\/\. Input `name` was not set, so the folder is named after the database restored into \(`shop_copy`\): set `name`/,
    );
    expect(rowCounts(pg, 'shop_copy')).toEqual({});
  });

  it('a dry run checks the target database as the restore would, and fails when it does not exist', async () => {
    const rehearsal = await run({
      mode: 'restore',
      name: 'shop',
      'dry-run': 'true',
      'database-url': pg.url('not_created_yet'),
      'backup-key': 'latest',
      'confirm-database': 'not_created_yet',
    });
    expect(rehearsal.code).not.toBe(0);
    expect(rehearsal.error).toMatch(/database "not_created_yet" does not exist/);
  });

  it('a dry run names the backup, the target server and the client, and restores nothing', async () => {
    pg.createDatabase('rehearsed');
    const rehearsal = await run({
      mode: 'restore',
      name: 'shop',
      'dry-run': 'true',
      'database-url': pg.url('rehearsed'),
      'backup-key': 'latest',
      'confirm-database': 'rehearsed',
    });
    expect(rehearsal.error).toBeUndefined();
    expect(rehearsal.outputs.key).toBe(backup.outputs.key);
    expect(rehearsal.summary).toContain('dry run: would restore');
    expect(rehearsal.summary).toMatch(
      /\*\*Target\*\* \| postgres@127\.0\.0\.1:\d+\/rehearsed \(PostgreSQL \d+/,
    );
    expect(rehearsal.summary).toMatch(/\*\*Client\*\* \| pg_restore \d+/);
    expect(rowCounts(pg, 'rehearsed')).toEqual({});
  });
});
