// One job of steps: its environment, each step with its `if:`, then the post steps of the
// actions that have one, in reverse order; the job's outputs and summary.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  conditionSource,
  evaluateExpression,
  interpolate,
  parseExpression,
  stringify,
  truthy,
  usesStatusFunction,
  type Contexts,
  type ExprValue,
  type StatusFunctions,
} from '../expressions';
import type { Job, Workflow } from '../model';
import { slug } from './context';
import { stateEnvironment } from './environment';
import { runNode } from './process';
import { runStep, type PendingPost } from './step';
import type { JobResult, RunState, StepResult } from './types';

/** Runs a job of steps and its post steps. */
export async function runStepsJob(
  state: RunState,
  wf: Workflow,
  job: Job,
  ctx: Contexts,
  key: string,
  name: string,
): Promise<JobResult> {
  const started = Date.now();
  const jobDir = join(state.opts.outDir, key.replace(/\//g, '--'));
  mkdirSync(jobDir, { recursive: true });
  const summaryPath = join(jobDir, 'summary.md');
  writeFileSync(summaryPath, '');
  const environment =
    typeof job.environment === 'object' && job.environment
      ? stringify(interpolate((job.environment as { name?: string }).name ?? '', ctx))
      : job.environment !== undefined
        ? stringify(interpolate(job.environment, ctx))
        : undefined;
  const github = { ...state.github, job: key.split('/').pop()! };
  let env: Record<string, string> = {};
  const envCtx = (): Contexts => ({
    ...ctx,
    github,
    env,
    steps: stepsCtx,
    job: { status: failed ? 'failure' : 'success' },
    runner: { os: 'Linux', arch: 'X64', temp: state.runnerTemp, name: 'local' },
  });
  const stepsCtx: Record<string, ExprValue> = {};
  let failed = false;
  for (const [k, v] of Object.entries(wf.env ?? {})) env[k] = stringify(interpolate(v, envCtx()));
  for (const [k, v] of Object.entries(job.env ?? {})) env[k] = stringify(interpolate(v, envCtx()));
  const extraPath: string[] = [];
  const steps: StepResult[] = [];
  const posts: PendingPost[] = [];
  const status: StatusFunctions = {
    success: () => !failed && !state.cancelled(),
    failure: () => failed,
    cancelled: () => state.cancelled(),
  };

  const stepList = job.steps ?? [];
  for (let i = 0; i < stepList.length; i++) {
    const step = stepList[i];
    const id = step.id ?? `__${i + 1}`;
    const label =
      step.name !== undefined
        ? stringify(interpolate(step.name, envCtx()))
        : (step.uses ?? (step.run ?? '').split('\n')[0].slice(0, 60));
    const cond = conditionSource(step.if);
    let run = status.success();
    if (cond) {
      const node = parseExpression(cond);
      const value = evaluateExpression(cond, envCtx(), { status, workspace: state.workspace });
      run = usesStatusFunction(node) ? truthy(value) : status.success() && truthy(value);
    }
    const logPath = join(
      jobDir,
      `${String(i + 1).padStart(2, '0')}-${slug(state.masker.mask(label))}.log`,
    );
    if (!run) {
      const r: StepResult = {
        id,
        name: label,
        uses: step.uses,
        stage: 'main',
        outcome: 'skipped',
        conclusion: 'skipped',
        outputs: {},
        annotations: [],
        startedAt: Date.now(),
        durationMs: 0,
        log: logPath,
      };
      writeFileSync(logPath, `skipped${cond ? ` (if: ${cond})` : ''}\n`);
      steps.push(r);
      stepsCtx[id] = { outcome: 'skipped', conclusion: 'skipped', outputs: {} };
      continue;
    }
    state.opts.onEvent?.({ type: 'step-start', job: key, step: label });
    const stepEnv: Record<string, string> = { ...env };
    const result = await runStep(state, {
      step,
      id,
      label,
      logPath,
      key,
      jobDir,
      summaryPath,
      env: stepEnv,
      envCtx,
      github,
      extraPath,
      posts,
      environment,
    });
    const continueOnError = truthy(interpolate(step['continue-on-error'] ?? false, envCtx()));
    result.conclusion =
      result.outcome === 'failure' && continueOnError ? 'success' : result.outcome;
    if (result.conclusion === 'failure' || result.outcome === 'cancelled') failed = true;
    const { envChanges, ...kept } = result;
    steps.push(kept);
    stepsCtx[id] = {
      outcome: result.outcome,
      conclusion: result.conclusion,
      outputs: result.outputs,
    };
    // GITHUB_ENV additions of the step apply to the steps after it.
    env = { ...env, ...envChanges };
    state.opts.onEvent?.({
      type: 'step-end',
      job: key,
      step: label,
      outcome: result.outcome,
      durationMs: result.durationMs,
      error: result.error,
    });
  }

  // Post steps, in reverse order.
  for (const post of posts.reverse()) {
    const node = parseExpression(post.condition);
    const value = evaluateExpression(post.condition, envCtx(), { status });
    if (!(usesStatusFunction(node) ? truthy(value) : status.success() && truthy(value))) continue;
    const label = `Post ${post.label}`;
    const logPath = join(jobDir, `${String(steps.length + 1).padStart(2, '0')}-${slug(label)}.log`);
    state.opts.onEvent?.({ type: 'step-start', job: key, step: label });
    const r = await runNode(state, {
      file: post.file,
      env: { ...post.env, ...stateEnvironment(post.state) },
      logPath,
      key,
      label,
      summaryPath,
      extraPath,
    });
    const result: StepResult = {
      id: `post-${post.id}`,
      name: label,
      uses: post.action,
      stage: 'post',
      outcome: r.outcome,
      conclusion: r.outcome,
      outputs: {},
      error: r.error,
      annotations: r.annotations,
      startedAt: r.startedAt,
      durationMs: r.durationMs,
      log: logPath,
    };
    if (r.outcome === 'failure') failed = true;
    steps.push(result);
    state.opts.onEvent?.({
      type: 'step-end',
      job: key,
      step: label,
      outcome: r.outcome,
      durationMs: r.durationMs,
      error: r.error,
    });
  }

  const outputs: Record<string, string> = {};
  for (const [k, v] of Object.entries(job.outputs ?? {})) {
    const value = stringify(interpolate(v, envCtx()));
    outputs[k] = value;
  }
  return {
    id: key,
    name,
    result: state.cancelled() ? 'cancelled' : failed ? 'failure' : 'success',
    outputs,
    steps,
    summary: state.masker.mask(readFileSync(summaryPath, 'utf8')),
    startedAt: started,
    durationMs: Date.now() - started,
    environment,
  };
}
