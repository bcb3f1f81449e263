/**
 * The multipart operations s3rver 3.7 lacks, answered by local-aws over s3rver's own store:
 * AbortMultipartUpload and ListMultipartUploads, and `NoSuchUpload` for a part, a completion or
 * a part listing of an upload that does not exist (s3rver would create the part's directory, or
 * fail the completion with a 500 that the SDK retries). s3rver keeps an upload in
 * `<bucket>/._S3rver_uploads/<upload id>/` with its `key`, `metadata` and numbered parts.
 */
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { S3Failure, xmlText as xml } from './errors';

/** A bucket name S3 accepts (and so a safe directory name). */
export const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** s3rver's upload ids: 16 random bytes in hex. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;

/** The owner s3rver reports for everything (its built-in account). */
const OWNER = { id: '123456789000', displayName: 'S3rver' };

const noSuchBucket = (): S3Failure =>
  new S3Failure({
    code: 'NoSuchBucket',
    message: 'The specified bucket does not exist',
    status: 404,
  });

const noSuchUpload = (): S3Failure =>
  new S3Failure({
    code: 'NoSuchUpload',
    message:
      'The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    status: 404,
  });

function bucketDir(root: string, bucket: string): string {
  const dir = join(root, bucket);
  if (!BUCKET_NAME.test(bucket) || !existsSync(dir)) throw noSuchBucket();
  return dir;
}

function uploadsDir(root: string, bucket: string): string {
  return join(bucketDir(root, bucket), '._S3rver_uploads');
}

/** The upload's directory, when the upload exists for this key; throws `NoSuchUpload` else. */
export function findUpload(root: string, bucket: string, key: string, uploadId: string): string {
  const dir = join(uploadsDir(root, bucket), uploadId);
  const keyFile = join(dir, 'key');
  if (!UPLOAD_ID.test(uploadId) || !existsSync(keyFile)) throw noSuchUpload();
  if (readFileSync(keyFile, 'utf8') !== key) throw noSuchUpload();
  return dir;
}

/** AbortMultipartUpload: removes the upload and its parts (answered with 204). */
export function abortUpload(root: string, bucket: string, key: string, uploadId: string): void {
  rmSync(findUpload(root, bucket, key, uploadId), { recursive: true, force: true });
}

/** One upload in progress. */
export interface UploadInProgress {
  key: string;
  uploadId: string;
  initiated: Date;
}

/** What ListMultipartUploads reads from its query. */
export interface ListUploadsQuery {
  prefix: string;
  keyMarker: string;
  uploadIdMarker: string;
  maxUploads: number;
}

/** Reads ListMultipartUploads' parameters; `max-uploads` is 0–1000 (larger values mean 1000). */
export function listUploadsQuery(query: URLSearchParams): ListUploadsQuery {
  const max = query.get('max-uploads');
  let maxUploads = 1000;
  if (max !== null) {
    if (!/^\d+$/.test(max))
      throw new S3Failure({
        code: 'InvalidArgument',
        message: 'Provided max-uploads not an integer or within integer range',
        status: 400,
      });
    maxUploads = Math.min(Number(max), 1000);
  }
  return {
    prefix: query.get('prefix') ?? '',
    keyMarker: query.get('key-marker') ?? '',
    uploadIdMarker: query.get('upload-id-marker') ?? '',
    maxUploads,
  };
}

/** Every upload in progress in the bucket, ordered by key then by initiation time. */
export function uploadsInProgress(root: string, bucket: string): UploadInProgress[] {
  const dir = uploadsDir(root, bucket);
  if (!existsSync(dir)) return [];
  const uploads: UploadInProgress[] = [];
  for (const uploadId of readdirSync(dir)) {
    const keyFile = join(dir, uploadId, 'key');
    if (!UPLOAD_ID.test(uploadId) || !existsSync(keyFile)) continue;
    uploads.push({
      key: readFileSync(keyFile, 'utf8'),
      uploadId,
      initiated: statSync(keyFile).mtime,
    });
  }
  return uploads.sort(
    (a, b) =>
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) ||
      a.initiated.getTime() - b.initiated.getTime() ||
      (a.uploadId < b.uploadId ? -1 : 1),
  );
}

