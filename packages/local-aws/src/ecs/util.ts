/** Small helpers for the ECS operations. */
import { AwsError } from '../contracts';
import type { Tag } from './model';

/** A required string member, or InvalidParameterException naming it. */
export function requireString(input: Record<string, unknown>, name: string): string {
  const v = input[name];
  if (typeof v !== 'string' || !v)
    throw new AwsError('InvalidParameterException', `\`${name}\` must be a non-empty string.`);
  return v;
}

/** The last `/`-separated part of an ARN, or the value itself when it is a name. */
export function nameOf(ref: string): string {
  return ref.startsWith('arn:') ? ref.slice(ref.lastIndexOf('/') + 1) : ref;
}

/** Validates ECS tags (`key`/`value`, lower case). */
export function parseTags(v: unknown): Tag[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new AwsError('InvalidParameterException', '`tags` must be a list.');
  return v.map((t: { key?: unknown; value?: unknown }) => {
    if (typeof t?.key !== 'string' || !t.key)
      throw new AwsError('InvalidParameterException', 'Each tag needs a `key`.');
    return { key: t.key, value: typeof t.value === 'string' ? t.value : undefined };
  });
}

/** Merges `incoming` into `current` by key. */
export function mergeTags(current: Tag[], incoming: Tag[]): Tag[] {
  return [...current.filter((t) => !incoming.some((n) => n.key === t.key)), ...incoming];
}

/** Simple offset pagination with opaque tokens. */
export function paginate<T>(
  items: T[],
  input: Record<string, unknown>,
  defaultMax = 100,
): { page: T[]; nextToken?: string } {
  const max = typeof input.maxResults === 'number' ? input.maxResults : defaultMax;
  if (!(max >= 1 && max <= 100))
    throw new AwsError('InvalidParameterException', '`maxResults` must be between 1 and 100.');
  let start = 0;
  if (typeof input.nextToken === 'string' && input.nextToken) {
    start = Number(Buffer.from(input.nextToken, 'base64').toString('utf8'));
    if (!Number.isInteger(start) || start < 0)
      throw new AwsError('InvalidParameterException', 'Invalid `nextToken`.');
  }
  const page = items.slice(start, start + max);
  const next =
    start + max < items.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
  return { page, nextToken: next };
}

/** Deep copy through JSON-compatible values, keeping Date objects. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** An operation's decoded JSON input. */
export type Input = Record<string, unknown>;
