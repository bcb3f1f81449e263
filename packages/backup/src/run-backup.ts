// One backup run, from the database check to retention: what the db-backup action calls for
// `pg-dump` and `files`. Only light modules are imported up front; the S3 code is loaded while
// pg_dump already runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ActionFailure } from '../../kit/src/errors';
import { systemClock, type Clock } from '../../kit/src/poll';
import { findPgClients, type PgClient } from './clients';
import type { PgConnection } from './connection';
import { backupFolder, backupKey, PARTIAL_METADATA, type BackupKind } from './keys';
import type { ObjectRetentionResult } from './object-retention';
import { dumpScope, selectsPart } from './pg-dump-args';
import type { ServerInfo, SnapshotSession } from './pg';
import {
  startBackupSource,
  stopBackupSource,
  type DumpSource,
  type FilesSource,
  type StartedSource,
} from './source';
import type { S3Api, WriteOptions } from './store';
import type { CountRow } from './verify';

/** Where the lines of a run go; the caller keeps text from outside on one line. */
export interface BackupLog {
  info(line: string): void;
  debug(line: string): void;
  warning(line: string): void;
  /** Runs one phase of the run inside a collapsible group. */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/** A database to dump with pg_dump. */
export interface PgDumpBackupSource {
  type: 'pg-dump';
  database: PgConnection;
  format: 'custom' | 'plain';
  /** Extra pg_dump arguments, already checked (see `findPgDumpArgsProblem`). */
  pgDumpArgs: readonly string[];
}

/** Paths to archive as tar.gz. */
export interface FilesBackupSource {
  type: 'files';
  paths: readonly string[];
  /** Directory the paths are relative to. */
  cwd: string;
}

/** How the backup is proven once stored. */
export type BackupVerification =
  | { kind: 'none' }
  /** Read back, checksum compared, table of contents read. */
  | { kind: 'list' }
  /** As `list`, then restored into a scratch database and row counts compared (pg-dump only). */
  | { kind: 'restore'; database: PgConnection };

/** Everything one backup run needs. */
export interface RunBackupOptions extends WriteOptions {
  /** Gives the S3 client; called once pg_dump has been started, so the SDK loads meanwhile. */
  s3: () => Promise<S3Api>;
  bucket: string;
  /** Normalized key prefix (ends with `/`, or empty). */
  prefix: string;
  /** Folder name under the prefix (a folder name as is: see `isFolderName`). */
  name: string;
  environment: string;
  sha?: string;
  source: PgDumpBackupSource | FilesBackupSource;
  /** gzip level 0–9 (pg_dump's own compression for the custom format). */
  compressionLevel: number;
  verify: BackupVerification;
  keepDays: number;
  keepLast: number;
  /** Check everything, choose the key and plan retention; write and delete nothing. */
  dryRun: boolean;
  /** Parent of the temporary directory a backup is read back into. */
  tempDir: string;
  log: BackupLog;
  signal?: AbortSignal;
  clock?: Clock;
  /** Called as soon as the key is chosen, before anything is written. */
  onKey?: (key: string, location: string) => void;
  /** Called once the backup is stored, before it is verified. */
  onStored?: (bytes: number, sha256: string) => void;
  /** Called when a stored backup was removed again (its verification failed). */
  onRemoved?: () => void;
}

/** What a run found, filled in as it goes: after a failure it holds what was known by then. */
export interface BackupFacts {
  kind?: BackupKind;
  key?: string;
  location?: string;
  /** `<prefix><name>/`. */
  folder?: string;
  database?: { display: string; serverVersion: string; client: string };
  /** Bytes stored, bytes the producer wrote, SHA-256 of what is stored. */
  stored?: { bytes: number; rawBytes: number; sha256: string };
  /** One sentence on how the backup was proven (absent with verification `none`). */
  verified?: string;
  /** Where `verify: restore` restored the backup. */
  restoredInto?: string;
  counts?: CountRow[];
  /** What happened to a backup whose verification failed. */
  removed?: string;
  retention?: ObjectRetentionResult;
  durationMs?: number;
}

/** The database checked before a dump: server, clients, and the client a verify restore uses. */
interface CheckedDatabase {
  server: ServerInfo;
  client: PgClient;
  clients: PgClient[];
  verifyClient?: PgClient;
}

/**
 * Connects to the database to dump (and to the verify database): the servers' versions and
 * size, and the matching clients. It logs nothing, so it can start before its log group.
 */
async function checkDatabase(
  database: PgConnection,
  verify: BackupVerification,
  found: Promise<PgClient[]>,
  signal?: AbortSignal,
): Promise<CheckedDatabase> {
  const pg = await import('./pg');
  const clients = await found;
  const server = await pg.serverInfo(database, clients, signal);
  const client = pg.clientFor(clients, server);
  if (verify.kind !== 'restore') return { server, client, clients };
  const vServer = await pg.serverInfo(verify.database, clients, signal);
  // Verifying empties the verify database: never the one being backed up, however it is reached.
  if (vServer.identity === server.identity) {
    throw new ActionFailure(
      `The verify database ${verify.database.display} is the database being backed up (${database.display}), reached another way: verifying empties it and restores into it. Name a scratch database for the verification.`,
    );
  }
  const vClient = pg.clientFor(clients, vServer, 'pg_restore');
  if (vClient.major < client.major) {
    throw new ActionFailure(
      `The verify database runs PostgreSQL ${vServer.version}, older than the dump's pg_dump ${client.version}: its pg_restore cannot read the archive. Use a verify server of version ${client.major} or newer.`,
    );
  }
  const verifyClient = pg.clientFor(
    clients,
    { ...vServer, major: Math.max(vServer.major, client.major) },
    'pg_restore',
  );
  return { server, client, clients, verifyClient };
}

function dumpSource(
  source: PgDumpBackupSource,
  client: PgClient,
  expectedBytes?: number,
  snapshot?: string,
): DumpSource {
  return {
    type: 'pg-dump',
    conn: source.database,
    client,
    format: source.format,
    extraArgs: source.pgDumpArgs,
    snapshot,
    expectedBytes,
  };
}

/**
 * Starts pg_dump as early as it can be: with a single client installed (the only one the check
 * could choose) it starts while psql checks the server, its stderr held back and dropped unless
 * the check passes; otherwise it starts once the check chose the client. Returns undefined when
 * the check failed (reported where the check is awaited).
 */
async function startEarly(
  source: PgDumpBackupSource,
  found: Promise<PgClient[]>,
  database: Promise<CheckedDatabase>,
  compressionLevel: number,
  log: BackupLog,
): Promise<StartedSource | undefined> {
  const clients = await found.catch(() => undefined);
  const held: string[] = [];
  let adopted = false;
  const ahead =
    clients?.length === 1
      ? await startBackupSource(dumpSource(source, clients[0]), compressionLevel, (line) =>
          adopted ? log.info(line) : held.push(line),
        )
      : undefined;
  const checked = await database.catch(() => undefined);
  if (ahead && checked?.client.bindir === clients?.[0].bindir) {
    adopted = true;
    for (const line of held.splice(0)) log.info(line);
    return ahead;
  }
  if (ahead) await stopBackupSource(ahead);
  if (!checked) return undefined;
  return startBackupSource(
    dumpSource(source, checked.client, checked.server.databaseBytes),
    compressionLevel,
    (line) => log.info(line),
  );
}

/**
 * Backs up a database (pg_dump) or files (tar) to S3, proves the backup, then applies retention:
 * 1. checks the bucket and the database at once, and chooses a key no object holds yet
 *    (pg_dump starts during or right after the database check, see `startEarly`, unless this
 *    is a dry run or the dump must share a snapshot with a restore check; it is stopped if a
 *    check fails);
 * 2. streams the backup into S3 with its checksum ({@link streamBackup});
 * 3. reads it back and compares the checksum, reads its table of contents, and with
 *    `restore` restores it and compares row counts with the dumped snapshot; a failed proof
 *    removes the backup;
 * 4. applies retention to the folder ({@link applyObjectRetention}).
 * `facts` (returned too) is filled in as the run goes.
 */
export async function runBackup(
  opts: RunBackupOptions,
  facts: BackupFacts = {},
): Promise<BackupFacts> {
  const clock = opts.clock ?? systemClock;
  const started = clock.now();
  const now = new Date(started);
  const { log, signal, bucket, source } = opts;
  const kind: BackupKind = source.type === 'files' ? 'files' : source.format;
  facts.kind = kind;
  // Called first: its programs start before anything is awaited.
  const found = source.type === 'pg-dump' ? findPgClients() : undefined;
  found?.catch(() => undefined); // awaited through the check
  const database =
    source.type === 'pg-dump' && found
      ? checkDatabase(source.database, opts.verify, found, signal)
      : undefined;
  database?.catch(() => undefined); // awaited below; a failure is reported there
  // pg_dump only reads: it starts before the S3 client loads and the bucket is checked, so its
  // catalog work runs meanwhile.
  const early =
    source.type === 'pg-dump' && found && database && !opts.dryRun && opts.verify.kind !== 'restore'
      ? await startEarly(source, found, database, opts.compressionLevel, log)
      : undefined;
  let unclaimed = early;
  /** Hands the early pg_dump to the stream (once); the stream then owns it. */
  const takeEarly = (): StartedSource | undefined => {
    const taken = unclaimed;
    unclaimed = undefined;
    return taken;
  };
  const dir = mkdtempSync(join(opts.tempDir, 'shipkit-db-backup-'));
  let session: SnapshotSession | undefined;
  try {
    const s3 = await opts.s3();
    const store = await import('./store');
    const folder = backupFolder(opts.prefix, opts.name);
    facts.folder = folder;
    // Phase 1: everything that can fail before a byte is written; a bucket problem first.
    const checked = await log.group('Checking the bucket and the source', async () => {
      const target = (async () => {
        await store.checkBucket(s3, bucket);
        log.info(`Bucket ${bucket} is reachable.`);
        const keyOf = (attempt?: number): string =>
          backupKey({
            prefix: opts.prefix,
            name: opts.name,
            at: now,
            sha: opts.sha,
            kind,
            attempt,
          });
        let attempt = 1;
        let key = keyOf();
        while (await store.headObject(s3, bucket, key)) key = keyOf(++attempt);
        return key;
      })();
      const [keyResult, sourceResult] = await Promise.allSettled([target, database]);
      if (keyResult.status === 'rejected') throw keyResult.reason;
      if (sourceResult.status === 'rejected') throw sourceResult.reason;
      const db = sourceResult.value;
      if (db && source.type === 'pg-dump') {
        log.debug(
          `PostgreSQL clients found: ${db.clients.map((c) => `${c.version} in ${c.bindir}`).join(', ')}`,
        );
        log.info(
          `Connected to ${source.database.display}: PostgreSQL ${db.server.version}, database size ${bytesText(db.server.databaseBytes)}; using pg_dump ${db.client.version} (${db.client.bindir}).`,
        );
        facts.database = {
          display: source.database.display,
          serverVersion: db.server.version,
          client: `pg_dump ${db.client.version}`,
        };
      }
      return { key: keyResult.value, db };
    });
    const key = checked.key;
    const location = `s3://${bucket}/${key}`;
    facts.key = key;
    facts.location = location;
    opts.onKey?.(key, location);
    if (opts.dryRun) {
      log.info(`Dry run: would write ${location}.`);
      facts.retention = await retention(opts, s3, folder, key, now);
      return facts;
    }

    // Phase 2: stream the backup.
    const { streamBackup, cancelled } = await import('./backup');
    const metadata: Record<string, string> = {
      'shipkit-kind': kind,
      'shipkit-source': opts.name,
      'shipkit-environment': opts.environment,
      ...(opts.sha ? { 'shipkit-commit': opts.sha } : {}),
      ...(checked.db ? { 'shipkit-pg-dump': checked.db.client.version } : {}),
      // `latest` never picks a backup of part of the database.
      ...(source.type === 'pg-dump' && selectsPart(source.pgDumpArgs)
        ? { [PARTIAL_METADATA]: 'true' }
        : {}),
    };
    let snapshot: string | undefined;
    if (opts.verify.kind === 'restore' && source.type === 'pg-dump' && checked.db) {
      const pg = await import('./pg');
      const opened = await pg.SnapshotSession.open(checked.db.client, source.database);
      session = opened.session;
      log.debug(
        `Dumping from exported snapshot ${opened.snapshot}; rows are counted in the same one.`,
      );
      snapshot = opened.snapshot;
    }
    const db = checked.db;
    let streamed: DumpSource | FilesSource;
    if (source.type === 'files') streamed = { type: 'files', paths: source.paths, cwd: source.cwd };
    else if (db) streamed = dumpSource(source, db.client, db.server.databaseBytes, snapshot);
    else throw new Error('the database was not checked before the dump');
    const result = await log.group(
      `Streaming the ${kind === 'files' ? 'files' : 'dump'} to ${location}`,
      () =>
        streamBackup({
          s3,
          bucket,
          key,
          source: streamed,
          started: takeEarly(),
          compressionLevel: opts.compressionLevel,
          metadata,
          sse: opts.sse,
          kmsKeyId: opts.kmsKeyId,
          storageClass: opts.storageClass,
          signal,
          clock,
          log: (line) => log.info(line),
          debug: (line) => log.debug(line),
        }),
    );
    log.info(
      `Uploaded ${bytesText(result.bytes)}${result.rawBytes !== result.bytes ? ` (${bytesText(result.rawBytes)} before compression)` : ''}, SHA-256 ${result.sha256}.`,
    );
    facts.stored = { bytes: result.bytes, rawBytes: result.rawBytes, sha256: result.sha256 };
    opts.onStored?.(result.bytes, result.sha256);

    // Phase 3: prove it.
    if (opts.verify.kind !== 'none') {
      const verify = opts.verify;
      const check = await import('./verify');
      try {
        await log.group(`Verifying (${verify.kind})`, async () => {
          const back = await check.readBack({
            s3,
            bucket,
            key,
            expectedSha256: result.sha256,
            dir,
            signal,
          });
          log.info(`Read back ${back.bytes} bytes; SHA-256 matches.`);
          const listed = await check.listArchive(kind, back.path, db?.client, signal);
          log.info(listed.description);
          facts.verified = `read back, SHA-256 matches; ${listed.description}`;
          if (verify.kind === 'restore' && session && db?.verifyClient) {
            const target = verify.database;
            const pg = await import('./pg');
            // Emptied first: what an earlier verification restored (a table dropped since, a
            // schema this dump leaves out) would otherwise be counted as restored.
            log.info(`Emptying ${target.display}, then restoring into it…`);
            await pg.emptyDatabase(target, db.verifyClient, signal);
            await check.restoreArchive({
              kind,
              path: back.path,
              client: db.verifyClient,
              target,
              signal,
              log: (line) => log.info(line),
            });
            const counted = await session.counts();
            const restored = await pg.tableCounts(target, db.verifyClient, signal);
            const scope =
              source.type === 'pg-dump'
                ? dumpScope(source.pgDumpArgs)
                : { partial: false, dataLeftOut: false };
            const compared = check.compareCounts(counted, restored, scope);
            facts.counts = compared.rows;
            for (const r of compared.rows)
              log.info(
                `${r.ok ? '✓' : '✗'} ${r.table}: source ${r.source ?? '–'}, restored ${r.restored ?? '–'}${r.dataLeftOut ? ' (data left out by pg-dump-args)' : ''}`,
              );
            if (!compared.ok) {
              const bad = compared.rows
                .filter((r) => !r.ok)
                .map(
                  (r) =>
                    `${r.table} (source ${r.source ?? 'missing'}, restored ${r.restored ?? 'missing'})`,
                );
              throw new ActionFailure(
                `The restored copy differs from the source: ${bad.join(', ')}.`,
              );
            }
            facts.restoredInto = target.display;
            const empty = compared.rows.filter((r) => r.dataLeftOut).length;
            facts.verified += `; restored into ${target.display}: row counts of ${compared.rows.length - empty} tables match the dumped snapshot${empty ? `, ${empty} restored without the data pg-dump-args leaves out` : ''}`;
          }
        });
      } catch (error) {
        const { cleanupUpload } = await import('./upload');
        const cleanup = await cleanupUpload(s3, bucket, key);
        opts.onRemoved?.();
        const removed = `the backup was removed: ${cleanup.notes.join('; ') || 'nothing to remove'}`;
        if (signal?.aborted) throw cancelled(signal, `Before it was verified, ${removed}.`);
        facts.removed = `Verification failed, so ${removed}.`;
        throw error;
      }
    }
    if (session) {
      await session.close();
      session = undefined;
    }
    facts.durationMs = clock.now() - started;

    // Phase 4: retention, only after a verified backup.
    facts.retention = await retention(opts, s3, folder, key, now);
    return facts;
  } finally {
    if (unclaimed) await stopBackupSource(unclaimed);
    await session?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Applies retention to the folder, logging each decision and any leftover without a checksum. */
async function retention(
  opts: RunBackupOptions,
  s3: S3Api,
  folder: string,
  key: string,
  now: Date,
): Promise<ObjectRetentionResult> {
  const { applyObjectRetention } = await import('./object-retention');
  return opts.log.group('Retention', async () => {
    const result = await applyObjectRetention({
      s3,
      bucket: opts.bucket,
      folder,
      now,
      keepDays: opts.keepDays,
      keepLast: opts.keepLast,
      protect: key,
      dryRun: opts.dryRun,
      onDecision: (d, done) => {
        const verb = d.action === 'keep' ? 'kept' : done ? 'deleted' : 'would delete';
        opts.log.info(`${verb} ${d.id}: ${d.reason}`);
      },
    });
    if (result.leftovers.length) {
      opts.log.warning(
        `${result.leftovers.length} object(s) under s3://${opts.bucket}/${folder} have no checksum and cannot be restored (an interrupted upload, or written by another tool); they do not count toward keep-last and are deleted once older than keep-days: ${result.leftovers.join(', ')}`,
      );
    }
    return result;
  });
}

/** `12.3 MiB (12897484 bytes)`: a size for people, with the exact count. */
export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]} (${n} bytes)`;
}
