// Summaries of repeated measurements for the bench tables.

/** The median of `values` (the lower middle one for an even count). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

/** `min–max` of `values`, each with `digits` decimals: the spread shown beside a median. */
export function spread(values: number[], digits = 2): string {
  return `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
}
