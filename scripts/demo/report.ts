/**
 * The demo's HTML page, one self-contained file for a person who would rather look than read:
 * the stages with their verdicts, a timeline of every step, the blue/green deployment of
 * production stage by stage, and the job summaries the actions wrote. It renders with the fonts
 * of a bare machine (result marks are inline SVG, never emoji), keeps every table inside the
 * page's column (long digests and tags wrap), and says where times are shown that local-aws ran
 * AWS's timers faster.
 */
import { markdownToHtml } from '../../packages/workflow/src/markdown-html';
import type {
  Conclusion,
  JobResult,
  StepResult,
  WorkflowRun,
} from '../../packages/workflow/src/runner';
import { emojiToMarks, mark, type MarkKind } from './marks';
import { BLUE_GREEN_STAGES, type WatchedRollout } from './watch-rollouts';

/** One stage of the demo: its workflow runs, or a plain statement of why it could not run. */
export interface PageStage {
  title: string;
  /** `passed`/`failed` as expected by the stage (a caught broken release is a pass). */
  verdict: 'passed' | 'failed' | 'not run';
  /** One sentence: what happened, or why the stage could not run. `code` reads as code. */
  note: string;
  runs: WorkflowRun[];
  /** Epoch ms when the stage began (absent when it did not run). */
  startedAt?: number;
  durationMs?: number;
}

/** Everything the page shows. */
export interface DemoPage {
  title: string;
  stages: PageStage[];
  /** How many times faster local-aws ran AWS's timers (health checks, draining, bake). */
  timeScale: number;
  /** Service deployments watched from outside the pipeline (production's blue/green ones). */
  rollouts: WatchedRollout[];
  generatedAt: Date;
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Lets long tokens of rendered HTML (ARNs, URLs, S3 keys) wrap after `/`, `:` and `@`, so a
 * table column holding one can be narrower than the token, while short words stay whole.
 * Only text between tags is touched.
 */
export function breakLongTokens(html: string): string {
  return html
    .split(/(<[^>]*>)/)
    .map((part, i) =>
      i % 2
        ? part
        : part.replace(/[^\s<>]{24,}/g, (token) => token.replace(/([/:@])(?=.)/g, '$1<wbr>')),
    )
    .join('');
}

/** Escaped text with `backticks` as code, long tokens breakable. */
const withCode = (s: string): string =>
  breakLongTokens(escapeHtml(s).replace(/`([^`]+)`/g, '<code>$1</code>'));

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}\u00a0s`;

const VERDICT_MARK: Record<PageStage['verdict'], MarkKind> = {
  passed: 'success',
  failed: 'failure',
  'not run': 'skipped',
};

const conclusionMark = (c: Conclusion): string => mark(c, c);

function flattenJobs(jobs: JobResult[]): JobResult[] {
  return jobs.flatMap((j) => (j.called ? flattenJobs(j.called.jobs) : [j]));
}

/**
 * How a run ended as a reader would say it: a run in which no job ran was skipped, whatever
 * the runner's overall result says.
 */
export function runConclusion(run: WorkflowRun): Conclusion {
  const jobs = flattenJobs(run.jobs);
  return jobs.length && jobs.every((j) => j.result === 'skipped') ? 'skipped' : run.result;
}

/** Minutes as people say them: `10-minute`, `1-minute`, `1.5-minute`. */
const minutesAdjective = (m: number): string => `${Number(m.toFixed(2))}-minute`;

/** The bake of a watched blue/green deployment: configured minutes and the time it took here. */
function measuredBake(rollouts: WatchedRollout[]): { minutes: number; ms: number } | undefined {
  for (const r of rollouts) {
    const at = r.stages.findIndex((s) => s.stage === 'BAKE_TIME');
    const next = r.stages[at + 1];
    if (at >= 0 && next && r.bakeTimeInMinutes)
      return { minutes: r.bakeTimeInMinutes, ms: next.seenAt - r.stages[at].seenAt };
  }
  return undefined;
}

/**
 * The time scale in one short sentence, for every place that shows times: `Timers ×60: the
 * 10-minute bake took 10.0 s.`, measured when a bake was watched, else what a bake would take.
 */
export function timeScaleNote(timeScale: number, rollouts: WatchedRollout[]): string {
  if (timeScale === 1) return 'Timers at real speed: times are those of AWS.';
  const bake = measuredBake(rollouts);
  const example = bake
    ? `the ${minutesAdjective(bake.minutes)} bake took ${secs(bake.ms)}`
    : `a 10-minute bake takes ${secs((10 * 60_000) / timeScale)}`;
  return `Timers ×${timeScale}: ${example}.`;
}

/** What the time scale means, said once at the top of the page. */
function timeScaleExplained(timeScale: number): string {
  return timeScale === 1
    ? ''
    : ` Times on this page are wall-clock times of this run. local-aws ran every ECS and ELB delay (health-check intervals, deregistration delays, bake times) ${timeScale} times faster; the actions' own waits (the health gate's observe window and timeout) and the time processes take to start are real.`;
}

function stagesTable(stages: PageStage[]): string {
  const rows = stages
    .map(
      (s) =>
        `<tr class="${s.verdict.replace(' ', '-')}"><td class="verdict">${mark(VERDICT_MARK[s.verdict], s.verdict)} ${s.verdict}</td><td>${escapeHtml(s.title)}</td><td>${withCode(s.note)}</td><td class="time">${s.durationMs !== undefined && (s.verdict !== 'not run' || s.durationMs) ? secs(s.durationMs) : ''}</td></tr>`,
    )
    .join('');
  return `<div class="table-wrap"><table class="stages"><thead><tr><th>Result</th><th>Stage</th><th>What happened</th><th>Time</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function timeline(stages: PageStage[]): string {
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
    return `<div class="row"><span class="label" title="${escapeHtml(s.label)}">${escapeHtml(s.label)}</span><span class="track"><span class="bar ${s.outcome}" style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%" title="${(s.ms / 1000).toFixed(1)} s"></span></span><span class="ms">${secs(s.ms)}</span></div>`;
  };
  const rows = groups
    .map((g) => `<div class="group">${escapeHtml(g.title)}</div>\n${g.rows.map(row).join('\n')}`)
    .join('\n');
  return `<div class="timeline">${rows}</div><p class="muted">${secs(t1 - t0)} from the first step to the last.</p>`;
}

