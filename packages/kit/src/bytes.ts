/** Binary units after bytes, as shipkit prints sizes. */
const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** Options of {@link formatBytes}. */
export interface FormatBytesOptions {
  /** Append the exact count, `1.50 KiB (1536 bytes)`, where a reader may compare it. */
  exact?: boolean;
}

/**
 * A byte count as people read it, in binary units: `512 B`, `1.50 KiB`, `12.3 MiB`, `1.00 GiB`
 * (two decimals below 10, one above, so every size shows three significant digits or more). A
 * value that would round up to 1024 of a unit is shown in the next one (`1.00 MiB`, never
 * `1024.0 KiB`). With `exact`, sizes of 1 KiB and more end with the count in bytes.
 */
export function formatBytes(bytes: number, options: FormatBytesOptions = {}): string {
  if (!Number.isFinite(bytes) || bytes < 0) return `${bytes} bytes`;
  const n = Math.round(bytes);
  if (n < 1024) return `${n} B`;
  let value = n / 1024;
  let unit = 0;
  let text = value.toFixed(value < 10 ? 2 : 1);
  while (Number(text) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
    text = value.toFixed(value < 10 ? 2 : 1);
  }
  if (Number(text) >= 10 && text.endsWith('.00')) text = Number(text).toFixed(1);
  const shown = `${text} ${UNITS[unit]}`;
  return options.exact ? `${shown} (${n} bytes)` : shown;
}
