import { runAction, type ActionRun } from '../../support/run-action';
import { rowCounts, seedDatabase, startPostgres, type TestPostgres } from '../../support/postgres';
import { startS3, type TestS3 } from '../../support/s3';

// `verify: restore` into a scratch database that earlier verifications (or anything else) left
// objects in, and with pg-dump-args that leave data or tables out of the dump.
const BUCKET = 'verify-backups';
let pg: TestPostgres;
let s3: TestS3;

beforeAll(async () => {
  [pg, s3] = await Promise.all([startPostgres(), startS3()]);
  pg.createDatabase('shop');
  seedDatabase(pg, 'shop', 1);
  await s3.createBucket(BUCKET);
}, 120_000);

afterAll(async () => {
  await Promise.all([pg?.stop(), s3?.stop()]);
});

function verifyRestore(
  db: string,
  scratch: string,
  inputs: Record<string, string> = {},
): Promise<ActionRun> {
  return runAction('db-backup', {
    inputs: {
      environment: 'production',
      bucket: BUCKET,
      's3-force-path-style': 'true',
      prefix: `verify-${scratch}/`,
      'database-url': pg.url(db),
      verify: 'restore',
      'verify-database-url': pg.url(scratch),
      ...inputs,
    },
    env: { ...s3.env, GITHUB_REPOSITORY: 'acme/shop', GITHUB_SHA: 'a'.repeat(40) },
  });
}

/** Tables of a database, `schema.table`, sorted. */
function tables(db: string): string[] {
  return Object.keys(rowCounts(pg, db)).sort();
}

