// The order a workflow's jobs run in: `needs` first, `if:` and the needs' results decide
// whether a job runs, a matrix expands into instances, and a job that `uses:` a reusable
// workflow runs the called workflow's jobs the same way.
import {
  conditionSource,
  evaluateExpression,
  interpolate,
  interpolateDeep,
  parseExpression,
  stringify,
  truthy,
  usesStatusFunction,
  type Contexts,
  type ExprValue,
  type StatusFunctions,
} from '../expressions';
import {
  declaredInputs,
  declaredOutputs,
  loadWorkflow,
  needsOf,
  resolveReusableWorkflow,
  type Job,
  type Workflow,
} from '../model';
import { slug } from './context';
import { resolveInputs } from './inputs';
import { runStepsJob } from './job';
import type { Conclusion, JobResult, RunState } from './types';

function orderJobs(wf: Workflow): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (id: string): void => {
    if (order.includes(id)) return;
    if (visiting.has(id))
      throw new Error(`${wf.path}: jobs depend on each other in a cycle at \`${id}\``);
    visiting.add(id);
    const job = wf.jobs[id];
    if (!job) throw new Error(`${wf.path}: unknown job \`${id}\``);
    for (const n of needsOf(job)) visit(n);
    order.push(id);
  };
  Object.keys(wf.jobs).forEach(visit);
  return order;
}

function expandMatrix(matrix: ExprValue): Record<string, ExprValue>[] {
  if (!matrix || typeof matrix !== 'object' || Array.isArray(matrix)) return [{}];
  let combos: Record<string, ExprValue>[] = [{}];
  for (const [key, values] of Object.entries(matrix)) {
    if (key === 'include' || key === 'exclude') continue;
    const list = Array.isArray(values) ? values : [values];
    combos = combos.flatMap((c) => list.map((v) => ({ ...c, [key]: v })));
  }
  const matches = (c: Record<string, ExprValue>, pattern: ExprValue): boolean =>
    !!pattern &&
    typeof pattern === 'object' &&
    !Array.isArray(pattern) &&
    Object.entries(pattern).every(([k, v]) => JSON.stringify(c[k]) === JSON.stringify(v));
  const exclude = matrix.exclude;
  if (Array.isArray(exclude)) combos = combos.filter((c) => !exclude.some((e) => matches(c, e)));
  const include = matrix.include;
  if (Array.isArray(include)) {
    for (const inc of include) {
      if (!inc || typeof inc !== 'object' || Array.isArray(inc)) continue;
      const base = Object.keys(matrix).filter((k) => k !== 'include' && k !== 'exclude');
      const target = combos.find((c) =>
        base.every((k) => !(k in inc) || JSON.stringify(c[k]) === JSON.stringify(inc[k])),
      );
      if (target && base.length) Object.assign(target, inc);
      else combos.push({ ...inc });
    }
  }
  return combos.length ? combos : [{}];
}

/**
 * The result of a set of jobs: failure when one failed, else cancelled when one was, else
 * skipped when none ran, else success.
 */
export function overallResult(jobs: { result: Conclusion }[]): Conclusion {
  if (jobs.some((j) => j.result === 'failure')) return 'failure';
  if (jobs.some((j) => j.result === 'cancelled')) return 'cancelled';
  if (jobs.every((j) => j.result === 'skipped')) return 'skipped';
  return 'success';
}

/**
 * Checks a selection of jobs (`--job`) before anything runs: every id names a job, and every job
 * a selected job needs, directly or not, is selected too (a job whose needs did not run would
 * only be skipped).
 */
