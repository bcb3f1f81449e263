/**
 * The AWS query protocol (awsQuery) used by ELBv2, RDS and the older CloudWatch clients:
 * form-encoded requests in, XML out. Reusable by every query service: list element names
 * are given per service (ELBv2 uses `member`, RDS names them per shape).
 */
import type { ServerResponse } from 'node:http';
import { AwsError } from '../contracts';

/** A decoded query request: nested objects and arrays of strings. */
export type QueryValue = string | QueryValue[] | { [key: string]: QueryValue };
export type QueryParams = { [key: string]: QueryValue };

/**
 * Bounds on what one query request may hold. AWS's own lists are far shorter (ELBv2 and
 * CloudWatch lists stop at a few hundred members at most, RDS filters at tens), so these only
 * refuse requests no SDK sends: a list index such as `Names.member.4294967295` would otherwise
 * make a sparse array of four billion slots and block the process while it is compacted.
 */
export const QUERY_LIMITS = {
  /** Highest list index (`A.member.N`, N from 1). */
  maxListIndex: 1000,
  /** Parameters in one request, `Action` and `Version` included. */
  maxParameters: 10_000,
  /** Dot-separated segments in one parameter name (`A.member.1.B` has four). */
  maxNameSegments: 16,
} as const;

/** Names that would reach `Object.prototype` through a plain object: never a member name. */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

function validationError(message: string): AwsError {
  return new AwsError('ValidationError', message);
}

/** A parameter name as an error message shows it (at most 200 characters). */
function shown(key: string): string {
  return key.length > 200 ? `${key.slice(0, 200)}…` : key;
}

/**
 * Parses an `application/x-www-form-urlencoded` body into flat key/value pairs (an object
 * without a prototype, so no key can reach `Object.prototype`).
 */
export function parseForm(body: string): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const [k, v] of new URLSearchParams(body)) out[k] = v;
  return out;
}

/** Options for {@link unflattenQuery}. */
export interface UnflattenOptions {
  /**
   * Names of the element that wraps each list item (`member` for ELBv2 and CloudWatch; for RDS
   * e.g. `Tag`, `Filter`, `Value`). `A.member.1.B=x` becomes `{A: [{B: 'x'}]}`. A number that
   * directly follows a name (`A.1.B`) is a flattened list either way.
   */
  listWrappers?: string[];
}

const INDEX = /^\d+$/;

/** Checks one parameter name against {@link QUERY_LIMITS}; returns its segments. */
function checkName(key: string, wrappers: Set<string>): string[] {
  const parts = key.split('.');
  if (parts.length > QUERY_LIMITS.maxNameSegments) {
    throw validationError(
      `The parameter name \`${shown(key)}\` has ${parts.length} parts; at most ${QUERY_LIMITS.maxNameSegments} are accepted.`,
    );
  }
  // Drop wrapper names that precede an index: A.member.1 -> A.1
  const path: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (i > 0 && wrappers.has(part) && INDEX.test(parts[i + 1] ?? '')) continue;
    if (RESERVED_NAMES.has(part)) {
      throw validationError(`The parameter \`${shown(key)}\` is not a member of this request.`);
    }
    if (i > 0 && INDEX.test(part)) {
      const index = Number(part);
      if (!(index >= 1 && index <= QUERY_LIMITS.maxListIndex)) {
        throw validationError(
          `The parameter \`${shown(key)}\` has list index ${shown(part)}; list indexes run from 1 to ${QUERY_LIMITS.maxListIndex}.`,
        );
      }
    }
    path.push(part);
  }
  return path;
}

/**
 * Turns flat query parameters (`Tags.member.1.Key=a`) into nested objects and arrays
 * (`{Tags: [{Key: 'a'}]}`). `Action` and `Version` are kept as strings. A request beyond
 * {@link QUERY_LIMITS}, or with a member named like an `Object.prototype` property, fails with
 * AWS's `ValidationError`.
 */
