// Streaming a backup into S3 with bounded memory: parts, their deadlines, and the cleanup of a
// failed upload. The calls on whole objects and buckets are in store.ts.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { systemClock, type Clock } from '../../kit/src/poll';
import type { ChunkSource } from './ring-reader';
import {
  deleteObject,
  errorName,
  headObject,
  objectParams,
  type S3Api,
  type WriteOptions,
} from './store';

/**
 * Part size for an upload expected to be about `expectedBytes`: S3's minimum of 5 MiB (memory is
 * about three parts), and larger when needed to stay within 9,000 parts.
 */
export function partSizeFor(expectedBytes = 0): number {
  const MiB = 1024 * 1024;
  return Math.max(5 * MiB, Math.ceil((expectedBytes * 1.5) / 9000 / MiB) * MiB);
}

export interface StreamUploadOptions extends WriteOptions {
  bucket: string;
  key: string;
  /** The bytes; each chunk is copied before the next is asked for. */
  body: ChunkSource;
  contentType: string;
  metadata: Record<string, string>;
  partSize: number;
  /** Parts uploaded at once; memory is `(queueSize + 1) × partSize`, allocated once. */
  queueSize?: number;
  signal?: AbortSignal;
  /** Called after each part is stored, with the bytes and parts stored so far. */
  onPart?: (storedBytes: number, parts: number) => void;
  /** Sees every byte of the object once, in order, a part at a time, before it is sent. */
  inspect?: (bytes: Buffer) => void;
  /**
   * Called once the body has ended and `inspect` has seen every byte, before the last part is
   * sent and the object completed; when it throws, nothing is completed and the upload is
   * cleaned up.
   */
  beforeComplete?: () => Promise<void>;
  /**
   * How long one attempt to send a part (or the single PutObject) may go unanswered before it
   * is abandoned and sent again; default {@link partDeadlineMs} of the part size.
   */
  partTimeoutMs?: number;
  /** Attempts per part before the upload fails (default 3). */
  partAttempts?: number;
  /** Times the part deadlines (the kit's clock; tests pass their own). */
  clock?: Clock;
  /** Told each time a stalled request is sent again. */
  onStall?: (message: string) => void;
}

/**
 * How long a part of `partSize` bytes may take before it is sent again: a minute, or longer for
 * large parts (at least 128 KiB/s). It does not depend on the client's own timeouts.
 */
export function partDeadlineMs(partSize: number): number {
  return Math.max(60_000, Math.ceil(partSize / (128 * 1024)) * 1000);
}

/** Thrown when every attempt to send one request of an upload went unanswered. */
export class UploadStalledError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UploadStalledError';
  }
}

/**
 * Sends a request with `send`, abandoning an attempt that gets no answer within
 * `timeoutMs` (its request is aborted) and sending it again, up to `attempts` times. The run's
 * `signal` aborts any attempt at once. Throws {@link UploadStalledError} naming `what` when
 * every attempt stalled.
 */
