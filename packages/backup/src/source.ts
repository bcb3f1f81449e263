// Starting the program whose output is the backup (pg_dump or tar). Kept apart from the upload
// code so the action can start pg_dump before it loads the S3 client.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';
import { ActionFailure } from '../../kit/src/errors';
import type { PgClient } from './clients';
import { clientEnv, type PgConnection } from './connection';
import type { BackupKind } from './keys';
import { program } from './pg';
import { setsOption } from './pg-dump-args';
import { startProducer, stopProducer, type Producer } from './process';

/** A database to dump. */
export interface DumpSource {
  type: 'pg-dump';
  conn: PgConnection;
  client: PgClient;
  format: 'custom' | 'plain';
  /** Extra pg_dump arguments (checked by `findPgDumpArgsProblem`). */
  extraArgs: readonly string[];
  /** Dump from this exported snapshot (verify=restore counts rows in the same one). */
  snapshot?: string;
  /** Size of the database, used to choose the part size. */
  expectedBytes?: number;
  /** Who gzips a plain dump (default: {@link plainGzipBy} for this runner). */
  plainGzip?: PlainGzip;
}

/** Who gzips a plain SQL dump: pg_dump itself, or the action on every core. */
export type PlainGzip = 'pg_dump' | 'parallel';

/** CPUs from which the action gzips plain dumps itself, on every core. */
export const PARALLEL_GZIP_MIN_CPUS = 4;

/**
 * Who gzips a plain dump at `level`. pg_dump does (`--compress`, zlib in its own process) on a
 * runner with fewer than {@link PARALLEL_GZIP_MIN_CPUS} CPUs: there it is as fast as compressing
 * here, and the compressed bytes reach the action through buffers it reuses, so its memory does
 * not grow with the database. With more CPUs the action compresses on all of them
 * (`ParallelGzip`), which outruns pg_dump's single thread. Level 0 is always the action's:
 * `pg_dump --compress 0` writes plain SQL, not a gzip stream.
 */
export function plainGzipBy(level: number, cpus = availableParallelism()): PlainGzip {
  return level > 0 && cpus < PARALLEL_GZIP_MIN_CPUS ? 'pg_dump' : 'parallel';
}

/** Whether pg_dump's output for `source` is compressed already (custom, or plain gzipped by pg_dump). */
export function compressedByPgDump(source: DumpSource, compressionLevel: number): boolean {
  if (source.format === 'custom') return true;
  return (source.plainGzip ?? plainGzipBy(compressionLevel)) === 'pg_dump';
}

/** Paths to archive as tar.gz. */
export interface FilesSource {
  type: 'files';
  /** Paths relative to `cwd` (or absolute), archived as given. */
  paths: readonly string[];
  cwd: string;
}

/** The pg_dump command line for a source: no password, output on stdout. */
export function pgDumpArgs(source: DumpSource, compressionLevel: number): string[] {
  const args = ['--no-password', '--format', source.format === 'custom' ? 'custom' : 'plain'];
  // The custom format compresses inside pg_dump (zlib, per table); plain SQL is gzipped whole by
  // pg_dump or by the action (see plainGzipBy).
  if (compressedByPgDump(source, compressionLevel))
    args.push('--compress', String(compressionLevel));
  // A plain dump drops each object before creating it, so it restores over a database that
  // holds it (as pg_restore --clean does with the custom format), not only into an empty one.
  // pg_dump refuses --clean with --data-only; with --create it would drop the database itself.
  if (source.format === 'plain' && !setsOption(source.extraArgs, 'data-only', 'create'))
    args.push('--clean', '--if-exists');
  if (source.snapshot) args.push('--snapshot', source.snapshot);
  args.push(...source.extraArgs, '--dbname', source.conn.url);
  return args;
}

/** The first of `paths` (relative to `cwd`) that does not exist, or undefined. */
export function missingPath(paths: readonly string[], cwd: string): string | undefined {
  return paths.find((p) => !existsSync(resolve(cwd, p)));
}

/** Checks every path exists and resolves them under `cwd`; returns them relative where possible. */
export function resolveFilePaths(paths: readonly string[], cwd: string): string[] {
  return paths.map((p) => {
    const full = resolve(cwd, p);
    if (!existsSync(full)) throw new ActionFailure(`Path \`${p}\` does not exist.`);
    const rel = relative(cwd, full);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : full;
  });
}

/** A producer started for a backup: its process, its name in messages, and the backup's kind. */
export interface StartedSource {
  producer: Producer;
  name: string;
  kind: BackupKind;
  /** Whether the output is compressed already (pg_dump compressed it): stored as it is. */
  compressed: boolean;
  /** Set by {@link stopBackupSource}: the program's stderr is no longer logged. */
  stopped?: boolean;
}

/**
 * Starts pg_dump or tar with its output on a pipe (read by {@link streamBackup}); its stderr
 * lines go to `log` until the source is stopped.
 */
export async function startBackupSource(
  source: DumpSource | FilesSource,
  compressionLevel: number,
  log?: (line: string) => void,
): Promise<StartedSource> {
  // Called only later, from the program's stderr, once `started` exists.
  const say = (line: string): void => {
    if (!started.stopped) log?.(line);
  };
  const started: StartedSource =
    source.type === 'pg-dump'
      ? {
          producer: await startProducer(
            program(source.client, 'pg_dump'),
            pgDumpArgs(source, compressionLevel),
            { env: clientEnv(source.conn), onStderr: (line) => say(`pg_dump: ${line}`) },
          ),
          name: 'pg_dump',
          kind: source.format,
          compressed: compressedByPgDump(source, compressionLevel),
        }
      : {
          producer: await startProducer(
            'tar',
            ['-c', '-f', '-', '--', ...resolveFilePaths(source.paths, source.cwd)],
            { cwd: source.cwd, onStderr: (line) => say(`tar: ${line}`) },
          ),
          name: 'tar',
          kind: 'files',
          compressed: false,
        };
  return started;
}

/**
 * Stops a started source that will not be streamed, quietly: what the program says as it is
 * stopped ("terminated by user") would only confuse the error that stopped it.
 */
export async function stopBackupSource(started: StartedSource): Promise<void> {
  started.stopped = true;
  await stopProducer(started.producer);
}
