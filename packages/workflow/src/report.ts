/**
 * One self-contained HTML page of a local run, for a person who would rather look than read:
 * the stages with their verdicts, a timeline of every job and step, and the job summaries the
 * actions wrote (their Markdown rendered: headings, tables, lists, code, details).
 */
import type { Conclusion, JobResult, StepResult, WorkflowRun } from './runner';

/** One stage of a demo or a run: workflow runs, or a plain statement of why it could not run. */
export interface ReportStage {
  title: string;
  /** `passed`/`failed` as expected by the stage (a caught broken release is a pass). */
  verdict: 'passed' | 'failed' | 'not run';
  /** One sentence: what happened, or why the stage could not run. */
  note: string;
  runs: WorkflowRun[];
  startedAt?: number;
  durationMs?: number;
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function inline(text: string): string {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/\[([^\]]+)\]\((https?:[^)\s]+)\)/g, '<a href="$2">$1</a>')
    .replace(/&lt;br&gt;/g, '<br>');
}

function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|'));
}

/** Renders the Markdown that job summaries use (a safe subset: raw HTML is escaped). */
export function markdownToHtml(md: string): string {
  const lines = md.split(/\r?\n/);
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^```/.test(line)) {
      const body: string[] = [];
      for (i++; i < lines.length && !/^```/.test(lines[i]); i++) body.push(lines[i]);
      out.push(`<pre>${escapeHtml(body.join('\n'))}</pre>`);
    } else if (/^#{1,6} /.test(line)) {
      const level = Math.min(6, line.indexOf(' '));
      out.push(`<h${level}>${inline(line.replace(/^#+ /, ''))}</h${level}>`);
    } else if (/^\s*\|/.test(line) && /^\s*\|?\s*:?-{3,}/.test(lines[i + 1] ?? '')) {
      const head = cells(line);
      const rows: string[][] = [];
      for (i += 2; i < lines.length && /^\s*\|/.test(lines[i]); i++) rows.push(cells(lines[i]));
      i--;
      const th = head.some((h) => h)
        ? `<thead><tr>${head.map((h) => `<th>${inline(h)}</th>`).join('')}</tr></thead>`
        : '';
      out.push(
        `<table>${th}<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`,
      );
    } else if (/^\s*[-*] /.test(line)) {
      const items: string[] = [];
      for (; i < lines.length && /^\s*[-*] /.test(lines[i]); i++)
        items.push(`<li>${inline(lines[i].replace(/^\s*[-*] /, ''))}</li>`);
      i--;
      out.push(`<ul>${items.join('')}</ul>`);
    } else if (/^<details><summary>/.test(line)) {
      const summary = /<summary>(.*?)<\/summary>/.exec(line)?.[1] ?? 'details';
      const body: string[] = [line.replace(/^<details><summary>.*?<\/summary>/, '')];
      for (i++; i < lines.length && !lines[i - 1].includes('</details>'); i++) body.push(lines[i]);
      i--;
      const inner = body.join('\n').replace(/<\/details>\s*$/, '');
      out.push(`<details><summary>${inline(summary)}</summary>${markdownToHtml(inner)}</details>`);
    } else if (line.trim()) out.push(`<p>${inline(line)}</p>`);
  }
  return out.join('\n');
}

const ICON: Record<Conclusion, string> = {
  success: '✓',
  failure: '✗',
  cancelled: '⊘',
  skipped: '–',
};

function flattenJobs(jobs: JobResult[]): JobResult[] {
  return jobs.flatMap((j) => (j.called ? flattenJobs(j.called.jobs) : [j]));
}

function timeline(stages: ReportStage[]): string {
  type Row = { label: string; start: number; ms: number; outcome: Conclusion };
  // Rows grouped under their stage's title, labelled `job · step`, so long stage titles do not
  // crowd out the step names.
  const groups: { title: string; rows: Row[] }[] = [];
  for (const stage of stages) {
    const rows: Row[] = [];
    for (const run of stage.runs)
      for (const job of flattenJobs(run.jobs))
        for (const s of job.steps.filter((x: StepResult) => x.outcome !== 'skipped'))
          rows.push({
            label: `${job.id.split('/').pop()} · ${s.name}`,
            start: s.startedAt,
            ms: s.durationMs,
            outcome: s.outcome,
          });
    if (rows.length) groups.push({ title: stage.title, rows });
  }
  const steps = groups.flatMap((g) => g.rows);
  if (!steps.length) return '<p>No step ran.</p>';
  const t0 = Math.min(...steps.map((s) => s.start));
  const t1 = Math.max(...steps.map((s) => s.start + s.ms));
  const span = Math.max(1, t1 - t0);
  const row = (s: Row): string => {
    const left = ((s.start - t0) / span) * 100;
    const width = Math.max(0.4, (s.ms / span) * 100);
    return `<div class="row"><span class="label" title="${escapeHtml(s.label)}">${escapeHtml(s.label)}</span><span class="track"><span class="bar ${s.outcome}" style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%" title="${(s.ms / 1000).toFixed(1)} s"></span></span><span class="ms">${(s.ms / 1000).toFixed(1)} s</span></div>`;
  };
  const rows = groups
    .map((g) => `<div class="group">${escapeHtml(g.title)}</div>\n${g.rows.map(row).join('\n')}`)
    .join('\n');
  return `<div class="timeline">${rows}</div><p class="muted">${((t1 - t0) / 1000).toFixed(1)} s from the first step to the last.</p>`;
}

