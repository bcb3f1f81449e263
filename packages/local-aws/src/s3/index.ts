/**
 * S3 on local-aws's endpoint: requests signed for `s3` are answered by an embedded s3rver
 * (path-style addressing, objects stored as files under the data directory). local-aws adds what
 * s3rver leaves out and what the rest of local-aws offers for every service: any credentials, a
 * request id on every answer, AbortMultipartUpload, ListMultipartUploads, ListParts and
 * UploadPartCopy, `NoSuchUpload` for unknown uploads, S3's 5 GiB cap on a single upload, and `aws-chunked` uploads (the SDK's
 * default for streams) stored as their decoded bytes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdirSync } from 'node:fs';
import { decodedRequest, isAwsChunked } from './aws-chunked';
import { refuseRequest, S3Failure } from './errors';
import {
  abortUpload,
  checkPartNumber,
  findUpload,
  listPartsXml,
  listUploadsQuery,
  listUploadsXml,
} from './multipart';
import { copyPart } from './part-copy';
import { s3Operation, targetOf } from './operations';
import { queryOf } from './recognise';

export { isS3Request } from './recognise';
export { s3Operation } from './operations';
export { refuseRequest, type S3ErrorAnswer } from './errors';

/** The access key s3rver knows; any key a client signs with is presented to s3rver as this one. */
const S3RVER_ACCESS_KEY = 'S3RVER';

/** The largest object a single PUT (or one part) may carry: 5 GiB, as S3. */
export const S3_MAX_UPLOAD_BYTES = 5 * 1024 * 1024 * 1024;

/** The little of s3rver 3.7 used here (it ships no types). */
interface S3rverApp {
  callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- s3rver ships no types
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverApp;

/** Options of {@link createS3Service}. */
export interface S3ServiceOptions {
  /** Where buckets and objects are stored (created when missing). */
  directory: string;
}

/** S3 as local-aws serves it. */
export interface S3Service {
  /** The directory that holds the buckets. */
  directory: string;
  /**
   * Answers one S3 request (the caller has checked {@link isS3Request}). `requestId` is sent as
   * `x-amz-request-id`.
   */
  handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void>;
  /** The S3 operation a request names (`PutObject`, `ListBuckets`…). */
  operationOf(req: IncomingMessage): string;
}

/**
 * Presents the request's credentials to s3rver as the one account it knows. s3rver does not
 * verify SigV4 signatures; it only looks the access key up, and local-aws accepts any key.
 */
function normaliseCredentials(req: IncomingMessage): void {
  const auth = req.headers.authorization;
  if (typeof auth === 'string')
    req.headers.authorization = auth.replace(
      /\bCredential=[^/,\s]+\//,
      `Credential=${S3RVER_ACCESS_KEY}/`,
    );
  if (req.url?.includes('X-Amz-Credential='))
    req.url = req.url.replace(/([?&]X-Amz-Credential=)[^&]*?(%2F|\/)/i, `$1${S3RVER_ACCESS_KEY}$2`);
}

/** Writes a 200 XML answer. */
function writeXml(res: ServerResponse, body: string): void {
  res
    .writeHead(200, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
    })
    .end(body);
}

/**
 * Answers the operations s3rver lacks or gets wrong; resolves false for the ones s3rver answers.
 * Rejects with {@link S3Failure} for an S3 error.
 */
async function answerOwn(
  directory: string,
  operation: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const url = req.url ?? '/';
  const query = new URLSearchParams(queryOf(url));
  const { bucket, key } = targetOf(url.split('?')[0]);
  const uploadId = query.get('uploadId') ?? '';
  const length = Number(req.headers['content-length'] ?? 0);
  switch (operation) {
    case 'PutObject':
    case 'UploadPart':
      if (length > S3_MAX_UPLOAD_BYTES)
        throw new S3Failure({
          code: 'EntityTooLarge',
          message: 'Your proposed upload exceeds the maximum allowed size',
          status: 400,
        });
      if (operation === 'UploadPart') {
        checkPartNumber(query.get('partNumber'));
        findUpload(directory, bucket, key, uploadId);
      }
      return false;
    case 'UploadPartCopy': {
      const partNumber = checkPartNumber(query.get('partNumber'));
      const dir = findUpload(directory, bucket, key, uploadId);
      const range = req.headers['x-amz-copy-source-range'];
      writeXml(
        res,
        await copyPart(
          directory,
          dir,
          partNumber,
          String(req.headers['x-amz-copy-source']),
          typeof range === 'string' ? range : undefined,
        ),
      );
      return true;
    }
    case 'CompleteMultipartUpload':
      findUpload(directory, bucket, key, uploadId);
      return false;
    case 'AbortMultipartUpload':
      abortUpload(directory, bucket, key, uploadId);
      res.writeHead(204).end();
      return true;
    case 'ListMultipartUploads':
      writeXml(res, listUploadsXml(directory, bucket, listUploadsQuery(query)));
      return true;
    case 'ListParts':
      writeXml(res, listPartsXml(directory, bucket, key, uploadId, query));
      return true;
    default:
      return false;
  }
}

/** Starts S3 over `directory` (nothing listens: local-aws's server hands requests over). */
export function createS3Service(options: S3ServiceOptions): S3Service {
  mkdirSync(options.directory, { recursive: true });
  const app = new S3rver({
    directory: options.directory,
    silent: true,
    // Path-style only: the bucket is the first path segment whatever the Host header says.
    vhostBuckets: false,
  });
  const answer = app.callback();
  const operationOf = (req: IncomingMessage): string => {
    const url = req.url ?? '/';
    return s3Operation(
      req.method ?? 'GET',
      url.split('?')[0],
      new URLSearchParams(queryOf(url)),
      req.headers['x-amz-copy-source'] !== undefined,
    );
  };
  return {
    directory: options.directory,
    operationOf,
    async handle(req, res, requestId) {
      res.setHeader('x-amz-request-id', requestId);
      try {
        if (await answerOwn(options.directory, operationOf(req), req, res)) {
          req.resume();
          return;
        }
      } catch (error) {
        if (!(error instanceof S3Failure)) throw error;
        refuseRequest(req, res, error.answer, requestId);
        return;
      }
      normaliseCredentials(req);
      await answer(isAwsChunked(req) ? decodedRequest(req) : req, res);
    },
  };
}
