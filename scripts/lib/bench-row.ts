/** One measured figure of `npm run bench`, with its target and whether it was met. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  target: string;
  ok: boolean;
}