async function sendWithDeadline<T>(
  send: (abortSignal: AbortSignal) => Promise<T>,
  opts: {
    what: string;
    timeoutMs: number;
    attempts: number;
    clock: Clock;
    signal?: AbortSignal;
    onStall?: (message: string) => void;
  },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const call = new AbortController();
    const stopTimer = new AbortController();
    let stalled = false;
    const onAbort = (): void => call.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    opts.clock.sleep(opts.timeoutMs, stopTimer.signal).then(
      () => {
        stalled = true;
        call.abort(new Error(`${opts.what} got no answer`));
      },
      () => undefined,
    );
    try {
      opts.signal?.throwIfAborted();
      return await send(call.signal);
    } catch (error) {
      if (!stalled || opts.signal?.aborted) throw error;
      const secs = opts.timeoutMs / 1000;
      if (attempt >= opts.attempts) {
        throw new UploadStalledError(
          `${opts.what} got no answer within ${secs} s, ${opts.attempts} time${opts.attempts === 1 ? '' : 's'}`,
        );
      }
      opts.onStall?.(
        `${opts.what} got no answer within ${secs} s; sending it again (attempt ${attempt + 1} of ${opts.attempts})`,
      );
    } finally {
      stopTimer.abort();
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** The part of a command's middleware stack {@link unsignedWhenChecked} uses. */
interface WithMiddleware {
  middlewareStack: {
    addRelativeTo(
      middleware: (
        next: (args: { request: unknown }) => Promise<unknown>,
      ) => (args: { request: unknown }) => Promise<unknown>,
      options: { name: string; relation: 'before'; toMiddleware: string },
    ): void;
  };
}

/**
 * Sends a part's (or a small object's) bytes as an unsigned payload (`x-amz-content-sha256: UNSIGNED-PAYLOAD`) when S3
 * checks them anyway: the request carries a flexible checksum of the body (the SDK's default),
 * or goes over HTTPS. Otherwise the SDK's signer hashes every part with SHA-256 on the main
 * thread, a second SHA-256 of the whole backup besides the one stored with it. Over plain HTTP
 * without a checksum the payload stays signed.
 */
export function unsignedWhenChecked<C>(command: C): C {
  (command as unknown as WithMiddleware).middlewareStack.addRelativeTo(
    (next) => (args) => {
      const request = args.request as { protocol?: string; headers?: Record<string, string> };
      const headers = request.headers;
      if (
        headers &&
        (request.protocol === 'https:' ||
          Object.keys(headers).some((h) => h.toLowerCase().startsWith('x-amz-checksum-')))
      )
        headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    {
      name: 'shipkitUnsignedWhenChecked',
      relation: 'before',
      toMiddleware: 'httpSigningMiddleware',
    },
  );
  return command;
}

/** S3's limit on the parts of one multipart upload. */
export const MAX_PARTS = 10_000;

/** What happened to a failed upload's leftovers. */
export interface CleanupReport {
  notes: string[];
  /** True when no object remains under the key. */
  clean: boolean;
}

/** Whether the client adds flexible checksums to uploads (the SDK's `WHEN_SUPPORTED`). */
async function addsChecksums(s3: S3Api): Promise<boolean> {
  const config = (s3 as { config?: { requestChecksumCalculation?: () => Promise<string> } }).config;
  return (await config?.requestChecksumCalculation?.()) === 'WHEN_SUPPORTED';
}

/**
 * Streams `body` into S3 with constant memory: bytes are copied into `queueSize + 1` part
 * buffers allocated once and reused, and up to `queueSize` parts are in flight. A body shorter
 * than one part is written with a single PutObject. The object only appears when `body` ends
 * cleanly and every part was stored; on any failure (the body's, a part's, the signal's) the
 * parts in flight are let finish, the multipart upload is aborted (where the store supports
 * it) and an object that did appear under the key is deleted, then the original error is
 * rethrown with the cleanup notes attached as `cleanup`.
 */
export async function streamUpload(s3: S3Api, opts: StreamUploadOptions): Promise<void> {
  const queueSize = Math.max(1, opts.queueSize ?? 2);
  const target = objectParams(opts);
  const abortSignal = opts.signal;
  const free: Buffer[] = [];
  const inFlight = new Set<Promise<void>>();
  const parts: CompletedPart[] = [];
  let failure: { error: unknown } | undefined;
  let created: Promise<string> | undefined;
  let uploadId: string | undefined;
  let partNumber = 0;
  let storedBytes = 0;
  const deadline = {
    timeoutMs: opts.partTimeoutMs ?? partDeadlineMs(opts.partSize),
    attempts: Math.max(1, opts.partAttempts ?? 3),
    clock: opts.clock ?? systemClock,
    signal: abortSignal,
    onStall: opts.onStall,
  };

  const createUpload = (): Promise<string> =>
    (created ??= (async () => {
      const checksums = await addsChecksums(s3);
      const r = await s3.send(
        new CreateMultipartUploadCommand({
          ...target,
          ...(checksums ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
        }),
        { abortSignal },
      );
      if (!r.UploadId) throw new Error('S3 CreateMultipartUpload returned no UploadId');
      uploadId = r.UploadId;
      return r.UploadId;
    })());

  const sendPart = (buffer: Buffer, length: number): void => {
    const PartNumber = ++partNumber;
    const sent = (async () => {
      try {
        const UploadId = await createUpload();
        const r = await sendWithDeadline(
          (signal) =>
            s3.send(
              unsignedWhenChecked(
                new UploadPartCommand({
                  Bucket: opts.bucket,
                  Key: opts.key,
                  UploadId,
                  PartNumber,
                  Body: buffer.subarray(0, length),
                  ContentLength: length,
                }),
              ),
              { abortSignal: signal },
            ),
          { ...deadline, what: `S3 UploadPart of part ${PartNumber} (${length} bytes)` },
        );
        if (!r.ETag) throw new Error(`S3 UploadPart returned no ETag for part ${PartNumber}`);
        parts.push({
          PartNumber,
          ETag: r.ETag,
          ...(r.ChecksumCRC32 ? { ChecksumCRC32: r.ChecksumCRC32 } : {}),
        });
        free.push(buffer);
        storedBytes += length;
        opts.onPart?.(storedBytes, parts.length);
      } catch (error) {
        failure ??= { error };
      }
    })();
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
  };

  // Cancelling stops a body that is waiting for its producer too.
  const onAbort = (): void => void opts.body.destroy(new Error('the upload was cancelled'));
  abortSignal?.addEventListener('abort', onAbort, { once: true });
  let current: Buffer | undefined;
  let filled = 0;
  try {
    for await (const chunk of opts.body) {
      for (let offset = 0; offset < chunk.length;) {
        current ??= free.pop() ?? Buffer.allocUnsafe(opts.partSize);
        const n = chunk.copy(current, filled, offset);
        filled += n;
        offset += n;
        if (filled < opts.partSize) continue;
        if (partNumber + 1 >= MAX_PARTS) {
          throw new Error(
            `the backup is larger than S3 allows with parts of ${opts.partSize} bytes (${MAX_PARTS} parts)`,
          );
        }
        while (inFlight.size >= queueSize && !failure) await Promise.race(inFlight);
        if (failure) throw failure.error;
        opts.inspect?.(current.subarray(0, filled));
        sendPart(current, filled);
        current = undefined;
        filled = 0;
      }
      if (failure) throw failure.error;
      abortSignal?.throwIfAborted();
    }
    abortSignal?.throwIfAborted();
    const rest = (current ?? Buffer.alloc(0)).subarray(0, filled);
    if (filled > 0) opts.inspect?.(rest);
    await opts.beforeComplete?.();
    if (partNumber === 0) {
      await sendWithDeadline(
        (signal) =>
          s3.send(
            unsignedWhenChecked(
              new PutObjectCommand({ ...target, Body: rest, ContentLength: filled }),
            ),
            {
              abortSignal: signal,
            },
          ),
        { ...deadline, what: `S3 PutObject (${filled} bytes)` },
      );
      return;
    }
    if (filled > 0) sendPart(current as Buffer, filled);
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: opts.bucket,
        Key: opts.key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
      { abortSignal },
    );
  } catch (error) {
    await Promise.allSettled([...inFlight]);
    await created?.catch(() => undefined);
    const report = await cleanupUpload(s3, opts.bucket, opts.key, uploadId);
    throw Object.assign(error instanceof Error ? error : new Error(String(error)), {
      cleanup: report,
    });
  } finally {
    abortSignal?.removeEventListener('abort', onAbort);
  }
}

/** Aborts a multipart upload (when there is one) and deletes any object under `key`. */
export async function cleanupUpload(
  s3: S3Api,
  bucket: string,
  key: string,
  uploadId?: string,
): Promise<CleanupReport> {
  const notes: string[] = [];
  if (uploadId) {
    try {
      await s3.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
      );
      notes.push('aborted the multipart upload (its parts are gone)');
    } catch (error) {
      notes.push(
        `could not abort multipart upload ${uploadId} (${errorName(error) || 'error'}): its parts stay invisible until a lifecycle rule for incomplete multipart uploads removes them`,
      );
    }
  }
  let clean = true;
  try {
    if (await headObject(s3, bucket, key)) {
      await deleteObject(s3, bucket, key);
      notes.push(`deleted the object s3://${bucket}/${key}`);
    }
  } catch (error) {
    clean = false;
    notes.push(
      `could not check or delete s3://${bucket}/${key} (${errorName(error) || String(error)}): delete it by hand`,
    );
  }
  return { notes, clean };
}