function jobSection(job: JobResult): string {
  const steps = job.steps
    .map(
      (s) =>
        `<li class="${s.outcome}">${ICON[s.outcome]} ${escapeHtml(s.name)} <span class="muted">${(s.durationMs / 1000).toFixed(1)} s${s.replaced ? ` · ${escapeHtml(s.replaced)}` : ''}</span>${s.error ? `<div class="error">${escapeHtml(s.error)}</div>` : ''}</li>`,
    )
    .join('');
  return `<section class="job"><h4>${ICON[job.result]} ${escapeHtml(job.name)} <span class="muted">${escapeHtml(job.id)} · ${job.result} · ${(job.durationMs / 1000).toFixed(1)} s</span></h4>${job.error ? `<div class="error">${escapeHtml(job.error)}</div>` : ''}<ul class="steps">${steps}</ul>${job.summary.trim() ? `<div class="summary">${markdownToHtml(job.summary)}</div>` : ''}</section>`;
}

/** Renders the whole page. */
export function renderReport(
  title: string,
  stages: ReportStage[],
  generatedAt = new Date(),
): string {
  const overview = stages
    .map(
      (s) =>
        `<tr class="${s.verdict.replace(' ', '-')}"><td>${s.verdict === 'passed' ? '✓' : s.verdict === 'failed' ? '✗' : '–'}</td><td>${escapeHtml(s.title)}</td><td>${escapeHtml(s.note)}</td><td>${s.durationMs !== undefined ? `${(s.durationMs / 1000).toFixed(1)} s` : ''}</td></tr>`,
    )
    .join('');
  const details = stages
    .map(
      (s) =>
        `<h3>${escapeHtml(s.title)}</h3><p>${escapeHtml(s.note)}</p>${s.runs.map((r) => `<p class="muted">${escapeHtml(r.workflow)} on <code>${escapeHtml(r.event)}</code>: ${r.result}</p>${flattenJobs(r.jobs).map(jobSection).join('')}`).join('')}`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1f2328}
h1{font-size:1.6rem}h3{margin-top:2rem;border-bottom:1px solid #d0d7de}table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}.muted{color:#656d76;font-weight:normal}
tr.passed td:first-child,.success{color:#1a7f37}tr.failed td:first-child,.failure{color:#cf222e}tr.not-run{color:#656d76}
.error{color:#cf222e;white-space:pre-wrap;margin:.2rem 0 .4rem 1.2rem}.steps{list-style:none;padding-left:.5rem}
.summary{border-left:3px solid #d0d7de;padding-left:1rem;margin:.5rem 0 1rem}pre{background:#f6f8fa;padding:.6rem;overflow:auto}
.timeline .row{display:flex;align-items:center;gap:.5rem;font-size:12px}.timeline .label{width:38%;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.timeline .group{font-weight:600;margin:.6rem 0 .2rem}.timeline .track{position:relative;flex:1;height:10px;background:#f6f8fa}.timeline .bar{position:absolute;top:0;height:10px;background:#1a7f37}
.timeline .bar.failure{background:#cf222e}.timeline .bar.cancelled{background:#9a6700}.timeline .ms{width:4rem;text-align:right;color:#656d76}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p class="muted">Generated ${escapeHtml(generatedAt.toISOString())}</p>
<h2>Stages</h2>
<table><thead><tr><th></th><th>Stage</th><th>What happened</th><th>Time</th></tr></thead><tbody>${overview}</tbody></table>
<h2>Timeline</h2>
${timeline(stages)}
<h2>Jobs and their summaries</h2>
${details}
</body></html>
`;
}
