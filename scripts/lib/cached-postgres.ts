// A PostgreSQL cluster kept between bench runs (its databases are seeded once and reused), in a
// cache folder the repository ignores. Same shape as the test suites' throwaway cluster.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  findPostgresBindir,
  freePort,
  seedDatabase,
  type TestPostgres,
} from '../../test/support/postgres';

function postgresAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number =>
    Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout);
  return { uid: id('-u'), gid: id('-g') };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the cluster kept in `dir` (created with initdb on first use). A server left running
 * by an interrupted bench is refused rather than shared; a stale pid file is removed.
 */
export async function startCachedPostgres(dir: string): Promise<TestPostgres> {
  const bindir = findPostgresBindir();
  const account = postgresAccount();
  const as = account ? { uid: account.uid, gid: account.gid } : {};
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  mkdirSync(dir, { recursive: true });
  if (account) chownSync(dir, account.uid, account.gid);
  if (!existsSync(join(data, 'PG_VERSION'))) {
    rmSync(data, { recursive: true, force: true });
    writeFileSync(pwfile, `bench-${Math.random().toString(36).slice(2, 10)}\n`);
    if (account) chownSync(pwfile, account.uid, account.gid);
    const init = spawnSync(
      join(bindir, 'initdb'),
      ['-D', data, '-U', 'postgres', '--pwfile', pwfile, '-A', 'scram-sha-256', '-E', 'UTF8'],
      { ...as, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
    );
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  }
  const pidFile = join(data, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (alive(pid)) throw new Error(`a PostgreSQL server (pid ${pid}) already runs on ${data}`);
    rmSync(pidFile);
  }
  const password = readFileSync(pwfile, 'utf8').trim();
  const port = await freePort();
  const server = spawn(
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
  server.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const exited = new Promise<void>((ok) => server.once('exit', () => ok()));
  const major = Number(
    spawnSync(join(bindir, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout.match(
      /(\d+)\./,
    )?.[1],
  );
  const env = { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' };
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
      const r = spawnSync(
        join(bindir, 'psql'),
        ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db].concat([
          '-X',
          '-q',
          '-At',
          '-v',
          'ON_ERROR_STOP=1',
        ]),
        { input: sql, encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 },
      );
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
        await exited;
      }
    },
  };
  for (let tries = 0; ; tries++) {
    const ready = spawnSync(join(bindir, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)]);
    if (ready.status === 0) break;
    if (server.exitCode !== null || tries > 300) {
      await pg.stop();
      throw new Error(`PostgreSQL did not start: ${log}`);
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  return pg;
}

/**
 * Makes sure database `db` exists seeded with about `megabytes` of rows: seeded under a
 * temporary name and renamed when complete, so an interrupted seeding is redone, never reused.
 * Returns whether it seeded.
 */
export function ensureSeeded(pg: TestPostgres, db: string, megabytes: number): boolean {
  const exists = (name: string): boolean =>
    pg.sql('postgres', `SELECT 1 FROM pg_database WHERE datname = '${name}'`).trim() === '1';
  if (exists(db)) return false;
  const partial = `${db}_seeding`;
  if (exists(partial)) pg.sql('postgres', `DROP DATABASE "${partial}"`);
  pg.createDatabase(partial);
  seedDatabase(pg, partial, megabytes);
  pg.sql('postgres', `ALTER DATABASE "${partial}" RENAME TO "${db}"`);
  return true;
}
