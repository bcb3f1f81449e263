import { ActionFailure, CancelledError } from '../../kit/src/errors';
import { systemClock, type Clock } from '../../kit/src/poll';
import { incompleteKey, type BackupKind } from './keys';
import { defaultConcurrency, ParallelGzip } from './pgzip';
import { describeExit, HashStream, ProbeStream, stderrSummary, stopProducer } from './process';
import type { ChunkSource } from './ring-reader';
import { startBackupSource, type DumpSource, type FilesSource, type StartedSource } from './source';
import { copyObject, deleteObject, type S3Api, type WriteOptions } from './store';
import { cleanupUpload, partSizeFor, streamUpload, type CleanupReport } from './upload';

export interface BackupOptions extends WriteOptions {
  s3: S3Api;
  bucket: string;
  key: string;
  source: DumpSource | FilesSource;
  /** gzip level 0–9 (pg_dump's own compression for the custom format). */
  compressionLevel: number;
  /** User metadata stored on the object (the checksum is added). */
  metadata: Record<string, string>;
  signal?: AbortSignal;
  /** Parts uploaded at once (memory ≈ (queueSize + 1) × part size). */
  queueSize?: number;
  partSize?: number;
  log?: (line: string) => void;
  debug?: (line: string) => void;
  /** How often a progress line is logged while streaming (default every 15 s). */
  progressEveryMs?: number;
  /** `source`, already started with {@link startBackupSource}; its output not yet read. */
  started?: StartedSource;
  /** Times the run and the progress lines, and the part deadlines (default the wall clock). */
  clock?: Clock;
}

/** A finished, uploaded backup. */
export interface BackupResult {
  kind: BackupKind;
  /** Bytes stored in S3 (compressed). */
  bytes: number;
  /** Bytes the producer wrote (equal to `bytes` when pg_dump compressed them itself). */
  rawBytes: number;
  sha256: string;
  durationMs: number;
}

/** A failed backup, with what was done about its leftovers. */
export class BackupFailure extends ActionFailure {
  constructor(
    message: string,
    public readonly cleanup: CleanupReport,
  ) {
    super(message);
    this.name = 'BackupFailure';
  }
}

const PLAIN_TRAILER = '-- PostgreSQL database dump complete';

/** The smallest gzip stream: a 10-byte header, an empty final block (2 bytes), an 8-byte trailer. */
const GZIP_MIN_BYTES = 20;

/**
 * Why a finished producer's output is not a complete backup, or undefined when it is.
 * `gzipped`: a plain dump that pg_dump compressed itself (its SQL is read back by `verify`).
 */
export function checkOutput(
  kind: BackupKind,
  probe: { bytes: number; head: Buffer; tail: Buffer },
  gzipped = false,
): string | undefined {
  if (probe.bytes === 0) return 'it wrote nothing (an empty backup is never a success)';
  if (kind === 'custom' && probe.head.subarray(0, 5).toString('latin1') !== 'PGDMP') {
    return 'its output does not start like a pg_dump archive';
  }
  if (kind === 'plain' && gzipped) {
    const magic = probe.head[0] === 0x1f && probe.head[1] === 0x8b && probe.head[2] === 8;
    if (!magic) return 'its output does not start like a gzip stream';
    if (probe.bytes < GZIP_MIN_BYTES) return 'its output is shorter than a gzip stream (truncated)';
    return undefined;
  }
  if (kind === 'plain' && !probe.tail.toString('utf8').includes(PLAIN_TRAILER)) {
    return `its output does not end with "${PLAIN_TRAILER}" (truncated)`;
  }
  if (kind === 'files' && probe.bytes < 1024)
    return 'its output is shorter than an empty tar archive (truncated)';
  return undefined;
}

/** The error for a run cancelled while a backup was written, with what was cleaned up. */
export function cancelled(signal: AbortSignal, cleanup: string): CancelledError {
  const reason = signal.reason instanceof CancelledError ? signal.reason.message : 'cancelled';
  return new CancelledError(`${reason}. ${cleanup}`);
}

