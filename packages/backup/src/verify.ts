import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { ActionFailure } from '../../kit/src/errors';
import type { PgClient } from './clients';
import { clientEnv, type PgConnection } from './connection';
import type { BackupKind } from './keys';
import { clientFailure, program } from './pg';
import { ProbeStream, runProgram, stderrSummary, TailBuffer } from './process';
import { downloadToFile, type S3Api } from './store';

/** A backup read back from S3 into a local file whose checksum matched. */
export interface ReadBack {
  path: string;
  sha256: string;
  bytes: number;
  metadata: Record<string, string>;
}

/**
 * Downloads an object into `dir`, hashing it on the way, and fails when its SHA-256 differs
 * from `expectedSha256` (the checksum computed while uploading, or the one in its metadata).
 */
export async function readBack(opts: {
  s3: S3Api;
  bucket: string;
  key: string;
  expectedSha256: string;
  dir: string;
  signal?: AbortSignal;
}): Promise<ReadBack> {
  const path = join(opts.dir, opts.key.split('/').pop() ?? 'backup');
  const got = await downloadToFile(opts.s3, opts.bucket, opts.key, path, opts.signal);
  if (got.sha256 !== opts.expectedSha256) {
    throw new ActionFailure(
      `Checksum mismatch for s3://${opts.bucket}/${opts.key}: expected SHA-256 ${opts.expectedSha256}, read back ${got.sha256} (${got.bytes} bytes). The stored backup is not the one written.`,
    );
  }
  return { path, ...got };
}

/** What reading an archive's table of contents found. */
export interface ListResult {
  /** Entries in the archive (TOC entries, tar members, or SQL bytes for plain dumps). */
  entries: number;
  /** Tables with data (custom format). */
  tables?: number;
  /** One readable sentence. */
  description: string;
}

/**
 * Reads a downloaded backup back: `pg_restore --list` for the custom format, a full gunzip
 * and the end-of-dump marker for plain SQL, `tar -tz` for files. Fails on a damaged archive.
 */
export async function listArchive(
  kind: BackupKind,
  path: string,
  client?: PgClient,
  signal?: AbortSignal,
): Promise<ListResult> {
  if (kind === 'custom') {
    if (!client) throw new Error('listing a custom-format archive needs pg_restore');
    const r = await runProgram(program(client, 'pg_restore'), ['--list', path], { signal });
    if (r.code !== 0)
      throw new ActionFailure(
        `pg_restore could not read the archive back: ${stderrSummary(r.stderr) || `exit ${r.code}`}`,
      );
    const lines = r.stdout.split('\n').filter((l) => l.trim() && !l.startsWith(';'));
    const tables = lines.filter((l) => / TABLE DATA /.test(l)).length;
    return {
      entries: lines.length,
      tables,
      description: `pg_restore read ${lines.length} entries (${tables} tables with data)`,
    };
  }
  if (kind === 'plain') {
    const probe = new ProbeStream();
    const sink = new Writable({ write: (_c, _e, done) => done() });
    try {
      await pipeline(createReadStream(path), createGunzip(), probe, sink, { signal });
    } catch (error) {
      throw new ActionFailure(
        `The SQL dump could not be decompressed: ${(error as Error).message}`,
      );
    }
    if (!probe.tail.toString('utf8').includes('-- PostgreSQL database dump complete')) {
      throw new ActionFailure(
        'The SQL dump read back does not end with "-- PostgreSQL database dump complete" (truncated).',
      );
    }
    return {
      entries: probe.bytes,
      description: `gunzip read ${probe.bytes} bytes of SQL, ending with the end-of-dump marker`,
    };
  }
  const r = await runProgram('tar', ['-t', '-z', '-f', path], { signal });
  if (r.code !== 0)
    throw new ActionFailure(
      `tar could not read the archive back: ${stderrSummary(r.stderr) || `exit ${r.code}`}`,
    );
  const entries = r.stdout.split('\n').filter(Boolean).length;
  return { entries, description: `tar listed ${entries} entries` };
}

/**
 * Restores a downloaded database backup into `target`: pg_restore (custom format) with
 * `--clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error`, or
 * psql in one transaction with ON_ERROR_STOP (plain SQL; dumps carry `--clean --if-exists`,
 * so they replace the objects they hold).
 */
