import { ConfigurationError } from '../../../packages/kit/src/errors';
import { redactUrl } from '../../../packages/kit/src/redact';
import { splitLines } from '../../../packages/kit/src/inputs';
import {
  parseJsonAssertion,
  parseStatusRanges,
  type Expectations,
} from '../../../packages/health/src/expectations';
import { isHttpUrl, type Target } from '../../../packages/health/src/probe';
import {
  HEADER_NAME,
  HEADER_VALUE,
  maskHeaderValue,
  maskHeaderValues,
  parseHeaders,
} from './headers';

/** The step's own inputs, which a `checks` entry takes for every field it omits. */
export interface CheckDefaults {
  method: string;
  headers: Record<string, string>;
  expectations: Expectations;
}

/** HTTP methods a probe may use. */
export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const FIELDS = ['url', 'method', 'headers', 'expect-status', 'expect-json', 'expect-body'];
const MAX_ENTRIES = 50;
const STATUS_FORM = 'status codes and ranges from 100 to 599 such as `200,204,300-399`';
const JSON_FORM = 'one `path=value` or `path=value1|value2` per line (or a list), the path dotted';
const HIDDEN = 'header values are secret and not shown';

type Entry = Record<string, unknown>;

function isEntry(value: unknown): value is Entry {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Every string under `value`, keys included (for masking whatever a `headers` field holds). */
function leaves(value: unknown): string[] {
  const s = scalar(value);
  if (s !== undefined) return [s];
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (isEntry(value)) return Object.entries(value).flatMap(([k, v]) => [k, ...leaves(v)]);
  return [];
}

function shown(value: string): string {
  return value.length > 200 ? `${value.slice(0, 200)}…` : value;
}

/**
 * Registers every possible secret of the entries with the runner before anything is validated:
 * every string a `headers` field holds (a mapping's values and keys, or `Name: value` lines),
 * and the credentials of every URL. Returns each entry's URL as it may be printed.
 */
function maskEntries(entries: unknown[]): (string | undefined)[] {
  for (const entry of entries) {
    if (!isEntry(entry) || entry.headers === undefined) continue;
    const h = entry.headers;
    if (typeof h === 'string') {
      maskHeaderValues(h);
      continue;
    }
    if (isEntry(h)) {
      for (const [name, value] of Object.entries(h)) {
        if (!HEADER_NAME.test(name)) maskHeaderValues(`${name}:`);
        for (const s of leaves(value)) maskHeaderValue(s.trim());
      }
      continue;
    }
    for (const s of leaves(h)) {
      maskHeaderValues(s);
      maskHeaderValue(s.trim());
    }
  }
  return entries.map((entry) =>
    isEntry(entry) && typeof entry.url === 'string' && entry.url.trim()
      ? redactUrl(entry.url.trim())
      : undefined,
  );
}

/** Parses `text` as YAML; a syntax error names its line and column, never the text around it. */
async function parseYaml(text: string): Promise<unknown> {
  const { parse } = await import('yaml');
  try {
    return parse(text, { prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  } catch (error) {
    const e = error as { code?: string; pos?: [number, number] };
    const where: string[] = [];
    if (e.pos) {
      const before = text.slice(0, e.pos[0]);
      const line = before.split('\n').length;
      where.push(`line ${line}, column ${e.pos[0] - before.lastIndexOf('\n')}`);
    }
    if (e.code) where.push(e.code);
    throw new ConfigurationError(
      `Input \`checks\` is not valid YAML${where.length ? ` (${where.join(': ')})` : ''}; it must be a list of entries such as \`- url: https://api.example.com/health\`.`,
    );
  }
}

/**
 * Parses the `checks` input: a YAML list of `{url, method, headers, expect-status, expect-json,
 * expect-body}`, each entry taking the step's own input for every field it omits (`url` aside,
 * which every entry must set). Header values and URL credentials are masked before any entry is
 * validated; every bad entry fails with a {@link ConfigurationError} naming `checks`, the entry
 * (counted from 1) and the field, never a header value.
 */
export async function parseChecks(text: string, defaults: CheckDefaults): Promise<Target[]> {
  const doc = await parseYaml(text);
  if (!Array.isArray(doc) || doc.length === 0) {
    throw new ConfigurationError(
      'Input `checks` must be a YAML list of entries, each with at least a `url`, such as `- url: https://api.example.com/health`.',
    );
  }
  if (doc.length > MAX_ENTRIES) {
    throw new ConfigurationError(
      `Input \`checks\` holds ${doc.length} entries; at most ${MAX_ENTRIES} are accepted.`,
    );
  }
  const displayUrls = maskEntries(doc);
  const seen = new Map<string, number>();
  return doc.map((entry, i) => {
    const n = i + 1;
    const where = (field: string): string => `Input \`checks\`: entry ${n}, \`${field}\``;
    const bad = (field: string, form: string, got?: string): never => {
      throw new ConfigurationError(
        `${where(field)} must be ${form}${got === undefined ? '' : `; got \`${shown(got)}\``}.`,
      );
    };
    if (!isEntry(entry)) {
      throw new ConfigurationError(
        `Input \`checks\`: entry ${n} must be a mapping such as \`url: https://api.example.com/health\`.`,
      );
    }
    const unknown = Object.keys(entry).find((k) => !FIELDS.includes(k));
    if (unknown !== undefined) {
      throw new ConfigurationError(
        `Input \`checks\`: entry ${n} has an unknown field \`${shown(unknown)}\`; the fields are ${FIELDS.map((f) => `\`${f}\``).join(', ')}.`,
      );
    }

    const displayUrl = displayUrls[i];
    if (entry.url === undefined || entry.url === null)
      throw new ConfigurationError(`${where('url')} is required and was not set.`);
    if (displayUrl === undefined) bad('url', 'an http:// or https:// URL');
    const url = (entry.url as string).trim();
    if (!isHttpUrl(url)) bad('url', 'an http:// or https:// URL', displayUrl);
    const first = seen.get(url);
    if (first !== undefined) {
      throw new ConfigurationError(
        `Input \`checks\`: entries ${first} and ${n} probe the same \`url\` \`${displayUrl}\`; list each URL once.`,
      );
    }
    seen.set(url, n);

    let method = defaults.method;
    if (entry.method !== undefined) {
      const m = scalar(entry.method)?.trim().toUpperCase();
      if (!m || !(METHODS as readonly string[]).includes(m))
        bad('method', `one of ${METHODS.join(', ')}`, scalar(entry.method));
      method = m as string;
    }

    const headers =
      entry.headers === undefined ? defaults.headers : entryHeaders(entry.headers, where);

    const expectations: Expectations = { ...defaults.expectations };
    if (entry['expect-status'] !== undefined) {
      const raw = entry['expect-status'];
      const s = Array.isArray(raw)
        ? raw.every((r) => scalar(r) !== undefined)
          ? raw.map(scalar).join(',')
          : undefined
        : scalar(raw);
      const status = s === undefined ? undefined : parseStatusRanges(s);
      if (!status) bad('expect-status', STATUS_FORM, s);
      expectations.status = status as NonNullable<typeof status>;
    }
    if (entry['expect-json'] !== undefined) {
      const raw = entry['expect-json'];
      const items = Array.isArray(raw) ? raw.map(scalar) : [scalar(raw)];
      const lines = items.flatMap((item) => (item === undefined ? [undefined] : splitLines(item)));
      expectations.json = lines.map((line) => {
        const a = line === undefined ? undefined : parseJsonAssertion(line);
        return a ?? bad('expect-json', JSON_FORM, line);
      });
    }
    if (entry['expect-body'] !== undefined) {
      const body = scalar(entry['expect-body']);
      if (body === undefined) bad('expect-body', 'a text the body must contain');
      expectations.body = body === '' ? undefined : body;
    }
    return { url, displayUrl: displayUrl as string, method, headers, expectations };
  });
}

