/** `Marker` / `PageSize` paging of ELBv2's Describe operations, as AWS documents it. */
import { AwsError } from '../contracts';
import { qNumber, qString, type QueryParams } from '../protocol/query';

/** ELBv2's `PageSize` shape: an integer from 1 to 400. */
const MAX_PAGE_SIZE = 400;

/** One page of a listing and the marker of the next page (absent on the last page). */
export interface Page<T> {
  items: T[];
  NextMarker?: string;
}

/** The opaque marker for the page starting at `offset`. */
function markerFor(offset: number): string {
  return Buffer.from(`elb-page:${offset}`).toString('base64');
}

function offsetOf(marker: string): number {
  const m = /^elb-page:(\d{1,9})$/.exec(Buffer.from(marker, 'base64').toString('utf8'));
  if (!m) throw new AwsError('ValidationError', `The marker '${marker}' is not valid.`);
  return Number(m[1]);
}

/**
 * The page of `all` that `Marker` and `PageSize` select. Without `PageSize` the rest of the
 * listing is one page. A `PageSize` outside 1–400 or a marker no page handed out is a
 * `ValidationError`.
 */
export function pageOf<T>(all: T[], p: QueryParams): Page<T> {
  const size = qNumber(p.PageSize);
  if (size !== undefined && !(Number.isInteger(size) && size >= 1 && size <= MAX_PAGE_SIZE)) {
    throw new AwsError(
      'ValidationError',
      `1 validation error detected: Value '${String(p.PageSize)}' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and ${MAX_PAGE_SIZE}`,
    );
  }
  const marker = qString(p.Marker);
  const start = marker === undefined ? 0 : offsetOf(marker);
  const end = size === undefined ? all.length : start + size;
  const items = all.slice(start, end);
  return end < all.length ? { items, NextMarker: markerFor(end) } : { items };
}