export async function restoreArchive(opts: {
  kind: BackupKind;
  path: string;
  client: PgClient;
  target: PgConnection;
  signal?: AbortSignal;
  log?: (line: string) => void;
}): Promise<void> {
  const env = clientEnv(opts.target);
  if (opts.kind === 'custom') {
    const r = await runProgram(
      program(opts.client, 'pg_restore'),
      [
        '--no-password',
        '--clean',
        '--if-exists',
        '--no-owner',
        '--no-privileges',
        '--single-transaction',
        '--exit-on-error',
        '--dbname',
        opts.target.url,
        opts.path,
      ],
      { env, signal: opts.signal, onStderr: (l) => opts.log?.(`pg_restore: ${l}`) },
    );
    if (r.code !== 0) throw restoreFailure('pg_restore', opts.target, r.stderr, 'custom');
    return;
  }
  if (opts.kind !== 'plain')
    throw new ActionFailure(
      'Only database backups (.dump, .sql.gz) can be restored into a database.',
    );
  const child = spawn(
    program(opts.client, 'psql'),
    [
      '-X',
      '-q',
      '-w',
      '-v',
      'ON_ERROR_STOP=1',
      '--single-transaction',
      '-o',
      process.platform === 'win32' ? 'NUL' : '/dev/null',
      '--dbname',
      opts.target.url,
      '-f',
      '-',
    ],
    { env, stdio: ['pipe', 'ignore', 'pipe'], signal: opts.signal },
  );
  const stderr = new TailBuffer();
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  const exit = new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('close', (code) => resolve(code));
  });
  let feedError: unknown;
  await pipeline(createReadStream(opts.path), createGunzip(), child.stdin).catch(
    (error: unknown) => (feedError = error),
  );
  const code = await exit;
  if (code !== 0) throw restoreFailure('psql', opts.target, stderr.toString(), 'plain');
  if (feedError)
    throw new ActionFailure(`Feeding the SQL dump to psql failed: ${(feedError as Error).message}`);
}

/**
 * Why a restore failed, with what the user can do for the failures a restore over a live
 * database meets (the restore is one transaction, so the database was left as it was).
 */
function restoreFailure(
  what: 'pg_restore' | 'psql',
  target: PgConnection,
  stderr: string,
  kind: 'custom' | 'plain',
): ActionFailure {
  const failure = clientFailure(what, target, stderr);
  const unchanged = 'Nothing was changed (the restore is one transaction)';
  if (/other objects depend on it/.test(stderr)) {
    // PostgreSQL names the dependent objects on DETAIL lines, which the summary leaves out.
    const details = stderr
      .split('\n')
      .map((l) => /^DETAIL:\s+(.*)$/.exec(l.trim())?.[1])
      .filter((l): l is string => Boolean(l))
      .slice(0, 3);
    failure.message += `${details.length ? ` (${details.join('; ')})` : ''}. ${unchanged}: objects the backup does not hold (created since it was taken) depend on objects it replaces; drop them first, or restore into an empty database`;
  } else if (kind === 'plain' && /ERROR: .* already exists/.test(stderr)) {
    // Plain dumps made before they carried --clean create every object, so they restore only
    // into a database that holds none of them.
    failure.message += `. ${unchanged}. A plain SQL dump without DROP statements (taken without --clean) restores only into a database that does not hold its objects: restore into an empty database, or drop them first`;
  }
  return failure;
}

/** One table's row counts in the source and the restored copy. */
export interface CountRow {
  table: string;
  source?: number;
  restored?: number;
  ok: boolean;
  /** Restored empty because the dump's options leave table data out (`--schema-only`, `--exclude-table-data`). */
  dataLeftOut?: boolean;
}

/** How much of the source the dump holds, by its pg_dump options. */
export interface DumpScope {
  /** Options may leave whole tables out (`-n`, `-t`, `-T`, …): a source table may be absent. */
  partial: boolean;
  /** Options may leave table data out: a restored table may be empty whatever the source holds. */
  dataLeftOut: boolean;
}

/**
 * Compares row counts per table. Every table of the restore must match the source, except one
 * restored empty when `scope.dataLeftOut` (reported as such); a source table missing from the
 * restore is a mismatch unless `scope.partial` (pg-dump-args may exclude tables), then it is
 * reported as not in the backup.
 */
export function compareCounts(
  source: Map<string, number>,
  restored: Map<string, number>,
  scope: DumpScope,
): { ok: boolean; rows: CountRow[] } {
  const names = [...new Set([...source.keys(), ...restored.keys()])].sort();
  const rows = names.map((table): CountRow => {
    const s = source.get(table);
    const r = restored.get(table);
    if (scope.dataLeftOut && s !== undefined && r === 0 && s > 0)
      return { table, source: s, restored: r, ok: true, dataLeftOut: true };
    const ok = r === undefined ? scope.partial : s === r;
    return { table, source: s, restored: r, ok };
  });
  return { ok: rows.every((r) => r.ok), rows };
}
