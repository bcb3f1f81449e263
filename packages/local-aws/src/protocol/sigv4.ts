/** Checks that a request carries a well-formed SigV4 `Authorization` (any credentials pass). */
import { AwsError } from '../contracts';

/** What a SigV4 credential scope tells about a request. */
export interface SigV4Scope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

const AUTH =
  /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;

/**
 * Parses the `Authorization` header. Throws `MissingAuthenticationToken` when absent and
 * `IncompleteSignature` when malformed (codes suffixed with `Exception` for JSON protocols).
 */
export function checkSigV4(header: string | undefined, json: boolean): SigV4Scope {
  const suffix = json ? 'Exception' : '';
  if (!header) {
    throw new AwsError(`MissingAuthenticationToken${suffix}`, 'Missing Authentication Token', 403);
  }
  const m = AUTH.exec(header.trim());
  if (!m) {
    throw new AwsError(
      `IncompleteSignature${suffix}`,
      `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters of AWS4-HMAC-SHA256. Authorization=${header.slice(0, 40)}`,
      403,
    );
  }
  if (!m[5].split(';').includes('host')) {
    throw new AwsError(`IncompleteSignature${suffix}`, "The 'host' header must be signed.", 403);
  }
  return { accessKeyId: m[1], date: m[2], region: m[3], service: m[4] };
}
