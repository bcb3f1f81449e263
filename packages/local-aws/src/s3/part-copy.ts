/**
 * UploadPartCopy, which s3rver 3.7 answers with 501: a part made of a byte range of an existing
 * object, written where s3rver keeps parts (`<n>` and its `<n>.md5`) so that
 * CompleteMultipartUpload assembles it like an uploaded one.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3Failure, xmlText } from './errors';
import { BUCKET_NAME } from './multipart';

/** Where s3rver 3.7's filesystem store keeps an object's bytes. */
export function objectFile(root: string, bucket: string, key: string): string {
  const parts = key.split('/');
  const last = parts.pop() ?? '';
  return join(root, bucket, ...parts, `${last}._S3rver_object`);
}

/** `x-amz-copy-source` (`[/]bucket/key[?versionId=…]`, URL-encoded) as bucket and key. */
export function parseCopySource(header: string): { bucket: string; key: string } {
  const path = header.split('?')[0].replace(/^\/+/, '');
  const slash = path.indexOf('/');
  let bucket = '';
  let key = '';
  try {
    bucket = decodeURIComponent(path.slice(0, slash));
    key = decodeURIComponent(path.slice(slash + 1));
  } catch {
    // Left empty: refused below.
  }
  if (slash < 1 || !key || !BUCKET_NAME.test(bucket) || key.split('/').includes('..'))
    throw new S3Failure({
      code: 'InvalidArgument',
      message: 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      status: 400,
    });
  return { bucket, key };
}

/** `x-amz-copy-source-range` (`bytes=first-last`) within an object of `size` bytes. */
export function parseCopyRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } {
  if (header === undefined) return { start: 0, end: size - 1 };
  const m = /^bytes=(\d+)-(\d+)$/.exec(header);
  if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) >= size)
    throw new S3Failure({
      code: 'InvalidArgument',
      message:
        'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      status: 400,
    });
  return { start: Number(m[1]), end: Number(m[2]) };
}

/** Copies the range into part `partNumber` of the upload in `uploadDir`; returns the XML answer. */
export async function copyPart(
  root: string,
  uploadDir: string,
  partNumber: number,
  copySource: string,
  copyRange: string | undefined,
): Promise<string> {
  const source = parseCopySource(copySource);
  const file = objectFile(root, source.bucket, source.key);
  if (!existsSync(file))
    throw new S3Failure({
      code: 'NoSuchKey',
      message: 'The specified key does not exist.',
      status: 404,
    });
  const { start, end } = parseCopyRange(copyRange, statSync(file).size);
  const hash = createHash('md5');
  const target = join(uploadDir, String(partNumber));
  await pipeline(
    createReadStream(file, { start, end }),
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    }),
    createWriteStream(target),
  );
  const md5 = hash.digest('hex');
  writeFileSync(`${target}.md5`, md5);
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<CopyPartResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<LastModified>${statSync(target).mtime.toISOString()}</LastModified>` +
    `<ETag>${xmlText(`"${md5}"`)}</ETag></CopyPartResult>`
  );
}
