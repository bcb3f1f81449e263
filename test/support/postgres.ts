import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway PostgreSQL cluster started for a test suite. */
export interface TestPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Directory holding the PostgreSQL binaries used. */
  bindir: string;
  /** Major version of the server. */
  major: number;
  /** A `postgresql://` URL (with the password) for database `db`. */
  url(db?: string): string;
  /** Runs SQL with psql against `db`; returns stdout (unaligned, tuples only). Throws on error. */
  sql(db: string, sql: string): string;
  /** Creates an empty database. */
  createDatabase(db: string): void;
  /** Operating-system pid of the server process. */
  pid(): number | undefined;
  stop(): Promise<void>;
}

/** Finds the directory of the PostgreSQL server binaries (`pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin). */
export function findPostgresBindir(): string {
  const candidates: string[] = [];
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (fromConfig.status === 0) candidates.push(fromConfig.stdout.trim());
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    for (const v of readdirSync(debian).sort((a, b) => Number(b) - Number(a))) {
      candidates.push(join(debian, v, 'bin'));
    }
  }
  const found = candidates.find(
    (dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')),
  );
  if (!found) throw new Error('PostgreSQL server binaries (initdb, postgres) were not found');
  return found;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

/** The `postgres` account a cluster runs as when we are root (PostgreSQL refuses root). */
export function postgresAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('running as root needs a `postgres` user to run the test cluster as');
  }
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

/**
 * Starts a PostgreSQL cluster in a temporary directory (initdb, then `postgres` on a free port
 * on 127.0.0.1, password authentication over TCP). When running as root the cluster runs as
 * the `postgres` user. Call `stop()` in afterAll.
 */
export async function startPostgres(opts: { password?: string } = {}): Promise<TestPostgres> {
  const bindir = findPostgresBindir();
  const account = postgresAccount();
  const dir = mkdtempSync(join(tmpdir(), 'shipkit-pg-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  const password = opts.password ?? 'test-pw-' + Math.random().toString(36).slice(2, 10);
  writeFileSync(pwfile, `${password}\n`);
  if (account) {
    chownSync(dir, account.uid, account.gid);
    chownSync(pwfile, account.uid, account.gid);
  }
  const as = account ? { uid: account.uid, gid: account.gid } : {};
  const init = spawnSync(
    join(bindir, 'initdb'),
    [
      '-D',
      data,
      '-U',
      'postgres',
      '--pwfile',
      pwfile,
      '-A',
      'scram-sha-256',
      '-E',
      'UTF8',
      '--no-sync',
    ],
    { ...as, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr}`);
  }
  return runPostgres({ bindir, dir, data, password, as, removeOnStop: true });
}

/**
 * Starts the server of an initialised cluster (`data`, sockets in `dir`) on a free port, waits
 * until it accepts connections and returns the handle. `removeOnStop` deletes `dir` on stop
 * (throwaway clusters); a kept cluster leaves it.
 */
export async function runPostgres(opts: {
  bindir: string;
  dir: string;
  data: string;
  password: string;
  as: { uid?: number; gid?: number };
  removeOnStop: boolean;
}): Promise<TestPostgres> {
  const { bindir, dir, data, password, as } = opts;
  const port = await freePort();
  const server: ChildProcess = spawn(
    join(bindir, 'postgres'),
    [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
    ],
    { ...as, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  server.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((ok) => server.once('exit', () => ok()));
  const major = Number(
    /\/(\d+)\/bin$/.exec(bindir)?.[1] ??
      spawnSync(join(bindir, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout.match(
        /(\d+)\./,
      )?.[1],
  );
  const env = { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' };
  const psqlArgs = (db: string): string[] => [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    'postgres',
    '-d',
    db,
    '-X',
    '-q',
    '-At',
    '-v',
    'ON_ERROR_STOP=1',
  ];
  const pg: TestPostgres = {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    bindir,
    major,
    url: (db = 'postgres') =>
      `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`,
    sql(db, sql) {
      const r = spawnSync(join(bindir, 'psql'), psqlArgs(db), {
        input: sql,
        encoding: 'utf8',
        env,
        maxBuffer: 64 * 1024 * 1024,
      });
      if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
      return r.stdout;
    },
    createDatabase(db) {
      pg.sql('postgres', `CREATE DATABASE "${db}"`);
    },
    pid: () => server.pid,
    async stop() {
      if (server.exitCode === null && server.signalCode === null) {
        server.kill('SIGINT');
        const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      if (opts.removeOnStop) rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = spawnSync(join(bindir, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)], {
      encoding: 'utf8',
    });
    if (ready.status === 0) break;
    if (server.exitCode !== null || Date.now() > deadline) {
      await pg.stop();
      throw new Error(`PostgreSQL did not start: ${log}`);
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  return pg;
}

/**
 * Seeds `db` with several tables holding about `megabytes` of data in total (text that
 * compresses like real rows: hashes, numbers, timestamps, JSON).
 */
export function seedDatabase(pg: TestPostgres, db: string, megabytes: number): void {
  // ~190 bytes per order row, ~120 per event row, ~70 per customer row in the dump.
  const orders = Math.round((megabytes * 1024 * 1024 * 0.55) / 190);
  const events = Math.round((megabytes * 1024 * 1024 * 0.35) / 120);
  const customers = Math.round((megabytes * 1024 * 1024 * 0.1) / 70);
  pg.sql(
    db,
    `
    CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, created_at timestamptz NOT NULL);
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, total numeric(12,2), note text, items jsonb);
    CREATE TABLE events (id bigserial PRIMARY KEY, kind text, payload text, at timestamptz);
    CREATE TABLE empty_table (id int);
    CREATE SCHEMA billing;
    CREATE TABLE billing.invoices (id int PRIMARY KEY, amount int);
    INSERT INTO customers SELECT g, md5(g::text) || '@example.com', timestamptz '2024-01-01' + g * interval '1 minute' FROM generate_series(1, ${customers}) g;
    INSERT INTO orders SELECT g, 1 + g % ${Math.max(1, customers)}, (g % 100000) / 100.0, md5((g * 7)::text) || ' ' || md5((g * 13)::text),
      jsonb_build_object('sku', 'SKU-' || (g % 977), 'qty', g % 9, 'tag', substr(md5(g::text), 1, 12)) FROM generate_series(1, ${orders}) g;
    INSERT INTO events (kind, payload, at) SELECT (ARRAY['login','logout','purchase','view'])[1 + g % 4], md5((g * 31)::text) || md5(g::text), timestamptz '2024-06-01' + g * interval '1 second' FROM generate_series(1, ${events}) g;
    INSERT INTO billing.invoices SELECT g, g * 3 FROM generate_series(1, 1000) g;
    ANALYZE;
    `,
  );
}

/** Row counts per table (`schema.table` → count) of a database, for comparisons in tests. */
export function rowCounts(pg: TestPostgres, db: string): Record<string, number> {
  const out = pg.sql(
    db,
    `SELECT n.nspname || '.' || c.relname, (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
     ORDER BY 1`,
  );
  const result: Record<string, number> = {};
  for (const line of out.trim().split('\n').filter(Boolean)) {
    const [name, count] = line.split('|');
    result[name] = Number(count);
  }
  return result;
}
