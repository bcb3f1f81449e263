import { logSafe } from '../../kit/src/log-text';

/** An inclusive range of accepted HTTP status codes. */
export interface StatusRange {
  from: number;
  to: number;
}

/** One `expect-json` assertion: the dotted path and the accepted values (as text). */
export interface JsonAssertion {
  path: string[];
  accepted: string[];
  /** The assertion as the user wrote it. */
  text: string;
}

/** What a response must satisfy to count as a successful probe. */
export interface Expectations {
  status: StatusRange[];
  json: JsonAssertion[];
  body?: string;
}

/**
 * Parses `200-299`, `200,204,300-399` into ranges; returns undefined when the text is not such a
 * list of codes from 100 to 599.
 */
export function parseStatusRanges(text: string): StatusRange[] | undefined {
  const parts = text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (!parts.length) return undefined;
  const ranges: StatusRange[] = [];
  for (const part of parts) {
    const m = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(part);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = Number(m[2] ?? m[1]);
    if (from < 100 || to > 599 || to < from) return undefined;
    ranges.push({ from, to });
  }
  return ranges;
}

/** `200-299,304` — the ranges as the user would write them. */
export function formatStatusRanges(ranges: StatusRange[]): string {
  return ranges.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(',');
}

/** Parses `path=value` or `path=a|b`; undefined when malformed. */
export function parseJsonAssertion(text: string): JsonAssertion | undefined {
  const at = text.indexOf('=');
  if (at <= 0) return undefined;
  const pathText = text.slice(0, at).trim();
  const path = pathText.split('.');
  if (path.some((p) => !p.trim())) return undefined;
  const accepted = text
    .slice(at + 1)
    .split('|')
    .map((s) => s.trim());
  if (accepted.some((a) => a === '')) return undefined;
  return { path: path.map((p) => p.trim()), accepted, text: `${pathText}=${accepted.join('|')}` };
}

function lookup(value: unknown, path: string[]): { found: boolean; value?: unknown } {
  let current: unknown = value;
  for (const key of path) {
    if (Array.isArray(current) && /^\d+$/.test(key)) {
      if (Number(key) >= current.length) return { found: false };
      current = current[Number(key)];
    } else if (current !== null && typeof current === 'object' && key in current) {
      current = (current as Record<string, unknown>)[key];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: current };
}

/** Checks a status code against the ranges. */
export function statusAccepted(status: number, ranges: StatusRange[]): boolean {
  return ranges.some((r) => status >= r.from && status <= r.to);
}

/**
 * Checks a response against the expectations. Returns undefined when it passes, else the reason
 * in a few words (`status 503 is not in 200-299`, `status is "DOWN", expected healthy|UP`), on one
 * line: what the body says passes through {@link logSafe}.
 */
export function checkResponse(status: number, body: string, exp: Expectations): string | undefined {
  if (!statusAccepted(status, exp.status)) {
    return `status ${status} is not in ${formatStatusRanges(exp.status)}`;
  }
  if (exp.body !== undefined && !body.includes(exp.body)) {
    return `body does not contain ${JSON.stringify(exp.body)}`;
  }
  if (exp.json.length) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      const preview = body.trim().slice(0, 60).replace(/\s+/g, ' ');
      return `body is not JSON${preview ? ` (starts with ${logSafe(JSON.stringify(preview))})` : ' (empty)'}`;
    }
    for (const assertion of exp.json) {
      const path = assertion.path.join('.');
      const found = lookup(parsed, assertion.path);
      if (!found.found) return `${path} is missing, expected ${assertion.accepted.join('|')}`;
      const v = found.value;
      const text = v === null ? 'null' : typeof v === 'object' ? undefined : String(v);
      if (text === undefined || !assertion.accepted.includes(text)) {
        return `${path} is ${logSafe(JSON.stringify(v), 200)}, expected ${assertion.accepted.join('|')}`;
      }
    }
  }
  return undefined;
}
