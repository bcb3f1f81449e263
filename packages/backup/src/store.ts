// The S3 calls on buckets and whole objects a backup makes: check, head, list, copy, delete,
// download. Streaming an upload is in upload.ts.
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
  UploadPartCopyCommand,
  type S3Client,
  type ServerSideEncryption,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { ActionFailure } from '../../kit/src/errors';
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

/** The error's name (an SDK error's code). */
export function errorName(error: unknown): string {
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
export interface ObjectParams {
  Bucket: string;
  Key: string;
  ContentType: string;
  Metadata: Record<string, string>;
  ServerSideEncryption: ServerSideEncryption;
  SSEKMSKeyId?: string;
  StorageClass?: StorageClass;
}

/** The {@link ObjectParams} of an object written with `opts`. */
export function objectParams(
  opts: WriteOptions & {
    bucket: string;
    key: string;
    contentType: string;
    metadata: Record<string, string>;
  },
): ObjectParams {
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
