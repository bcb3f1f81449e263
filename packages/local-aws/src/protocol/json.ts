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

/**
 * Deepest nesting of objects and arrays a JSON request may have. The deepest real input (an
 * ECS task definition's container health check command) is six levels down; deeper input would
 * only make the answer fail with a stack overflow when it is echoed back.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `text` nests objects or arrays deeper than `max` (brackets inside strings ignored). */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * Parses a JSON request body; an empty body is `{}`. A body that is not a JSON object, or
 * nests deeper than {@link MAX_JSON_DEPTH}, fails with `SerializationException`.
 */
export function parseJsonBody(body: string): Record<string, unknown> {
  if (!body.trim()) return {};
  if (jsonDepthExceeds(body, MAX_JSON_DEPTH)) {
    throw new AwsError(
      'SerializationException',
      `The request body nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep.`,
    );
  }
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
