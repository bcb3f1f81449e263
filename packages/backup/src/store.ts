import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
  type ServerSideEncryption,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { ActionFailure } from '../../kit/src/errors';
import { systemClock, type Clock } from '../../kit/src/poll';
import { HashStream } from './process';

/** The part of an S3 client the backup code uses (a real S3Client, or a typed fake in tests). */
export type S3Api = Pick<S3Client, 'send'>;

/** How objects are written: encryption and storage class. */
export interface WriteOptions {
  sse: 'AES256' | 'aws:kms';
  kmsKeyId?: string;
  storageClass?: string;
}

/** One listed object. */
export interface ListedObject {
  key: string;
  lastModified: Date;
  size: number;
}

function errorName(error: unknown): string {
  return (error as { name?: string })?.name ?? '';
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** True when an object's metadata holds the SHA-256 shipkit stores once a backup is complete. */
export function hasChecksum(metadata: Record<string, string>): boolean {
  return /^[0-9a-f]{64}$/.test(metadata.sha256 ?? '');
}

/** Fails readably when the bucket does not exist or cannot be reached, before any work starts. */
export async function checkBucket(s3: S3Api, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const status = httpStatus(error);
    if (errorName(error) === 'NotFound' || errorName(error) === 'NoSuchBucket' || status === 404) {
      throw new ActionFailure(
        `Bucket \`${bucket}\` does not exist (S3 HeadBucket answered 404). Create it, or name another bucket.`,
      );
    }
    if (status === 403) {
      throw new ActionFailure(
        `Access to bucket \`${bucket}\` is denied (S3 HeadBucket answered 403): check the role's s3:ListBucket permission.`,
      );
    }
    throw error;
  }
}

/** The object's metadata and size, or undefined when it does not exist. */
export async function headObject(
  s3: S3Api,
  bucket: string,
  key: string,
): Promise<{ metadata: Record<string, string>; size: number; lastModified?: Date } | undefined> {
  try {
    const r = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { metadata: r.Metadata ?? {}, size: r.ContentLength ?? 0, lastModified: r.LastModified };
  } catch (error) {
    if (
      errorName(error) === 'NotFound' ||
      errorName(error) === 'NoSuchKey' ||
      httpStatus(error) === 404
    )
      return undefined;
    throw error;
  }
}

/** Every object under `prefix`, following continuation tokens. */
export async function listObjects(
  s3: S3Api,
  bucket: string,
  prefix: string,
  pageSize?: number,
): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ContinuationToken: token,
        MaxKeys: pageSize,
      }),
    );
    for (const o of page.Contents ?? []) {
      if (!o.Key || !o.LastModified) continue;
      out.push({ key: o.Key, lastModified: o.LastModified, size: o.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (page.IsTruncated && !token)
      throw new Error(`S3 ListObjectsV2 of ${prefix} was truncated without a continuation token`);
  } while (token);
  return out;
}

/** Deletes one object (S3 answers success for a missing key too). */
export async function deleteObject(s3: S3Api, bucket: string, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

/** The request parameters that name an object and say how it is written. */
function objectParams(
  opts: WriteOptions & {
    bucket: string;
    key: string;
    contentType: string;
    metadata: Record<string, string>;
  },
) {
  return {
    Bucket: opts.bucket,
    Key: opts.key,
    ContentType: opts.contentType,
    Metadata: opts.metadata,
    ServerSideEncryption: opts.sse as ServerSideEncryption,
    SSEKMSKeyId: opts.kmsKeyId,
    StorageClass: opts.storageClass as StorageClass | undefined,
  };
}

/** S3's limit for a single CopyObject; larger objects are copied in parts. */
export const MAX_COPY_BYTES = 5 * 1024 ** 3;
const COPY_PART_BYTES = 1024 ** 3;

/**
 * Copies an object to `key` with new user metadata, keeping encryption and storage class: the
 * object appears under `key` only once the copy is complete, with its metadata. Objects above
 * `maxCopyBytes` are copied in parts (UploadPartCopy), as S3 requires beyond 5 GiB.
 */
export async function copyObject(
  s3: S3Api,
  opts: WriteOptions & {
    bucket: string;
    sourceKey: string;
    key: string;
    size: number;
    contentType: string;
    metadata: Record<string, string>;
    maxCopyBytes?: number;
    signal?: AbortSignal;
  },
): Promise<void> {
  const common = objectParams(opts);
  const abortSignal = opts.signal;
  const source = `${opts.bucket}/${opts.sourceKey.split('/').map(encodeURIComponent).join('/')}`;
  if (opts.size <= (opts.maxCopyBytes ?? MAX_COPY_BYTES)) {
    await s3.send(
      new CopyObjectCommand({ ...common, CopySource: source, MetadataDirective: 'REPLACE' }),
      { abortSignal },
    );
    return;
  }
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand(common), { abortSignal });
  try {
    const parts: { PartNumber: number; ETag?: string }[] = [];
    const partBytes = Math.max(COPY_PART_BYTES, Math.ceil(opts.size / 9000));
    for (let start = 0, n = 1; start < opts.size; start += partBytes, n++) {
      const end = Math.min(opts.size, start + partBytes) - 1;
      const r = await s3.send(
        new UploadPartCopyCommand({
          Bucket: opts.bucket,
          Key: opts.key,
          UploadId,
          PartNumber: n,
          CopySource: source,
          CopySourceRange: `bytes=${start}-${end}`,
        }),
        { abortSignal },
      );
      parts.push({ PartNumber: n, ETag: r.CopyPartResult?.ETag });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: opts.bucket,
        Key: opts.key,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
      { abortSignal },
    );
  } catch (error) {
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: opts.bucket, Key: opts.key, UploadId }))
      .catch(() => undefined);
    throw error;
  }
}

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
  body: Readable;
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
              new UploadPartCommand({
                Bucket: opts.bucket,
                Key: opts.key,
                UploadId,
                PartNumber,
                Body: buffer.subarray(0, length),
                ContentLength: length,
              }),
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
          s3.send(new PutObjectCommand({ ...target, Body: rest, ContentLength: filled }), {
            abortSignal: signal,
          }),
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

/** Downloads an object to a file, hashing it on the way. */
export async function downloadToFile(
  s3: S3Api,
  bucket: string,
  key: string,
  path: string,
  signal?: AbortSignal,
): Promise<{ sha256: string; bytes: number; metadata: Record<string, string> }> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
    abortSignal: signal,
  });
  if (!r.Body) throw new Error(`S3 GetObject returned no body for s3://${bucket}/${key}`);
  const hash = new HashStream();
  await pipeline(r.Body as Readable, hash, createWriteStream(path), { signal });
  return { sha256: hash.digest(), bytes: hash.bytes, metadata: r.Metadata ?? {} };
}
