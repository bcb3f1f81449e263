/** One measured figure of `npm run bench`, with its target and whether it was met. */
export interface BenchRow {
  name: string;
  value: number;
  /** For a median of repeated runs: the range of the runs (`min–max`), shown beside it. */
  spread?: string;
  unit: string;
  target: string;
  ok: boolean;
}
