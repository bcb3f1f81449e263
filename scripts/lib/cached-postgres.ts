// A PostgreSQL cluster kept between bench runs (its databases are seeded once and reused), in a
// cache folder the repository ignores. Same shape as the test suites' throwaway cluster.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  findPostgresBindir,
  postgresAccount,
  runPostgres,
  seedDatabase,
  type TestPostgres,
} from '../../test/support/postgres';

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
  return runPostgres({ bindir, dir, data, password, as, removeOnStop: false });
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