export function unflattenQuery(
  flat: Record<string, string>,
  opts: UnflattenOptions = {},
): QueryParams {
  const wrappers = new Set(opts.listWrappers ?? ['member']);
  const entries = Object.entries(flat);
  if (entries.length > QUERY_LIMITS.maxParameters) {
    throw validationError(
      `The request has ${entries.length} parameters; at most ${QUERY_LIMITS.maxParameters} are accepted.`,
    );
  }
  const root: QueryParams = {};
  for (const [key, value] of entries) {
    const path = checkName(key, wrappers);
    let node: Record<string, QueryValue> | QueryValue[] = root;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      const nextIsIndex = !last && INDEX.test(path[i + 1]);
      const slot: string | number = Array.isArray(node) ? Number(seg) - 1 : seg;
      const container = node as Record<string | number, QueryValue>;
      if (last) {
        container[slot] = value;
      } else {
        if (container[slot] === undefined || typeof container[slot] === 'string') {
          container[slot] = nextIsIndex ? [] : {};
        }
        node = container[slot] as Record<string, QueryValue> | QueryValue[];
      }
    }
  }
  return compactArrays(root) as QueryParams;
}

function compactArrays(v: QueryValue): QueryValue {
  if (Array.isArray(v)) return v.filter((x) => x !== undefined).map(compactArrays);
  if (typeof v === 'object') {
    const out: Record<string, QueryValue> = {};
    for (const [k, x] of Object.entries(v)) out[k] = compactArrays(x);
    return out;
  }
  return v;
}

/** Options for {@link toXml}. */
export interface XmlOptions {
  /**
   * Element name for the items of a list, by the list's element name (RDS: `{DBSnapshots:
   * 'DBSnapshot'}`); lists not named here use `member`.
   */
  listItemNames?: Record<string, string>;
}

/** Escapes text for XML content. */
export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );
}

/**
 * Writes `value` as the content of element `name`: objects as child elements, arrays as
 * wrapped lists, `Date` as ISO 8601, booleans and numbers as text; `undefined` is skipped.
 */
export function toXml(name: string, value: unknown, opts: XmlOptions = {}): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (Array.isArray(value)) {
    const item = opts.listItemNames?.[name] ?? 'member';
    return `<${name}>${value.map((v) => toXml(item, v, opts)).join('')}</${name}>`;
  }
  if (typeof value === 'object') {
    const inner = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => toXml(k, v, opts))
      .join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** Options for query responses. */
export interface QueryResponseOptions extends XmlOptions {
  /** XML namespace of the service, e.g. `http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/`. */
  xmlns: string;
  requestId: string;
}

/** The XML body of a successful query response: `<OpResponse><OpResult>…</OpResult>…`. */
export function queryResponseBody(
  operation: string,
  result: unknown,
  opts: QueryResponseOptions,
): string {
  const inner = Object.entries((result ?? {}) as Record<string, unknown>)
    .map(([k, v]) => toXml(k, v, opts))
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${opts.xmlns}">` +
    `<${operation}Result>${inner}</${operation}Result>` +
    `<ResponseMetadata><RequestId>${opts.requestId}</RequestId></ResponseMetadata></${operation}Response>`
  );
}

/** Writes a successful query response. */
export function writeQuery(
  res: ServerResponse,
  operation: string,
  result: unknown,
  opts: QueryResponseOptions,
): void {
  const body = queryResponseBody(operation, result, opts);
  res.writeHead(200, {
    'content-type': 'text/xml',
    'x-amzn-requestid': opts.requestId,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Writes a query-protocol error (`<ErrorResponse><Error><Type/><Code/><Message/>…`). */
export function writeQueryError(
  res: ServerResponse,
  error: AwsError,
  opts: { xmlns?: string; requestId: string },
): void {
  const ns = opts.xmlns ? ` xmlns="${opts.xmlns}"` : '';
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse${ns}><Error><Type>${error.fault}</Type>` +
    `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
    `<RequestId>${opts.requestId}</RequestId></ErrorResponse>`;
  res.writeHead(error.status, {
    'content-type': 'text/xml',
    'x-amzn-requestid': opts.requestId,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Reads a query list member as an array (absent → `[]`). */
export function qList(v: QueryValue | undefined): QueryValue[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Reads a query scalar as a string (absent → undefined). */
export function qString(v: QueryValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Reads a query scalar as a number (absent → undefined). */
export function qNumber(v: QueryValue | undefined): number | undefined {
  return typeof v === 'string' && v !== '' ? Number(v) : undefined;
}

/** Reads a query scalar as a boolean (absent → undefined). */
export function qBool(v: QueryValue | undefined): boolean | undefined {
  return typeof v === 'string' ? v === 'true' : undefined;
}

/** Reads a query structure (absent → `{}`). */
export function qObject(v: QueryValue | undefined): { [key: string]: QueryValue } {
  return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
}
