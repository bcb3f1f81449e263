/**
 * The S3 operation a REST request names, from its method, path and query (for the request log
 * and for faults). Names are the S3 API's (`PutObject`, `ListObjectsV2`, `UploadPartCopy`…).
 */

/** Subresources whose presence names a bucket operation (`?cors` → `GetBucketCors`). */
const BUCKET_SUBRESOURCES = [
  'accelerate',
  'acl',
  'analytics',
  'cors',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'lifecycle',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'tagging',
  'versioning',
  'website',
];

/** `object-lock` → `ObjectLock`, `policyStatus` → `PolicyStatus`. */
function pascal(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

function bucketOperation(method: string, query: URLSearchParams): string {
  const verb = method === 'GET' ? 'Get' : method === 'PUT' ? 'Put' : 'Delete';
  const sub = BUCKET_SUBRESOURCES.find((name) => query.has(name));
  switch (method) {
    case 'HEAD':
      return 'HeadBucket';
    case 'POST':
      return query.has('delete') ? 'DeleteObjects' : 'PostObject';
    case 'GET':
      if (query.has('uploads')) return 'ListMultipartUploads';
      if (query.has('location')) return 'GetBucketLocation';
      if (query.has('versions')) return 'ListObjectVersions';
      if (sub) return `GetBucket${pascal(sub)}`;
      return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
    case 'PUT':
    case 'DELETE':
      if (sub) return `${verb}Bucket${pascal(sub)}`;
      return method === 'PUT' ? 'CreateBucket' : 'DeleteBucket';
    default:
      return 'Unknown';
  }
}

function objectOperation(method: string, query: URLSearchParams, copy: boolean): string {
  switch (method) {
    case 'HEAD':
      return 'HeadObject';
    case 'GET':
      if (query.has('uploadId')) return 'ListParts';
      if (query.has('tagging')) return 'GetObjectTagging';
      if (query.has('acl')) return 'GetObjectAcl';
      return 'GetObject';
    case 'PUT':
      if (query.has('uploadId')) return copy ? 'UploadPartCopy' : 'UploadPart';
      if (query.has('tagging')) return 'PutObjectTagging';
      if (query.has('acl')) return 'PutObjectAcl';
      return copy ? 'CopyObject' : 'PutObject';
    case 'POST':
      if (query.has('uploads')) return 'CreateMultipartUpload';
      if (query.has('uploadId')) return 'CompleteMultipartUpload';
      if (query.has('restore')) return 'RestoreObject';
      if (query.has('select')) return 'SelectObjectContent';
      return 'Unknown';
    case 'DELETE':
      if (query.has('uploadId')) return 'AbortMultipartUpload';
      if (query.has('tagging')) return 'DeleteObjectTagging';
      return 'DeleteObject';
    default:
      return 'Unknown';
  }
}

/** Where a path-style request points: the bucket and key (either may be empty). */
export interface S3Target {
  bucket: string;
  key: string;
}

/** Splits a path-style path (`/<bucket>/<key>`, still URL-encoded) into bucket and key. */
export function targetOf(path: string): S3Target {
  const rest = path.replace(/^\/+/, '');
  const slash = rest.indexOf('/');
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  if (slash < 0) return { bucket: decode(rest), key: '' };
  return { bucket: decode(rest.slice(0, slash)), key: decode(rest.slice(slash + 1)) };
}

/**
 * The S3 operation of a path-style request: `ListBuckets` for `/`, a bucket operation for
 * `/<bucket>`, an object operation for `/<bucket>/<key>`; `Unknown` when none fits.
 */
export function s3Operation(
  method: string,
  path: string,
  query: URLSearchParams,
  hasCopySource: boolean,
): string {
  const { bucket, key } = targetOf(path);
  if (!bucket) return method === 'GET' ? 'ListBuckets' : 'Unknown';
  if (!key) return bucketOperation(method, query);
  return objectOperation(method, query, hasCopySource);
}
