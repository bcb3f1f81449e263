/**
 * The local services the demo runs the pipeline against: local-aws (ECS, ECR, ELBv2,
 * CloudWatch), s3rver for S3 and a throwaway PostgreSQL cluster. Each start registers its stop
 * with the demo's {@link Cleanup}.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalAws, type LocalAws } from '../../packages/local-aws/src';
import type { Cleanup } from './cleanup';

/** A stage's precondition that this machine does not meet; the message says what to install. */
export class Unavailable extends Error {
  override name = 'Unavailable';
}

/** A free TCP port on 127.0.0.1 (for listener ports, which the ELB API cannot pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts local-aws on a free port with its timers `timeScale` times faster, its images and task logs in `dataDir`. */
export async function startAws(
  cleanup: Cleanup,
  timeScale: number,
  dataDir: string,
): Promise<LocalAws> {
  const aws = await startLocalAws({ port: 0, timeScale, dataDir });
  cleanup.add('local-aws', () => aws.stop());
  return aws;
}

/** A running s3rver. */
export interface DemoS3 {
  endpoint: string;
  /** SDK settings for S3-compatible servers (see the AWS notes in DESIGN). */
  env: Record<string, string>;
}

/** Starts s3rver on a free port, storing in a temporary directory removed at cleanup. */
export async function startS3(cleanup: Cleanup): Promise<DemoS3> {
  // s3rver ships no types; the little used here is typed locally.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as new (options: Record<string, unknown>) => {
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  };
  const directory = mkdtempSync(join(tmpdir(), 'shipkit-demo-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true });
  cleanup.add('s3rver', async () => {
    await server.close().catch(() => undefined);
    rmSync(directory, { recursive: true, force: true });
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    },
  };
}

/** A throwaway PostgreSQL cluster. */
export interface DemoPostgres {
  port: number;
  /** `postgresql://` URL (with the password) of database `db`. */
  url(db: string): string;
  /** Runs SQL with psql; returns stdout (unaligned, tuples only). Throws on error. */
  sql(db: string, sql: string): string;
}

function postgresBindir(): string {
  const candidates: string[] = [];
  const config = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (config.status === 0) candidates.push(config.stdout.trim());
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian))
    for (const v of readdirSync(debian).sort((a, b) => Number(b) - Number(a)))
      candidates.push(join(debian, v, 'bin'));
  const found = candidates.find(
    (dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')),
  );
  if (!found)
    throw new Unavailable(
      'PostgreSQL server programs (initdb, postgres) were not found: install PostgreSQL (Debian: apt-get install postgresql)',
    );
  return found;
}

/**
 * Starts PostgreSQL from this machine's binaries in a temporary directory (initdb, then
 * `postgres` on a free port of 127.0.0.1 with password authentication). As root, the cluster
 * runs as the `postgres` user, as PostgreSQL requires.
 */
export async function startPostgres(cleanup: Cleanup): Promise<DemoPostgres> {
  const bindir = postgresBindir();
  let as: { uid?: number; gid?: number } = {};
  if (process.getuid?.() === 0) {
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (uid.status !== 0 || gid.status !== 0)
      throw new Unavailable(
        'PostgreSQL refuses to run as root and there is no `postgres` user to run it as (create one: useradd --system postgres)',
      );
    as = { uid: Number(uid.stdout), gid: Number(gid.stdout) };
  }
  const dir = mkdtempSync(join(tmpdir(), 'shipkit-demo-pg-'));
  cleanup.add('PostgreSQL data directory', () => rmSync(dir, { recursive: true, force: true }));
  const password = `demo-${Math.random().toString(36).slice(2, 12)}`;
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`);
  if (as.uid !== undefined) {
    chownSync(dir, as.uid, as.gid!);
    chownSync(pwfile, as.uid, as.gid!);
  }
  const data = join(dir, 'data');
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
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr.trim()}`);
  const port = await freePort();
  const server: ChildProcess = spawn(
    join(bindir, 'postgres'),
    [
      ...['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'],
      // A throwaway cluster: no need to wait for the disk.
      ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    ],
    { ...as, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  server.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-2000)));
  const exited = new Promise<void>((ok) => server.once('exit', () => ok()));
  cleanup.add('PostgreSQL', async () => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    server.kill('SIGINT'); // fast shutdown
    const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  });
  const env = { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' };
  const pg: DemoPostgres = {
    port,
    url: (db) => `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`,
    sql(db, sql) {
      const r = spawnSync(
        join(bindir, 'psql'),
        ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-X', '-q', '-At'],
        { input: sql, encoding: 'utf8', env: { ...env } },
      );
      if (r.status !== 0 || r.stderr.includes('ERROR'))
        throw new Error(`psql failed: ${r.stderr.trim()}`);
      return r.stdout;
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = spawnSync(join(bindir, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)]);
    if (ready.status === 0) return pg;
    if (server.exitCode !== null || Date.now() > deadline)
      throw new Error(`PostgreSQL did not start: ${log.trim()}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}