/**
 * Streams a pg_dump or tar through compression and SHA-256 into an S3 multipart upload with
 * bounded memory, under a temporary key ({@link incompleteKey}). The upload is completed only
 * after the producer exited 0 and its output looks whole; then one server-side copy puts it
 * under `key` with its checksum in the metadata, and the temporary object is deleted. So an
 * object under `key` always carries its checksum, whenever the run dies. On any failure nothing
 * is left under either key (see {@link streamUpload}) and a {@link BackupFailure} says why (a
 * {@link CancelledError} when the run was cancelled).
 */
export async function streamBackup(opts: BackupOptions): Promise<BackupResult> {
  const clock = opts.clock ?? systemClock;
  const started = clock.now();
  const { producer, name, kind, compressed } =
    opts.started ?? (await startBackupSource(opts.source, opts.compressionLevel, opts.log));
  const probe = new ProbeStream();
  const hash = new HashStream();
  // pg_dump compresses the custom format, and plain SQL on a runner with few CPUs, itself; tar
  // (and plain SQL elsewhere) is gzipped here, on every core.
  const gzip = compressed ? undefined : new ParallelGzip({ level: opts.compressionLevel });
  let producerFailure: string | undefined;
  // Called once the output has ended: the object is completed only if the producer exited
  // cleanly and its output looks whole.
  const checkProducer = async (): Promise<void> => {
    const exit = await producer.exit;
    if (exit.code !== 0 || exit.signal) {
      producerFailure = `${describeExit(name, exit)}${stderrSummary(producer.stderr.toString()) ? `: ${stderrSummary(producer.stderr.toString())}` : ''}`;
      throw new Error(producerFailure);
    }
    const wrong = checkOutput(kind, probe, compressed && kind === 'plain');
    if (wrong) {
      producerFailure = `${name} exited 0 but ${wrong}`;
      throw new Error(producerFailure);
    }
  };
  const stdout = producer.output;
  // Output pg_dump compressed goes to S3 as pg_dump wrote it, so the probe and the hash both see
  // the parts the uploader sends. Other output is probed as written, then gzipped; the hash sees
  // the compressed parts.
  const body = gzip ?? stdout;
  const flowing = gzip
    ? feed(stdout, probe, gzip).then(
        () => undefined,
        (error: unknown) => error,
      )
    : Promise.resolve(undefined);
  const inspect = gzip
    ? (bytes: Buffer): void => hash.update(bytes)
    : (bytes: Buffer): void => {
        probe.update(bytes);
        hash.update(bytes);
      };
  const expected = opts.source.type === 'pg-dump' ? opts.source.expectedBytes : undefined;
  const partSize = opts.partSize ?? partSizeFor(expected);
  opts.debug?.(
    gzip
      ? `gzip level ${opts.compressionLevel} in the action, on up to ${defaultConcurrency()} threads`
      : `${name} compresses its output itself (level ${opts.compressionLevel})`,
  );
  opts.debug?.(`uploading in parts of ${partSize} bytes, ${opts.queueSize ?? 2} at a time`);
  const contentType = kind === 'custom' ? 'application/octet-stream' : 'application/gzip';
  let lastProgress = started;
  const staging = incompleteKey(opts.key);
  try {
    await streamUpload(opts.s3, {
      bucket: opts.bucket,
      key: staging,
      body,
      contentType,
      inspect,
      beforeComplete: checkProducer,
      metadata: opts.metadata,
      partSize,
      queueSize: opts.queueSize,
      sse: opts.sse,
      kmsKeyId: opts.kmsKeyId,
      storageClass: opts.storageClass,
      signal: opts.signal,
      clock,
      onStall: opts.log,
      onPart: (stored, parts) => {
        const now = clock.now();
        if (now - lastProgress < (opts.progressEveryMs ?? 15_000)) return;
        lastProgress = now;
        const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;
        const rate = stored / 1024 / 1024 / Math.max(0.001, (now - started) / 1000);
        opts.log?.(
          `… ${mib(stored)} stored in ${parts} part(s) so far (${rate.toFixed(1)} MiB/s); ${name} has written ${mib(probe.bytes)}`,
        );
      },
    });
  } catch (error) {
    body.destroy();
    await stopProducer(producer);
    await flowing;
    const cleanup = (error as { cleanup?: CleanupReport }).cleanup ?? { notes: [], clean: true };
    const left = describeCleanup(cleanup, opts.bucket, staging);
    if (opts.signal?.aborted && !producerFailure) throw cancelled(opts.signal, left);
    throw new BackupFailure(
      `Backup failed: ${producerFailure ?? uploadFailure(error)}. ${left}`,
      cleanup,
    );
  }
  const streamError = await flowing;
  if (streamError) throw streamError;
  const sha256 = hash.digest();
  const metadata = { ...opts.metadata, sha256, bytes: String(hash.bytes) };
  try {
    await copyObject(opts.s3, {
      bucket: opts.bucket,
      sourceKey: staging,
      key: opts.key,
      size: hash.bytes,
      contentType,
      metadata,
      sse: opts.sse,
      kmsKeyId: opts.kmsKeyId,
      storageClass: opts.storageClass,
      signal: opts.signal,
    });
  } catch (error) {
    const cleanup = await cleanupBoth(opts.s3, opts.bucket, staging, opts.key);
    const left = describeCleanup(cleanup, opts.bucket, opts.key);
    if (opts.signal?.aborted) throw cancelled(opts.signal, left);
    throw new BackupFailure(
      `Backup failed: storing the checksum in the object's metadata failed (${uploadFailure(error)}). ${left}`,
      cleanup,
    );
  }
  // The backup is in place; a temporary object that stays is only a leftover retention reports.
  await deleteObject(opts.s3, opts.bucket, staging).catch((error: unknown) =>
    opts.log?.(
      `Could not delete the temporary object s3://${opts.bucket}/${staging} (${uploadFailure(error)}): retention deletes it once it is older than keep-days.`,
    ),
  );
  return {
    kind,
    bytes: hash.bytes,
    rawBytes: probe.bytes,
    sha256,
    durationMs: clock.now() - started,
  };
}

