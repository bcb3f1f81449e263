/**
 * A deep copy of plain data that keeps `Date` objects as dates of this realm (`structuredClone`
 * may make dates that fail `instanceof Date` where the JSON writer checks for them).
 */
export function copy<T>(value: T): T {
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => copy(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = copy(v);
    return out as T;
  }
  return value;
}
