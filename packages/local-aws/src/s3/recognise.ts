/**
 * Which requests are S3's: a SigV4 signature whose credential scope names the `s3` service, in
 * the `Authorization` header or in a presigned URL's `X-Amz-Credential` parameter. S3 is the one
 * service here addressed by path (`/<bucket>/<key>`) rather than by `POST /`, so the scope is
 * what tells it apart from the others and from registry traffic under `/v2/`.
 */
import type { IncomingMessage } from 'node:http';

const HEADER_SCOPE = /\bCredential=[^/,\s]+\/\d{8}\/[a-z0-9-]+\/s3\/aws4_request\s*,/;
const QUERY_SCOPE = /^[^/]+\/\d{8}\/[a-z0-9-]+\/s3\/aws4_request$/;

/** The query string of a request URL, without the `?` (empty when there is none). */
export function queryOf(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? '' : url.slice(at + 1);
}

/** True when the request is signed for S3 (header or presigned URL). */
export function isS3Request(req: IncomingMessage): boolean {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth) return HEADER_SCOPE.test(auth);
  const credential = new URLSearchParams(queryOf(req.url ?? '')).get('X-Amz-Credential');
  return credential !== null && QUERY_SCOPE.test(credential);
}
