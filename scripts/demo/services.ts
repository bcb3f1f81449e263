/**
 * The local services the demo runs the pipeline against: local-aws (ECS, ECR, ELBv2,
 * CloudWatch), s3rver for S3 and a throwaway PostgreSQL cluster. Each start registers its stop
 * with the demo's {@link Cleanup}.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalAws, type LocalAws } from '../../packages/local-aws/src';
import type { Cleanup } from './cleanup';
import {
  findPostgresBindir,
  startPostgres as startThrowawayPostgres,
} from '../../test/support/postgres';

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

/**
 * Starts PostgreSQL from this machine's binaries in a temporary directory (the same throwaway
 * cluster the test suites use: initdb, then `postgres` on a free port of 127.0.0.1 with password
 * authentication; as root it runs as the `postgres` user). Missing prerequisites read as
 * {@link Unavailable}, saying what to install.
 */
export async function startPostgres(cleanup: Cleanup): Promise<DemoPostgres> {
  try {
    findPostgresBindir();
  } catch {
    throw new Unavailable(
      'PostgreSQL server programs (initdb, postgres) were not found: install PostgreSQL (Debian: apt-get install postgresql)',
    );
  }
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) {
    throw new Unavailable(
      'PostgreSQL refuses to run as root and there is no `postgres` user to run it as (create one: useradd --system postgres)',
    );
  }
  const pg = await startThrowawayPostgres({
    password: `demo-${Math.random().toString(36).slice(2, 12)}`,
  });
  cleanup.add('PostgreSQL', () => pg.stop());
  return { port: pg.port, url: (db) => pg.url(db), sql: (db, sql) => pg.sql(db, sql) };
}
