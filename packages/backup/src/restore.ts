import { ActionFailure } from '../../kit/src/errors';
import { systemClock, type Clock } from '../../kit/src/poll';
import { findPgClients, type PgClient } from './clients';
import type { PgConnection } from './connection';
import { isPartial, kindOfKey, type BackupKind } from './keys';
import { clientFor, serverInfo, type ServerInfo } from './pg';
import { hasChecksum, headObject, listObjects, type ListedObject, type S3Api } from './store';
import { readBack, restoreArchive } from './verify';

/** Database backups (.dump, .sql.gz) under a folder, newest first (by LastModified, then key). */
export function databaseBackupsNewestFirst(objects: readonly ListedObject[]): ListedObject[] {
  return objects
    .filter((o) => kindOfKey(o.key) === 'custom' || kindOfKey(o.key) === 'plain')
    .sort(
      (a, b) =>
        b.lastModified.getTime() - a.lastModified.getTime() ||
        (a.key < b.key ? 1 : a.key > b.key ? -1 : 0),
    );
}

/** The newest database backup (by LastModified, then key) under a folder, or undefined. */
export function pickLatest(objects: readonly ListedObject[]): ListedObject | undefined {
  return databaseBackupsNewestFirst(objects)[0];
}

export interface RestoreOptions {
  s3: S3Api;
  bucket: string;
  /** An object key, or `latest` for the newest database backup under `folder`. */
  key: string;
  folder: string;
  target: PgConnection;
  /** Working directory for the download. */
  dir: string;
  clients?: PgClient[];
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Times the restore (default the wall clock). */
  clock?: Clock;
}

export interface RestoreResult {
  key: string;
  kind: BackupKind;
  sha256: string;
  bytes: number;
  server: ServerInfo;
  client: PgClient;
  durationMs: number;
}

/** `latest` found no database backup with a checksum in the folder. */
export class NoBackupFoundError extends ActionFailure {
  constructor(
    message: string,
    /** The folder searched. */
    readonly folder: string,
  ) {
    super(message);
    this.name = 'NoBackupFoundError';
  }
}

/**
 * The key `latest` stands for: the newest database backup that can be restored (an object without
 * its checksum is a leftover). When that one holds only part of the database (taken with
 * pg-dump-args that select part of it: `shipkit-partial`) while an older backup holds all of it,
 * `latest` does not choose between them (the partial one would leave the rest as it is, or
 * recreate tables without their rows; the whole one is older): it fails naming both. A folder
 * whose backups are all taken the same partial way (a nightly `--exclude-table-data`) gets its
 * newest, as always.
 */
async function latestBackup(s3: S3Api, bucket: string, folder: string): Promise<string> {
  const candidates = databaseBackupsNewestFirst(await listObjects(s3, bucket, folder));
  let newest: { key: string; partial: boolean } | undefined;
  let unchecked = 0;
  for (const c of candidates) {
    const metadata = (await headObject(s3, bucket, c.key))?.metadata ?? {};
    if (!hasChecksum(metadata)) {
      unchecked++;
      continue;
    }
    const partial = isPartial(metadata);
    if (!newest) {
      newest = { key: c.key, partial };
      if (!partial) return c.key;
      continue;
    }
    if (!partial)
      throw new ActionFailure(
        `\`backup-key: latest\` does not choose between the newest backup, ${newest.key}, taken with pg-dump-args that select part of the database, and the newest backup of the whole database, ${c.key} (older): set \`backup-key\` to the one to restore. Nothing was changed.`,
      );
  }
  if (newest) return newest.key;
  throw new NoBackupFoundError(
    `No database backup (.dump or .sql.gz) with a checksum was found under s3://${bucket}/${folder}${unchecked ? ` (${unchecked} without one cannot be restored)` : ''}.`,
    folder,
  );
}

/** Resolves `latest` and checks the key names a database backup; returns key and kind. */
export async function resolveBackupKey(
  s3: S3Api,
  bucket: string,
  key: string,
  folder: string,
): Promise<{ key: string; kind: BackupKind }> {
  if (key === 'latest') key = await latestBackup(s3, bucket, folder);
  const kind = kindOfKey(key);
  if (kind !== 'custom' && kind !== 'plain') {
    throw new ActionFailure(
      `\`${key}\` is not a database backup (.dump or .sql.gz); files backups are extracted with tar.`,
    );
  }
  return { key, kind };
}

/** What a restore checked before it reads the backup: the object, its checksum and the target. */
export interface RestorePlan {
  key: string;
  kind: BackupKind;
  /** The SHA-256 in the object's metadata. */
  sha256: string;
  /** Size of the object. */
  bytes: number;
  server: ServerInfo;
  /** The client the restore uses (matching the target server). */
  client: PgClient;
}

/**
 * Everything a restore checks before it downloads a byte: resolves `latest`, checks the object
 * exists and carries its SHA-256, connects to the target and chooses the client for its server.
 * A dry run stops here.
 */
export async function planRestore(
  opts: Omit<RestoreOptions, 'dir' | 'log' | 'clock'>,
): Promise<RestorePlan> {
  const { key, kind } = await resolveBackupKey(opts.s3, opts.bucket, opts.key, opts.folder);
  const head = await headObject(opts.s3, opts.bucket, key);
  if (!head) throw new ActionFailure(`Backup s3://${opts.bucket}/${key} does not exist.`);
  const expected = head.metadata.sha256;
  if (!expected || !hasChecksum(head.metadata)) {
    throw new ActionFailure(
      `s3://${opts.bucket}/${key} has no sha256 in its metadata, so it cannot be checked: refusing to restore it (shipkit stores the checksum once a backup is complete).`,
    );
  }
  const clients = opts.clients ?? (await findPgClients());
  const server = await serverInfo(opts.target, clients, opts.signal);
  const client = clientFor(clients, server, 'pg_restore');
  return { key, kind, sha256: expected, bytes: head.size, server, client };
}

/**
 * Restores a database backup: checks it and the target ({@link planRestore}), downloads it and
 * checks its SHA-256, and only then restores it into the target with the client matching the
 * target server.
 */
export async function restoreBackup(opts: RestoreOptions): Promise<RestoreResult> {
  const clock = opts.clock ?? systemClock;
  const started = clock.now();
  const { key, kind, sha256: expected, bytes, server, client } = await planRestore(opts);
  opts.log?.(`Downloading s3://${opts.bucket}/${key} (${bytes} bytes) and checking its SHA-256…`);
  const got = await readBack({
    s3: opts.s3,
    bucket: opts.bucket,
    key,
    expectedSha256: expected,
    dir: opts.dir,
    signal: opts.signal,
  });
  opts.log?.(
    `Checksum verified (${got.sha256}). Restoring into ${opts.target.display} with ${kind === 'custom' ? 'pg_restore' : 'psql'} ${client.version}…`,
  );
  await restoreArchive({
    kind,
    path: got.path,
    client,
    target: opts.target,
    signal: opts.signal,
    log: opts.log,
  });
  return {
    key,
    kind,
    sha256: got.sha256,
    bytes: got.bytes,
    server,
    client,
    durationMs: clock.now() - started,
  };
}