export function checkSelection(wf: Workflow, only: string[]): void {
  for (const id of only)
    if (!wf.jobs[id])
      throw new Error(
        `${wf.path}: there is no job \`${id}\` to select (jobs: ${Object.keys(wf.jobs).join(', ')})`,
      );
  const selected = new Set(only);
  for (const id of only) {
    const missing: string[] = [];
    const visit = (job: string): void => {
      for (const need of needsOf(wf.jobs[job] ?? {})) {
        if (!selected.has(need) && !missing.includes(need)) missing.push(need);
        visit(need);
      }
    };
    visit(id);
    if (missing.length) {
      const all = orderJobs(wf).filter((j) => j === id || missing.includes(j));
      throw new Error(
        `job \`${id}\` needs ${missing.map((m) => `\`${m}\``).join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not selected: a job runs only after the jobs it needs succeeded, so select them too (${all.map((j) => `--job ${j}`).join(' ')})`,
      );
    }
  }
}

/** Runs a workflow's jobs in order (`prefix` names the jobs of a called workflow). */
export async function runJobs(
  state: RunState,
  wf: Workflow,
  inputs: Record<string, ExprValue>,
  secrets: Record<string, string>,
  prefix: string,
  only?: string[],
): Promise<JobResult[]> {
  const results = new Map<string, JobResult>();
  const vars = state.opts.vars ?? {};
  for (const id of orderJobs(wf)) {
    const job = wf.jobs[id];
    const needs = needsOf(job);
    const needsCtx: Record<string, ExprValue> = {};
    for (const n of needs) {
      const r = results.get(n)!;
      needsCtx[n] = { result: r.result, outputs: r.outputs };
    }
    const jobKey = prefix + id;
    const name = typeof job.name === 'string' && !job.name.includes('${{') ? job.name : id;
    const skip = (why: string): void => {
      const r: JobResult = {
        id: jobKey,
        name,
        result: 'skipped',
        outputs: {},
        steps: [],
        summary: '',
        startedAt: Date.now(),
        durationMs: 0,
      };
      results.set(id, r);
      state.opts.onEvent?.({
        type: 'job-end',
        job: jobKey,
        name: `${name} (${why})`,
        result: 'skipped',
        durationMs: 0,
      });
    };
    if (only && !prefix && !only.includes(id)) {
      skip('not selected');
      continue;
    }
    const needResults = needs.map((n) => results.get(n)!.result);
    const status: StatusFunctions = {
      success: () => needResults.every((r) => r === 'success'),
      failure: () => needResults.some((r) => r === 'failure'),
      cancelled: () => state.cancelled(),
    };
    const baseCtx: Contexts = { github: state.github, inputs, vars, needs: needsCtx, secrets };
    const cond = conditionSource(job.if);
    let run = status.success() && !state.cancelled();
    if (cond) {
      const node = parseExpression(cond);
      const value = evaluateExpression(cond, baseCtx, { status });
      run = usesStatusFunction(node) ? truthy(value) : status.success() && truthy(value);
    }
    if (!run) {
      skip(cond ? `if: ${cond.replace(/\s+/g, ' ')}` : 'a needed job did not succeed');
      continue;
    }
    const strategyMatrix = job.strategy?.matrix;
    const combos =
      strategyMatrix === undefined
        ? [undefined]
        : expandMatrix(interpolateDeep(strategyMatrix, baseCtx));
    const instances: JobResult[] = [];
    for (const matrix of combos) {
      const suffix =
        matrix && Object.keys(matrix).length
          ? ` (${Object.values(matrix).map(stringify).join(', ')})`
          : '';
      const ctx: Contexts = { ...baseCtx, matrix: matrix ?? {}, strategy: { 'fail-fast': true } };
      const displayName =
        (job.name !== undefined ? stringify(interpolate(job.name, ctx)) : id) + suffix;
      const instanceKey = jobKey + (suffix ? `-${slug(suffix)}` : '');
      state.opts.onEvent?.({ type: 'job-start', job: instanceKey, name: displayName });
      const started = Date.now();
      let result: JobResult;
      try {
        result = job.uses
          ? await runCalledWorkflow(state, wf, job, ctx, secrets, instanceKey, displayName)
          : await runStepsJob(state, wf, job, ctx, instanceKey, displayName);
      } catch (error) {
        result = {
          id: instanceKey,
          name: displayName,
          result: 'failure',
          outputs: {},
          steps: [],
          summary: '',
          startedAt: started,
          durationMs: Date.now() - started,
          error: (error as Error).message,
        };
        state.opts.onEvent?.({
          type: 'log',
          job: instanceKey,
          step: '',
          line: (error as Error).message,
          level: 'error',
        });
      }
      result.matrix = matrix;
      state.opts.onEvent?.({
        type: 'job-end',
        job: instanceKey,
        name: displayName,
        result: result.result,
        durationMs: result.durationMs,
      });
      instances.push(result);
    }
    const merged =
      instances.length === 1
        ? instances[0]
        : {
            ...instances[instances.length - 1],
            id: jobKey,
            name,
            result: instances.some((i) => i.result === 'failure')
              ? ('failure' as const)
              : instances.every((i) => i.result === 'skipped')
                ? ('skipped' as const)
                : ('success' as const),
          };
    results.set(id, merged);
  }
  const out: JobResult[] = [];
  for (const id of Object.keys(wf.jobs)) {
    const r = results.get(id);
    if (r) out.push(r);
  }
  return out;
}

async function runCalledWorkflow(
  state: RunState,
  caller: Workflow,
  job: Job,
  ctx: Contexts,
  secrets: Record<string, string>,
  key: string,
  name: string,
): Promise<JobResult> {
  const started = Date.now();
  const path = resolveReusableWorkflow(job.uses!, caller.path, state.root);
  if (!path)
    throw new Error(
      `job \`${key}\`: cannot run \`${job.uses}\` locally (only reusable workflows of this repository)`,
    );
  const called = loadWorkflow(path);
  const given = (interpolateDeep(job.with ?? {}, ctx) ?? {}) as Record<string, ExprValue>;
  const inputs = resolveInputs(declaredInputs(called, 'workflow_call'), given, `${job.uses}`, ctx);
  let calledSecrets: Record<string, string> = {};
  if (job.secrets === 'inherit') calledSecrets = { ...secrets };
  else if (job.secrets && typeof job.secrets === 'object')
    for (const [k, v] of Object.entries(job.secrets))
      calledSecrets[k] = stringify(interpolate(v, ctx));
  // Environment secrets are the job's own in GitHub; locally every secret given to the run is.
  calledSecrets = { ...(state.opts.secrets ?? {}), ...calledSecrets };
  const jobs = await runJobs(state, called, inputs, calledSecrets, `${key}/`);
  const jobsCtx: Record<string, ExprValue> = {};
  for (const j of jobs) jobsCtx[j.id.split('/').pop()!] = { result: j.result, outputs: j.outputs };
  const outputs: Record<string, string> = {};
  for (const [k, spec] of Object.entries(declaredOutputs(called)))
    outputs[k] = stringify(
      interpolate(spec?.value ?? '', {
        github: state.github,
        inputs,
        vars: state.opts.vars ?? {},
        jobs: jobsCtx,
      }),
    );
  return {
    id: key,
    name,
    result: overallResult(jobs),
    outputs,
    steps: [],
    summary: jobs
      .map((j) => j.summary)
      .filter(Boolean)
      .join('\n'),
    startedAt: started,
    durationMs: Date.now() - started,
    called: { path, jobs },
  };
}