/** ListMultipartUploads' XML answer (no `delimiter` grouping). */
export function listUploadsXml(root: string, bucket: string, query: ListUploadsQuery): string {
  let uploads = uploadsInProgress(root, bucket).filter((u) => u.key.startsWith(query.prefix));
  if (query.keyMarker) {
    const markerIndex = query.uploadIdMarker
      ? uploads.findIndex((u) => u.key === query.keyMarker && u.uploadId === query.uploadIdMarker)
      : -1;
    uploads =
      markerIndex >= 0
        ? uploads.slice(markerIndex + 1)
        : uploads.filter((u) => u.key > query.keyMarker);
  }
  const page = uploads.slice(0, query.maxUploads);
  const truncated = uploads.length > page.length;
  const last = page[page.length - 1];
  const owner = `<ID>${OWNER.id}</ID><DisplayName>${OWNER.displayName}</DisplayName>`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Bucket>${xml(bucket)}</Bucket>` +
    `<KeyMarker>${xml(query.keyMarker)}</KeyMarker>` +
    `<UploadIdMarker>${xml(query.uploadIdMarker)}</UploadIdMarker>` +
    (truncated && last
      ? `<NextKeyMarker>${xml(last.key)}</NextKeyMarker><NextUploadIdMarker>${last.uploadId}</NextUploadIdMarker>`
      : '') +
    (query.prefix ? `<Prefix>${xml(query.prefix)}</Prefix>` : '') +
    `<MaxUploads>${query.maxUploads}</MaxUploads>` +
    `<IsTruncated>${truncated}</IsTruncated>` +
    page
      .map(
        (u) =>
          `<Upload><Key>${xml(u.key)}</Key><UploadId>${u.uploadId}</UploadId>` +
          `<Initiator>${owner}</Initiator><Owner>${owner}</Owner>` +
          `<StorageClass>STANDARD</StorageClass>` +
          `<Initiated>${u.initiated.toISOString()}</Initiated></Upload>`,
      )
      .join('') +
    '</ListMultipartUploadsResult>'
  );
}

/** Part numbers S3 accepts. */
export function checkPartNumber(value: string | null): number {
  const n = Number(value);
  if (!/^\d{1,5}$/.test(value ?? '') || n < 1 || n > 10_000)
    throw new S3Failure({
      code: 'InvalidArgument',
      message: 'Part number must be an integer between 1 and 10000, inclusive',
      status: 400,
    });
  return n;
}

/** One uploaded part, as s3rver stored it (`<n>` and `<n>.md5`). */
export interface StoredPart {
  number: number;
  size: number;
  etag: string;
  lastModified: Date;
}

/** The parts of an upload, by part number. */
export function storedParts(uploadDir: string): StoredPart[] {
  return readdirSync(uploadDir)
    .filter((name) => /^\d+$/.test(name))
    .map((name) => {
      const file = join(uploadDir, name);
      const stat = statSync(file);
      const md5File = `${file}.md5`;
      const md5 = existsSync(md5File) ? readFileSync(md5File, 'utf8').trim() : '';
      return { number: Number(name), size: stat.size, etag: `"${md5}"`, lastModified: stat.mtime };
    })
    .sort((a, b) => a.number - b.number);
}

/** ListParts' XML answer, with `max-parts` (at most 1000) and `part-number-marker`. */
export function listPartsXml(
  root: string,
  bucket: string,
  key: string,
  uploadId: string,
  query: URLSearchParams,
): string {
  const dir = findUpload(root, bucket, key, uploadId);
  const number = (name: string, fallback: number): number => {
    const value = query.get(name);
    if (value === null) return fallback;
    if (!/^\d+$/.test(value))
      throw new S3Failure({
        code: 'InvalidArgument',
        message: `Provided ${name} not an integer or within integer range`,
        status: 400,
      });
    return Number(value);
  };
  const marker = number('part-number-marker', 0);
  const max = Math.min(number('max-parts', 1000), 1000);
  const after = storedParts(dir).filter((p) => p.number > marker);
  const page = after.slice(0, max);
  const truncated = after.length > page.length;
  const owner = `<ID>${OWNER.id}</ID><DisplayName>${OWNER.displayName}</DisplayName>`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Bucket>${xml(bucket)}</Bucket><Key>${xml(key)}</Key><UploadId>${uploadId}</UploadId>` +
    `<Initiator>${owner}</Initiator><Owner>${owner}</Owner><StorageClass>STANDARD</StorageClass>` +
    `<PartNumberMarker>${marker}</PartNumberMarker>` +
    (page.length
      ? `<NextPartNumberMarker>${page[page.length - 1].number}</NextPartNumberMarker>`
      : '') +
    `<MaxParts>${max}</MaxParts><IsTruncated>${truncated}</IsTruncated>` +
    page
      .map(
        (p) =>
          `<Part><PartNumber>${p.number}</PartNumber><LastModified>${p.lastModified.toISOString()}</LastModified>` +
          `<ETag>${xml(p.etag)}</ETag><Size>${p.size}</Size></Part>`,
      )
      .join('') +
    '</ListPartsResult>'
  );
}