// How a service deployment's status reads; any other status (a rollback) is a failure.
const ROLLOUT_MARK: Record<string, MarkKind> = {
  SUCCESSFUL: 'success',
  PENDING: 'skipped',
  IN_PROGRESS: 'skipped',
  STOP_REQUESTED: 'cancelled',
  STOPPED: 'cancelled',
};

/** The stages of one watched deployment, with the ones that passed between two looks. */
function rolloutSection(r: WatchedRollout, page: DemoPage): string {
  const timeScale = page.timeScale;
  const during = page.stages.findIndex(
    (s) =>
      s.startedAt !== undefined &&
      r.createdAt >= s.startedAt &&
      r.createdAt <= s.startedAt + (s.durationMs ?? 0),
  );
  const seen = new Map(r.stages.map((s, i) => [s.stage, i]));
  const order: string[] = [...BLUE_GREEN_STAGES];
  for (const s of r.stages) if (!order.includes(s.stage)) order.push(s.stage);
  const end = r.finishedAt;
  const rows = order.map((stage) => {
    const i = seen.get(stage);
    if (i === undefined) {
      const passed =
        r.stages.some((s) => order.indexOf(s.stage) > order.indexOf(stage)) || end !== undefined;
      return `<tr class="unseen"><td class="stage"><code>${stage}</code></td><td></td><td></td><td>${passed ? `passed between two looks (under ${secs(r.intervalMs * 2)})` : 'not reached while watched'}</td></tr>`;
    }
    const s = r.stages[i];
    const until = r.stages[i + 1]?.seenAt ?? end;
    const took = until !== undefined ? secs(Math.max(0, until - s.seenAt)) : 'still running';
    const note =
      stage === 'BAKE_TIME' && r.bakeTimeInMinutes !== undefined
        ? `bake time ${r.bakeTimeInMinutes} min; timers ×${timeScale}`
        : stage === 'CLEAN_UP'
          ? `the old revision's tasks drain and stop; timers ×${timeScale}`
          : '';
    return `<tr><td class="stage"><code>${stage}</code></td><td class="time">+${secs(Math.max(0, s.seenAt - r.createdAt))}</td><td class="time">${took}</td><td>${note}</td></tr>`;
  });
  const outcome = ROLLOUT_MARK[r.status] ?? 'failure';
  const heading = [
    `${escapeHtml(r.environment)}${r.target ? ` to <code>${escapeHtml(r.target)}</code>` : ''}`,
    r.strategy ? escapeHtml(r.strategy) : '',
    `<span class="muted">${escapeHtml(r.status)}${end !== undefined ? ` after ${secs(end - r.createdAt)}` : ''}</span>`,
  ]
    .filter(Boolean)
    .join(', ');
  const stage =
    during >= 0
      ? `<p class="muted">During stage ${during + 1}: ${escapeHtml(page.stages[during].title)}</p>`
      : '';
  return `<h3>${mark(outcome, r.status)} ${heading}</h3>${stage}<div class="table-wrap"><table><thead><tr><th>Lifecycle stage</th><th>First seen</th><th>Took</th><th>Note</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function rollouts(page: DemoPage): string {
  if (!page.rollouts.length) return '<p>No blue/green deployment was watched.</p>';
  return `<p>Each service deployment of production, looked at every ${secs(page.rollouts[0].intervalMs)} from outside the pipeline. ecs-deploy returns once production traffic has shifted (<code>wait-until: traffic-shifted</code>), so its own summary below lists only the stages it saw before that; the bake and the clean-up go on while the health gate runs.</p>${page.rollouts.map((r) => rolloutSection(r, page)).join('\n')}`;
}

/**
 * A job summary as the page shows it: the Markdown rendered, its verdict emoji as SVG marks,
 * long tokens breakable, and every table in a box that never widens the page.
 */
export function summaryHtml(markdown: string): string {
  return breakLongTokens(emojiToMarks(markdownToHtml(markdown)))
    .replace(/<table>/g, '<div class="table-wrap"><table>')
    .replace(/<\/table>/g, '</table></div>');
}

function jobSection(job: JobResult): string {
  const steps = job.steps
    .map(
      (s) =>
        `<li class="${s.outcome}">${conclusionMark(s.outcome)} ${escapeHtml(s.name)} <span class="muted">${s.outcome === 'skipped' ? 'skipped' : secs(s.durationMs)}${s.replaced ? ` · ${withCode(s.replaced)}` : ''}</span>${s.error ? `<div class="error">${withCode(s.error)}</div>` : ''}</li>`,
    )
    .join('');
  const summary = job.summary.trim()
    ? `<div class="summary">${summaryHtml(job.summary)}</div>`
    : '';
  return `<section class="job"><h4>${conclusionMark(job.result)} ${escapeHtml(job.name)} <span class="muted">${escapeHtml(job.id)} · ${job.result}${job.result === 'skipped' ? '' : ` · ${secs(job.durationMs)}`}</span></h4>${job.error ? `<div class="error">${withCode(job.error)}</div>` : ''}${steps ? `<ul class="steps">${steps}</ul>` : ''}${summary}</section>`;
}

function runLine(run: WorkflowRun): string {
  const result = runConclusion(run);
  return `<p class="muted">${mark(result, result)} ${escapeHtml(run.workflow)} on <code>${escapeHtml(run.event)}</code>: ${result}${result === 'skipped' ? ' (no job ran)' : ''}</p>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1f2328}
