/** The AWS JSON protocols (awsJson1_0 and awsJson1_1) on the wire. */
import type { ServerResponse } from 'node:http';
import { AwsError } from '../contracts';

/**
 * Serialises an operation result: `Date` values become epoch seconds (numbers), as the JSON
 * protocols require; `undefined` members are left out.
 */
export function toJsonBody(value: unknown): string {
  return JSON.stringify(value ?? {}, function (this: Record<string, unknown>, key, v: unknown) {
    const raw = key === '' ? value : this[key];
    if (raw instanceof Date) return raw.getTime() / 1000;
    return v;
  });
}

/** Parses a JSON request body; an empty body is `{}`. */
export function parseJsonBody(body: string): Record<string, unknown> {
  if (!body.trim()) return {};
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AwsError('SerializationException', 'The request body is not a JSON object.');
}

/** Options for {@link writeJson}. */
export interface JsonWriteOptions {
  contentType: 'application/x-amz-json-1.0' | 'application/x-amz-json-1.1';
  requestId: string;
  /** Query-compatible services (CloudWatch) also send `x-amzn-query-error: Code;Fault`. */
  queryCompatible?: boolean;
}

/** Writes a successful JSON response. */
export function writeJson(res: ServerResponse, result: unknown, opts: JsonWriteOptions): void {
  const body = toJsonBody(result);
  res.writeHead(200, {
    'content-type': opts.contentType,
    'x-amzn-requestid': opts.requestId,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Writes an error in the JSON protocols' shape (`__type` + `message`). */
export function writeJsonError(res: ServerResponse, error: AwsError, opts: JsonWriteOptions): void {
  const body = JSON.stringify({ __type: error.code, message: error.message });
  const headers: Record<string, string | number> = {
    'content-type': opts.contentType,
    'x-amzn-requestid': opts.requestId,
    'x-amzn-errortype': error.code,
    'content-length': Buffer.byteLength(body),
  };
  if (opts.queryCompatible) headers['x-amzn-query-error'] = `${error.code};${error.fault}`;
  res.writeHead(error.status, headers);
  res.end(body);
}
