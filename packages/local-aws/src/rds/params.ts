/**
 * Reading RDS query parameters: required members, tags, `Filters`, `MaxRecords`/`Marker`
 * pagination and `SnapshotType`, with the errors RDS answers.
 */
import { AwsError } from '../contracts';
import {
  qList,
  qNumber,
  qObject,
  qString,
  type QueryParams,
  type QueryValue,
} from '../protocol/query';
import type { RdsTag, SnapshotRecord } from './model';

/** The values a filter name matches, per filter name an operation accepts. */
export type FilterFields<T> = Record<string, (r: T) => (string | undefined)[]>;

const SNAPSHOT_TYPES = new Set(['manual', 'automated', 'shared', 'public', 'awsbackup']);

/** A required string member, or `MissingParameter`. */
export function need(p: QueryParams, name: string): string {
  const v = qString(p[name]);
  if (v === undefined || v === '')
    throw new AwsError('MissingParameter', `The request must contain the parameter ${name}.`);
  return v;
}

/** An `InvalidParameterValue` error. */
export function invalid(message: string): AwsError {
  return new AwsError('InvalidParameterValue', message);
}

/** Reads `Tags.Tag.N.Key/Value`. */
export function parseTags(v: QueryValue | undefined): RdsTag[] {
  return qList(v).map((raw) => {
    const t = qObject(raw);
    const key = qString(t.Key);
    if (!key) throw invalid('A tag must have a `Key`.');
    return { Key: key, Value: qString(t.Value) ?? '' };
  });
}

/** Adds tags in place, replacing the values of keys already there. */
export function mergeTags(into: RdsTag[], add: RdsTag[]): void {
  for (const t of add) {
    const existing = into.find((x) => x.Key === t.Key);
    if (existing) existing.Value = t.Value;
    else into.push({ ...t });
  }
}

/** Keeps the items every `Filters.Filter.N` matches (case-insensitive; unknown names refused). */
export function applyFilters<T>(items: T[], p: QueryParams, fields: FilterFields<T>): T[] {
  const filters = qList(p.Filters).map((raw) => {
    const f = qObject(raw);
    const name = qString(f.Name) ?? '';
    if (!Object.prototype.hasOwnProperty.call(fields, name))
      throw invalid(`Unrecognized filter name: \`${name}\`.`);
    return { name, values: qList(f.Values).map((x) => String(x).toLowerCase()) };
  });
  return items.filter((r) =>
    filters.every((f) => {
      const have = fields[f.name](r).map((x) => x?.toLowerCase());
      return f.values.some((v) => have.includes(v));
    }),
  );
}

/** One page of `items` ordered by `key`, with the `Marker` of the next page when there is one. */
export function paginate<T>(
  items: T[],
  key: (t: T) => string,
  p: QueryParams,
): { page: T[]; marker?: string } {
  const max = qNumber(p.MaxRecords) ?? 100;
  if (!Number.isInteger(max) || max < 20 || max > 100)
    throw invalid(
      `Invalid value \`${qString(p.MaxRecords)}\` for MaxRecords. Must be between 20 and 100.`,
    );
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const marker = qString(p.Marker);
  let start = 0;
  if (marker) {
    const from = Buffer.from(marker, 'base64url').toString('utf8');
    start = sorted.findIndex((x) => key(x) >= from);
    if (start < 0) start = sorted.length;
  }
  const next = sorted[start + max];
  return {
    page: sorted.slice(start, start + max),
    marker: next === undefined ? undefined : Buffer.from(key(next)).toString('base64url'),
  };
}

/** The `SnapshotType` parameter as a predicate (absent: every snapshot). */
export function snapshotTypeFilter(p: QueryParams): (r: SnapshotRecord) => boolean {
  const type = qString(p.SnapshotType);
  if (type === undefined) return () => true;
  if (!SNAPSHOT_TYPES.has(type))
    throw invalid(
      `Invalid value \`${type}\` for SnapshotType. Valid values: ${[...SNAPSHOT_TYPES].join(', ')}.`,
    );
  return (r) => r.type === type;
}
