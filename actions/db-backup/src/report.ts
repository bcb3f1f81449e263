import { markdownSafe } from '../../../packages/kit/src/log-text';
import { SummaryBuilder, type Verdict } from '../../../packages/kit/src/summary';
import type { RetentionDecision } from '../../../packages/backup/src/retention';
import type { CountRow } from '../../../packages/backup/src/verify';

/** What one run found, for the job summary; every mode fills it in as it goes. */
export interface Report {
  verdict: Verdict;
  headline: string;
  /** Rows of the facts table; values are Markdown (text from outside already escaped). */
  facts: [string, unknown][];
  retention?: RetentionDecision[];
  /** Header of the retention table's id column. */
  retentionOf?: 'Object' | 'Snapshot';
  counts?: CountRow[];
  notes: string[];
}

/** An empty report. */
export function newReport(): Report {
  return { verdict: 'success', headline: '', facts: [], notes: [] };
}

/** Writes the job summary of a run (with `failure`, the one line the run failed with). */
export async function writeSummary(
  opts: { mode: string; environment: string; dryRun: boolean },
  report: Report,
  failure?: string,
): Promise<void> {
  const s = new SummaryBuilder(`Database backup (${opts.mode})`);
  s.verdict(failure ? 'failure' : report.verdict, failure ? 'failed' : report.headline);
  if (failure) s.text(markdownSafe(failure));
  s.facts([['Environment', opts.environment], ...report.facts]);
  if (report.notes.length) s.list(report.notes);
  if (report.counts?.length === 0) {
    s.heading('Row counts');
    s.text('The restored database holds no tables, like the source: nothing to count.');
  } else if (report.counts) {
    s.heading('Row counts');
    s.table(
      ['Table', 'Source', 'Restored', ''],
      report.counts.map((r) => [
        markdownSafe(r.table),
        r.source ?? '–',
        r.restored ?? '–',
        r.dataLeftOut ? '✓ data left out by pg-dump-args' : r.ok ? '✓' : '✗',
      ]),
    );
  }
  if (report.retention) {
    s.heading(`Retention${opts.dryRun ? ' (dry run: nothing deleted)' : ''}`);
    s.table(
      ['#', report.retentionOf ?? 'Object', 'Time', 'Decision', 'Why'],
      report.retention.map((d) => [
        d.rank,
        markdownSafe(d.id),
        d.lastModified.toISOString(),
        d.action === 'delete' ? (opts.dryRun ? 'would delete' : 'deleted') : 'kept',
        d.reason,
      ]),
    );
  }
  await s.write();
}