/** An entry's `headers`: a mapping of names to values, or `Name: value` lines as the input takes. */
function entryHeaders(value: unknown, where: (field: string) => string): Record<string, string> {
  if (typeof value === 'string') {
    try {
      return parseHeaders(value);
    } catch (error) {
      const message = (error as Error).message.replace(/^Input `headers`/, where('headers'));
      throw new ConfigurationError(message);
    }
  }
  if (!isEntry(value)) {
    throw new ConfigurationError(
      `${where('headers')} must be a mapping of header names to values, or \`Name: value\` lines (${HIDDEN}).`,
    );
  }
  const headers: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [name, raw] of Object.entries(value)) {
    if (!HEADER_NAME.test(name)) {
      throw new ConfigurationError(
        `${where('headers')} holds a name that is not a valid header name (the name is not shown, in case it holds a value; ${HIDDEN}).`,
      );
    }
    const v = raw === null ? '' : scalar(raw);
    if (v === undefined || !HEADER_VALUE.test(v.trim())) {
      throw new ConfigurationError(
        `${where('headers')}: the value of \`${name}\` must be one line of text (${HIDDEN}).`,
      );
    }
    const key = name.toLowerCase();
    if (seen.has(key)) {
      throw new ConfigurationError(`${where('headers')} sets \`${name}\` more than once.`);
    }
    seen.add(key);
    headers[name] = v.trim();
  }
  return headers;
}