describe('db-backup verify: restore', () => {
  it('passes after a migration dropped a table: the scratch database is emptied before each restore', async () => {
    pg.createDatabase('migrated');
    pg.sql(
      'migrated',
      'CREATE TABLE kept (id int); INSERT INTO kept VALUES (1); CREATE TABLE legacy (id int); INSERT INTO legacy VALUES (1), (2); CREATE SCHEMA old; CREATE TABLE old.t (id int);',
    );
    pg.createDatabase('migrated_scratch');
    const first = await verifyRestore('migrated', 'migrated_scratch');
    expect(first.error).toBeUndefined();
    expect(tables('migrated_scratch')).toEqual(['old.t', 'public.kept', 'public.legacy']);

    pg.sql('migrated', 'DROP TABLE legacy; DROP SCHEMA old CASCADE;');
    const second = await verifyRestore('migrated', 'migrated_scratch');
    expect(second.error).toBeUndefined();
    expect(second.code).toBe(0);
    expect(tables('migrated_scratch')).toEqual(['public.kept']);
    expect(second.summary).toMatch(/public\.kept \| 1 \| 1 \| ✓/);
    expect(second.summary).not.toContain('legacy');
  });

  it('refuses a verify database that is the source reached through another host name, and changes nothing', async () => {
    pg.createDatabase('precious');
    pg.sql(
      'precious',
      'CREATE TABLE kept (id int); INSERT INTO kept VALUES (1); CREATE SCHEMA billing; CREATE TABLE billing.t (id int);',
    );
    const prefix = 'verify-precious/';
    const run = await verifyRestore('precious', 'precious', {
      prefix,
      'pg-dump-args': '-n billing',
      'verify-database-url': pg.url('precious').replace('@127.0.0.1:', '@localhost:'),
    });
    expect(run.code).not.toBe(0);
    expect(run.error).toMatch(
      /^The verify database postgres@localhost:\d+\/precious is the database being backed up \(postgres@127\.0\.0\.1:\d+\/precious\), reached another way/,
    );
    expect(rowCounts(pg, 'precious')).toEqual({ 'billing.t': 0, 'public.kept': 1 });
    expect(await s3.list(BUCKET, prefix)).toEqual([]);
  });

  it('replaces whatever the scratch database held, large objects included', async () => {
    pg.createDatabase('cluttered_scratch');
    pg.sql(
      'cluttered_scratch',
      "CREATE SCHEMA stray; CREATE TABLE stray.t (id int); CREATE TABLE public.junk (id int); INSERT INTO public.junk VALUES (1); SELECT lo_from_bytea(0, 'x');" +
        ' CREATE TABLE ident (id int GENERATED ALWAYS AS IDENTITY, n serial); CREATE VIEW v AS SELECT * FROM ident;' +
        ' CREATE SEQUENCE free_seq; CREATE TABLE parted (k int) PARTITION BY RANGE (k); CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10);' +
        ' CREATE TABLE orders (id int, legacy_column text);',
    );
    const run = await verifyRestore('shop', 'cluttered_scratch');
    expect(run.error).toBeUndefined();
    expect(rowCounts(pg, 'cluttered_scratch')).toEqual(rowCounts(pg, 'shop'));
    expect(
      pg
        .sql(
          'cluttered_scratch',
          "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname IN ('v', 'free_seq', 'ident_n_seq')",
        )
        .trim(),
    ).toBe('0');
    expect(pg.sql('cluttered_scratch', 'SELECT count(*) FROM pg_largeobject_metadata').trim()).toBe(
      '0',
    );
  });

  it('empties a scratch database whose public schema another role owns (as on RDS before PostgreSQL 15)', async () => {
    pg.sql('postgres', "CREATE ROLE verifier LOGIN PASSWORD 'verifier-pw'");
    pg.createDatabase('owned_scratch');
    pg.sql(
      'owned_scratch',
      'ALTER DATABASE owned_scratch OWNER TO verifier; ALTER SCHEMA public OWNER TO postgres; GRANT USAGE, CREATE ON SCHEMA public TO verifier; SET ROLE verifier; CREATE TABLE public.stale (id int); CREATE SCHEMA mine;',
    );
    const run = await verifyRestore('shop', 'owned_scratch', {
      'verify-database-url': `postgresql://verifier:verifier-pw@${pg.host}:${pg.port}/owned_scratch`,
    });
    expect(run.error).toBeUndefined();
    expect(rowCounts(pg, 'owned_scratch')).toEqual(rowCounts(pg, 'shop'));
    expect(
      pg
        .sql('owned_scratch', "SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'public'")
        .trim(),
    ).toBe('postgres');
  });

  it('a verification that fails removes the backup and clears every output that named it', async () => {
    pg.sql('postgres', "CREATE ROLE outsider LOGIN PASSWORD 'outsider-pw'");
    pg.createDatabase('foreign_scratch');
    pg.sql(
      'foreign_scratch',
      'ALTER DATABASE foreign_scratch OWNER TO outsider; CREATE SCHEMA not_theirs;',
    );
    const prefix = 'verify-fails/';
    const run = await verifyRestore('shop', 'foreign_scratch', {
      prefix,
      'verify-database-url': `postgresql://outsider:outsider-pw@${pg.host}:${pg.port}/foreign_scratch`,
    });
    expect(run.error).toMatch(
      /^Emptying the database for outsider@.* failed: ERROR: +must be owner of schema not_theirs/,
    );
    expect(await s3.list(BUCKET, prefix)).toEqual([]);
    expect(run.outputs).toMatchObject({ key: '', location: '', bytes: '', sha256: '' });
    expect(run.summary).toMatch(
      /\*\*Location\*\* \| s3:\/\/.* \(removed: its verification failed\) \|/,
    );
  });

  it('an empty database verifies, and the summary says there was nothing to count instead of an empty table', async () => {
    pg.createDatabase('nothing_yet');
    pg.createDatabase('nothing_scratch');
    const run = await verifyRestore('nothing_yet', 'nothing_scratch');
    expect(run.error).toBeUndefined();
    expect(run.summary).toContain(
      '#### Row counts\n\nThe restored database holds no tables, like the source: nothing to count.',
    );
    expect(run.summary).not.toContain('| Table | Source | Restored |');
  });

  it('a dump of one schema (-n) verifies into a scratch database that held the whole database', async () => {
    pg.createDatabase('schema_scratch');
    const whole = await verifyRestore('shop', 'schema_scratch');
    expect(whole.error).toBeUndefined();
    const run = await verifyRestore('shop', 'schema_scratch', { 'pg-dump-args': '-n billing' });
    expect(run.error).toBeUndefined();
    expect(tables('schema_scratch')).toEqual(['billing.invoices']);
    expect(run.summary).toMatch(/billing\.invoices \| 1000 \| 1000 \| ✓/);
  });

  it.each([
    ['--exclude-table-data=events', ['public.events']],
    ['--schema-only', ['billing.invoices', 'public.customers', 'public.events', 'public.orders']],
  ])(
    'a dump taken with %s verifies: tables whose data was left out are restored empty and said so',
    async (args, withoutData) => {
      const scratch = `scratch_${args.replace(/\W+/g, '_')}`;
      pg.createDatabase(scratch);
      const run = await verifyRestore('shop', scratch, { 'pg-dump-args': args });
      expect(run.error).toBeUndefined();
      expect(run.code).toBe(0);
      expect(tables(scratch)).toEqual(tables('shop'));
      const source = rowCounts(pg, 'shop');
      for (const table of withoutData) {
        expect(run.summary).toContain(
          `| ${table.replace(/_/g, '\\_')} | ${source[table]} | 0 | ✓ data left out by pg-dump-args |`,
        );
      }
      if (args.startsWith('--exclude'))
        expect(run.summary).toMatch(/public\.orders \| \d+ \| \d+ \| ✓ \|/);
    },
  );
});