/**
 * Passes the producer's chunks through `probe` into `gzip`, one at a time: a chunk is asked for
 * only once gzip has taken the previous one in (copied it into its blocks), since the source
 * reuses a chunk's buffer after that. Ends `gzip` at the end; destroys it on a failure.
 */
async function feed(source: ChunkSource, probe: ProbeStream, gzip: ParallelGzip): Promise<void> {
  // The write waited for, settled by its callback or by gzip closing first (no promise that
  // outlives the run collects one reaction per chunk).
  let pending: ((error?: Error | null) => void) | undefined;
  const onClose = (): void => pending?.(new Error('the compression stopped'));
  gzip.once('close', onClose);
  try {
    for await (const chunk of source) {
      probe.update(chunk);
      await new Promise<void>((resolve, reject) => {
        pending = (error) => {
          pending = undefined;
          if (error) reject(error);
          else resolve();
        };
        gzip.write(chunk, (error) => pending?.(error));
      });
    }
    gzip.end();
  } catch (error) {
    gzip.destroy(error as Error);
    throw error;
  } finally {
    gzip.off('close', onClose);
  }
}

function uploadFailure(error: unknown): string {
  const e = error as {
    name?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    $service?: string;
  };
  if (e?.$metadata) {
    const status = e.$metadata.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
    return `the upload to S3 failed: ${e.name}${e.message && e.message !== e.name ? `: ${e.message}` : ''}${status}`;
  }
  return `the upload to S3 failed: ${e?.message ?? String(error)}`;
}

/** Removes the temporary object and whatever the copy may have put under the backup's key. */
async function cleanupBoth(
  s3: S3Api,
  bucket: string,
  staging: string,
  key: string,
): Promise<CleanupReport> {
  const [a, b] = [await cleanupUpload(s3, bucket, staging), await cleanupUpload(s3, bucket, key)];
  return { notes: [...a.notes, ...b.notes], clean: a.clean && b.clean };
}

/** One sentence on what is left in S3 after a failure. */
export function describeCleanup(cleanup: CleanupReport, bucket: string, key: string): string {
  const head = cleanup.clean
    ? `Nothing was left at s3://${bucket}/${key}`
    : `Something may remain at s3://${bucket}/${key}`;
  return `${head}${cleanup.notes.length ? ` (${cleanup.notes.join('; ')})` : ''}.`;
}