h1{font-size:1.6rem}h3{margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:.5rem 0}.table-wrap{max-width:100%;overflow-x:auto}
td,th{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
code{overflow-wrap:anywhere}
.time,.verdict,.stage code{white-space:nowrap}.muted{color:#656d76;font-weight:normal}
.mark{width:1em;height:1em;vertical-align:-.15em;flex:none}
tr.not-run{color:#656d76}tr.unseen td{color:#656d76}
.scale{background:#fff8c5;border:1px solid #d4a72c66;padding:.4rem .7rem;border-radius:6px}
.error{color:#cf222e;white-space:pre-wrap;overflow-wrap:anywhere;margin:.2rem 0 .4rem 1.4rem}
.steps{list-style:none;padding-left:.5rem}.steps li{overflow-wrap:anywhere}
.summary{border-left:3px solid #d0d7de;padding-left:1rem;margin:.5rem 0 1rem}
pre{background:#f6f8fa;padding:.6rem;white-space:pre-wrap;overflow-wrap:anywhere}
.timeline .row{display:flex;align-items:center;gap:.5rem;font-size:12px}.timeline .label{width:38%;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.timeline .group{font-weight:600;margin:.6rem 0 .2rem}.timeline .track{position:relative;flex:1;height:10px;background:#f6f8fa}.timeline .bar{position:absolute;top:0;height:10px;background:#1a7f37}
.timeline .bar.failure{background:#cf222e}.timeline .bar.cancelled{background:#9a6700}.timeline .ms{width:4rem;text-align:right;color:#656d76;white-space:nowrap}
`;

/** Renders the whole page. */
export function renderDemoPage(page: DemoPage): string {
  const note = escapeHtml(timeScaleNote(page.timeScale, page.rollouts));
  const scale = `<p class="scale">${note}</p>`;
  const details = page.stages
    .map(
      (s) =>
        `<h3>${mark(VERDICT_MARK[s.verdict], s.verdict)} ${escapeHtml(s.title)}</h3><p>${withCode(s.note)}</p>${s.runs.map((r) => `${runLine(r)}${flattenJobs(r.jobs).map(jobSection).join('')}`).join('')}`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style>${STYLE}</style></head><body>
<h1>${escapeHtml(page.title)}</h1>
<p class="muted">Generated ${escapeHtml(page.generatedAt.toISOString())}</p>
<p class="scale">${note}${escapeHtml(timeScaleExplained(page.timeScale))}</p>
<h2>Stages</h2>
${stagesTable(page.stages)}
<h2>Timeline</h2>
${scale}
${timeline(page.stages)}
<h2>Blue/green deployments of production</h2>
${scale}
${rollouts(page)}
<h2>Jobs and their summaries</h2>
${scale}
${details}
</body></html>
`;
}
