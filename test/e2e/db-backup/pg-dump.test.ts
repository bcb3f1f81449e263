import { spawnSync, type ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { startHoldProxy } from './hold-proxy';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { streamBackup } from '../../../packages/backup/src/backup';
import { parseDatabaseUrl } from '../../../packages/backup/src/connection';
import { runAction, type ActionRun } from '../../support/run-action';
import { rowCounts, seedDatabase, startPostgres, type TestPostgres } from '../../support/postgres';
import { startS3, startS3Proxy, type TestS3 } from '../../support/s3';

const BUCKET = 'backups';
const SHA = '0123456789abcdef0123456789abcdef01234567';
let pg: TestPostgres;
let s3: TestS3;

beforeAll(async () => {
  [pg, s3] = await Promise.all([startPostgres(), startS3()]);
  pg.createDatabase('app');
  seedDatabase(pg, 'app', 24);
  await s3.createBucket(BUCKET);
}, 120_000);

afterAll(async () => {
  await Promise.all([pg?.stop(), s3?.stop()]);
});

function backup(
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  opts: Parameters<typeof runAction>[1] = {},
): Promise<ActionRun> {
  return runAction('db-backup', {
    ...opts,
    inputs: {
      environment: 'production',
      bucket: BUCKET,
      's3-force-path-style': 'true',
      'database-url': pg.url('app'),
      ...inputs,
    },
    env: { ...s3.env, GITHUB_REPOSITORY: 'acme/shop', GITHUB_SHA: SHA, ...env },
  });
}

/** Nothing the action printed or wrote contains the password or the URL. */
function expectNoSecrets(run: ActionRun, ...urls: string[]): void {
  const unmasked = (run.stdout + run.stderr + run.summary).replace(/^::add-mask::.*$/gm, '');
  expect(unmasked).not.toContain(pg.password);
  for (const url of urls) expect(unmasked).not.toContain(url);
}

function sample(db: string): string {
  return pg.sql(
    db,
    'SELECT id, email FROM customers WHERE id IN (1, 777, 4242) ORDER BY id; SELECT id, total, note, items FROM orders WHERE id % 9973 = 0 ORDER BY id;',
  );
}

describe('db-backup pg-dump', () => {
  it.each(['pg_dump', 'parallel'] as const)(
    'a plain dump gzipped by %s is one gzip stream holding the whole SQL',
    async (plainGzip) => {
      const key = `plain-by-${plainGzip}/app.sql.gz`;
      const result = await streamBackup({
        s3: s3.client,
        bucket: BUCKET,
        key,
        source: {
          type: 'pg-dump',
          conn: parseDatabaseUrl(pg.url('app')),
          client: { bindir: pg.bindir, major: 15, version: '15' },
          format: 'plain',
          extraArgs: [],
          plainGzip,
        },
        compressionLevel: 6,
        metadata: {},
        sse: 'AES256',
      });
      const body = await s3.get(BUCKET, key);
      expect(body.length).toBe(result.bytes);
      expect(createHash('sha256').update(body).digest('hex')).toBe(result.sha256);
      const sql = gunzipSync(body).toString('utf8');
      expect(sql).toContain('COPY public.orders');
      expect(sql.slice(-300)).toContain('-- PostgreSQL database dump complete');
      // What pg_dump wrote: compressed bytes when it gzipped them, the SQL otherwise.
      expect(result.rawBytes).toBe(plainGzip === 'pg_dump' ? body.length : Buffer.byteLength(sql));
    },
  );

  it('streams a custom-format dump to S3 with its checksum, verifies it by restoring, and restore brings it back', async () => {
    pg.createDatabase('verify_scratch');
    const run = await backup({
      verify: 'restore',
      'verify-database-url': pg.url('verify_scratch'),
    });
    expect(run.error).toBeUndefined();
    expect(run.code).toBe(0);
    const key = run.outputs.key;
    expect(key).toMatch(
      /^acme\/shop\/production\/app\/\d{4}\/\d{2}\/\d{2}\/app-\d{8}T\d{6}Z-0123456\.dump$/,
    );
    expect(run.outputs.location).toBe(`s3://${BUCKET}/${key}`);
    const body = await s3.get(BUCKET, key);
    const sha = createHash('sha256').update(body).digest('hex');
    expect(run.outputs.sha256).toBe(sha);
    expect(run.outputs.bytes).toBe(String(body.length));
    expect((await s3.head(BUCKET, key))?.metadata.sha256).toBe(sha);
    expect(body.subarray(0, 5).toString()).toBe('PGDMP');
    expect(run.summary).toContain('Row counts');
    expect(run.summary).toMatch(/public\.orders \| \d+ \| \d+ \| ✓/);
    expectNoSecrets(run, pg.url('app'), pg.url('verify_scratch'));

    pg.createDatabase('restored');
    const restore = await backup({
      mode: 'restore',
      'database-url': pg.url('restored'),
      'backup-key': key,
      'confirm-database': 'restored',
      name: 'app',
    });
    expect(restore.error).toBeUndefined();
    expect(restore.outputs.sha256).toBe(sha);
    expect(rowCounts(pg, 'restored')).toEqual(rowCounts(pg, 'app'));
    expect(sample('restored')).toEqual(sample('app'));
    expectNoSecrets(restore, pg.url('restored'));
  });

  it('writes a plain SQL dump as .sql.gz, and `latest` restores the newest backup', async () => {
    const run = await backup({ format: 'plain', prefix: 'plain-test' });
    expect(run.error).toBeUndefined();
    expect(run.outputs.key).toMatch(/^plain-test\/app\/.*\.sql\.gz$/);
    expect(run.summary).toContain('end-of-dump marker');
    pg.createDatabase('restored_plain');
    const restore = await backup({
      mode: 'restore',
      prefix: 'plain-test',
      name: 'app',
      'database-url': pg.url('restored_plain'),
      'backup-key': 'latest',
      'confirm-database': 'restored_plain',
    });
    expect(restore.error).toBeUndefined();
    expect(restore.outputs.key).toBe(run.outputs.key);
    expect(rowCounts(pg, 'restored_plain')).toEqual(rowCounts(pg, 'app'));
  });

  it('a plain backup restores over the database it was taken from, and verify: restore reuses a scratch database that holds it', async () => {
    pg.createDatabase('plain_over');
    seedDatabase(pg, 'plain_over', 2);
    pg.createDatabase('plain_scratch');
    const before = rowCounts(pg, 'plain_over');
    const first = await backup({
      format: 'plain',
      prefix: 'plain-over',
      'database-url': pg.url('plain_over'),
      verify: 'restore',
      'verify-database-url': pg.url('plain_scratch'),
    });
    expect(first.error).toBeUndefined();
    expect(rowCounts(pg, 'plain_scratch')).toEqual(before);
    // The scratch database now holds every object of the dump: the next verification restores over it.
    const second = await backup({
      format: 'plain',
      prefix: 'plain-over',
      'database-url': pg.url('plain_over'),
      verify: 'restore',
      'verify-database-url': pg.url('plain_scratch'),
    });
    expect(second.error).toBeUndefined();
    expect(second.summary).toMatch(/public\.orders \| \d+ \| \d+ \| ✓/);

    pg.sql(
      'plain_over',
      'DELETE FROM public.orders WHERE id % 2 = 0; DELETE FROM billing.invoices;',
    );
    expect(rowCounts(pg, 'plain_over')).not.toEqual(before);
    const restore = await backup({
      mode: 'restore',
      prefix: 'plain-over',
      name: 'plain_over',
      'database-url': pg.url('plain_over'),
      'backup-key': second.outputs.key,
      'confirm-database': 'plain_over',
    });
    expect(restore.error).toBeUndefined();
    expect(rowCounts(pg, 'plain_over')).toEqual(before);
  });

  it.each([
    ['without the confirmation', {}, /`confirm-database` is required/],
    [
      'when the confirmation names another database',
      { 'confirm-database': 'app' },
      /`confirm-database` must equal the name of the database being restored into/,
    ],
  ])('restore refuses %s', async (_name, extra, message) => {
    const run = await backup({
      mode: 'restore',
      'database-url': pg.url('postgres'),
      'backup-key': 'latest',
      ...extra,
    });
    expect(run.code).not.toBe(0);
    expect(run.error).toMatch(message);
  });

  it("restore refuses another environment's backup unless allow-other-prefix says so", async () => {
    const key = 'acme/shop/production/app/2026/01/01/app-20260101T000000Z-0123456.dump';
    pg.createDatabase('staging_app');
    pg.sql('staging_app', 'CREATE TABLE marker (id int); INSERT INTO marker VALUES (1);');
    const run = await backup({
      mode: 'restore',
      environment: 'staging',
      name: 'app',
      'database-url': pg.url('staging_app'),
      'backup-key': key,
      'confirm-database': 'staging_app',
    });
    expect(run.error).toMatch(
      /^Invalid configuration: Input `backup-key` is outside this run's prefix `acme\/shop\/staging\/`.*`allow-other-prefix: true`/,
    );
    expect(pg.sql('staging_app', 'SELECT count(*) FROM marker').trim()).toBe('1');
  });

  it('restore refuses a backup whose checksum does not match, before touching the database', async () => {
    const key = 'tampered/app/2026/01/01/app-20260101T000000Z-0123456.dump';
    await s3.put(BUCKET, key, Buffer.from('PGDMP not really an archive'), {
      sha256: 'a'.repeat(64),
    });
    pg.createDatabase('untouched');
    pg.sql('untouched', 'CREATE TABLE marker (id int); INSERT INTO marker VALUES (1);');
    const run = await backup({
      mode: 'restore',
      prefix: 'tampered',
      name: 'app',
      'database-url': pg.url('untouched'),
      'backup-key': key,
      'confirm-database': 'untouched',
    });
    expect(run.error).toMatch(/Checksum mismatch/);
    expect(pg.sql('untouched', 'SELECT count(*) FROM marker').trim()).toBe('1');
  });

  it.each([
    [
      'a wrong password',
      () => pg.url('app').replace(encodeURIComponent(pg.password), 'wrong-password'),
      /password authentication failed/,
    ],
    [
      'an unreachable host',
      () => `postgresql://postgres:${pg.password}@127.0.0.1:1/app`,
      /Connecting to PostgreSQL for postgres@127\.0\.0\.1:1\/app failed: .*(refused|could not connect)/i,
    ],
    ['a missing database', () => pg.url('nope'), /database "nope" does not exist/],
  ])('fails clearly with %s and writes nothing', async (_name, url, message) => {
    const prefix = `bad-conn-${Math.random().toString(36).slice(2)}`;
    const run = await backup({ 'database-url': url(), prefix });
    expect(run.code).not.toBe(0);
    expect(run.error).toMatch(message);
    expect(await s3.list(BUCKET, prefix)).toEqual([]);
    expectNoSecrets(run, url());
  });

  it('a pg_dump that fails leaves nothing, and no output names a backup', async () => {
    const prefix = 'pg-dump-fails/';
    const run = await backup({ prefix, 'pg-dump-args': '--strict-names -t no_such_table' });
    expect(run.error).toMatch(
      /^Backup failed: pg_dump exited with code 1: pg_dump: error: no matching tables were found for pattern "no_such_table"\. Nothing was left/,
    );
    expect(await s3.list(BUCKET, prefix)).toEqual([]);
    expect(run.outputs).toMatchObject({ key: '', location: '' });
    expect(run.outputs.bytes ?? '').toBe('');
  });

  it.each(['custom', 'plain'])(
    'backs up a database smaller than one upload part (%s format)',
    async (format) => {
      pg.createDatabase(`tiny_${format}`);
      pg.sql(`tiny_${format}`, 'CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2), (3);');
      const run = await backup({
        format,
        prefix: `tiny-${format}/`,
        'database-url': pg.url(`tiny_${format}`),
      });
      expect(run.error).toBeUndefined();
      expect(Number(run.outputs.bytes)).toBeGreaterThan(0);
      expect(Number(run.outputs.bytes)).toBeLessThan(1024 * 1024);
      const head = await s3.head(BUCKET, run.outputs.key);
      expect(head?.metadata.sha256).toBe(run.outputs.sha256);
    },
  );

  it('fails clearly when the bucket does not exist, and stops the pg_dump it had started', async () => {
    const run = await backup({ bucket: 'no-such-bucket' });
    expect(run.error).toMatch(/Bucket `no-such-bucket` does not exist/);
    // pg_dump starts while the bucket is checked; it is stopped quietly and leaves no session.
    expect(run.stdout).not.toMatch(/pg_dump: .*terminated/);
    const sessions = pg.sql(
      'postgres',
      "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump'",
    );
    expect(sessions.trim()).toBe('0');
  });

  it('never lets databases with similar names share a folder: `shop data` needs its own `name`', async () => {
    const prefix = 'similar-names/';
    pg.createDatabase('shop-data');
    pg.sql('shop-data', 'CREATE TABLE t (id int); INSERT INTO t VALUES (1);');
    pg.createDatabase('shop data');
    pg.sql('shop data', 'CREATE TABLE t (id int); INSERT INTO t VALUES (2);');
    const first = await backup({ prefix, 'keep-last': '1', 'database-url': pg.url('shop-data') });
    expect(first.error).toBeUndefined();
    const second = await backup({
      prefix,
      'keep-last': '1',
      'database-url': pg.url('shop%20data'),
    });
    expect(second.error).toMatch(
      /^Invalid configuration: The database name `shop data` \(from input `database-url`\) is not usable as a folder name as is/,
    );
    expect((await s3.list(BUCKET, prefix)).map((o) => o.key)).toEqual([first.outputs.key]);
  });

  it('fails when pg_dump is killed mid-stream and leaves nothing that looks finished', async () => {
    // Part uploads are held, so the dump is paused mid-stream with a multipart upload open
    // (uncompressed, the dump is larger than the parts the upload holds in memory).
    const proxy = await startS3Proxy(s3.endpoint, { holdParts: true });
    try {
      const prefix = 'killed';
      let actionPid = 0;
      const running = backup(
        { prefix, 'compression-level': '0' },
        { AWS_ENDPOINT_URL_S3: proxy.endpoint },
        { onStart: (child) => (actionPid = child.pid ?? 0) },
      );
      let killed = false;
      for (let i = 0; i < 1200 && !killed; i++) {
        await new Promise((ok) => setTimeout(ok, 25));
        if (proxy.heldRequests() === 0) continue;
        const found = spawnSync('pgrep', ['-P', String(actionPid), '-x', 'pg_dump'], {
          encoding: 'utf8',
        }).stdout.trim();
        if (found) {
          process.kill(Number(found.split('\n')[0]), 'SIGKILL');
          killed = true;
        }
      }
      proxy.release();
      const run = await running;
      expect(killed).toBe(true);
      expect(run.code).not.toBe(0);
      expect(run.error).toMatch(/^Backup failed: pg_dump was killed by SIGKILL\./);
      // s3rver cannot abort multipart uploads: the action says so; no object appears either way.
      expect(run.error).toMatch(/Nothing was left at s3:\/\/.*could not abort multipart upload/);
      expect(await s3.list(BUCKET, prefix)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('fails when S3 fails mid-upload and leaves nothing that looks finished', async () => {
    const proxy = await startS3Proxy(s3.endpoint, { failAfterBytes: 4 * 1024 * 1024 });
    try {
      const prefix = 's3-fails';
      const run = await backup({ prefix }, { AWS_ENDPOINT_URL_S3: proxy.endpoint });
      expect(proxy.forwardedBytes()).toBeGreaterThanOrEqual(4 * 1024 * 1024);
      expect(run.code).not.toBe(0);
      expect(run.error).toMatch(/the upload to S3 failed: .*InternalError/);
      expect(run.error).toMatch(/multipart upload/);
      expect(await s3.list(BUCKET, prefix)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });
});

describe('db-backup with text planted in database and table names', () => {
  // PostgreSQL identifiers may hold line breaks, runner command syntax and HTML.
  const planted = 'x\n::warning::planted\n<img src=x>';
  const table = 't\n::error::table';

  it('logs them on one line with no runner command, and escapes them in the summary', async () => {
    pg.createDatabase(planted);
    // psql reads a -d value holding `=` as connection parameters.
    pg.sql(
      `dbname='${planted}'`,
      `CREATE TABLE "${table}" (id int); INSERT INTO "${table}" VALUES (1), (2);`,
    );
    pg.createDatabase('planted_scratch');
    const url = pg.url(encodeURIComponent(planted));
    const run = await backup({
      name: 'planted',
      prefix: 'planted/',
      'database-url': url,
      verify: 'restore',
      'verify-database-url': pg.url('planted_scratch'),
    });
    expect(run.error).toBeUndefined();
    // Not one line the runner would read as a command, besides the action's own.
    const commands = run.stdout.split('\n').filter((l) => /^\s*::/.test(l));
    expect(commands.filter((l) => !/^::(add-mask|debug|group|endgroup)::/.test(l))).toEqual([]);
    expect(run.stdout).toMatch(
      /^Connected to postgres@127\.0\.0\.1:\d+\/x ⏎ ::warning::planted ⏎ <img src=x>: PostgreSQL/m,
    );
    expect(run.stdout).toMatch(/^✓ public\.t ⏎ ::error::table: source 2, restored 2$/m);
    expect(run.summary).not.toContain('<img');
    expect(run.summary).not.toMatch(/^::/m);
    expect(run.summary).toContain('x ⏎ ::warning::planted ⏎ &lt;img src=x&gt;');
  });
});

describe('db-backup killed or cancelled between the upload and the checksum', () => {
  /** The server-side copy that puts the backup under its key with its checksum. */
  const isCopy = (req: IncomingMessage): boolean =>
    req.method === 'PUT' && req.headers['x-amz-copy-source'] !== undefined;

  it('a SIGKILL while the checksum copy is in flight leaves no object under a backup key', async () => {
    const proxy = await startHoldProxy(s3.endpoint, isCopy);
    try {
      const prefix = 'killed-at-copy';
      let child: ChildProcess | undefined;
      const running = backup(
        { prefix },
        { AWS_ENDPOINT_URL_S3: proxy.endpoint },
        { onStart: (c) => (child = c) },
      );
      await proxy.firstHeld;
      child?.kill('SIGKILL');
      const run = await running;
      expect(run.code).toBeNull();
      const left = await s3.list(BUCKET, prefix);
      // Only the temporary object: no key restore or retention would take for a backup.
      expect(left.map((o) => o.key)).toEqual([expect.stringMatching(/\.dump\.incomplete$/)]);
      for (const o of left) expect((await s3.head(BUCKET, o.key))?.metadata.sha256).toBeUndefined();
    } finally {
      await proxy.stop();
    }
  });

  it('a SIGTERM while the checksum copy is in flight says cancelled and leaves nothing', async () => {
    const proxy = await startHoldProxy(s3.endpoint, isCopy);
    try {
      const prefix = 'cancelled-at-copy';
      let child: ChildProcess | undefined;
      let signalled: () => void = () => undefined;
      const sawSignal = new Promise<void>((ok) => (signalled = ok));
      const running = backup(
        { prefix },
        { AWS_ENDPOINT_URL_S3: proxy.endpoint },
        {
          onStart: (c) => {
            child = c;
            c.stdout?.on('data', (d: Buffer) => {
              if (d.toString().includes('Received SIGTERM')) signalled();
            });
          },
        },
      );
      await proxy.firstHeld;
      child?.kill('SIGTERM');
      await sawSignal;
      proxy.release();
      const run = await running;
      expect(run.code).toBe(1);
      expect(run.error).toMatch(
        /^Cancelled: the workflow was cancelled \(SIGTERM\)\. Nothing was left/,
      );
      expect(run.error).not.toMatch(/Request aborted/);
      expect(await s3.list(BUCKET, prefix)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });
});
