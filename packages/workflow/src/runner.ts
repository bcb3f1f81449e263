/**
 * Runs a workflow's jobs on this machine, the way the Actions runner would: jobs in `needs`
 * order (matrix expanded, reusable workflows called), each step with its `if:`, `env` and
 * `with` evaluated. shipkit's actions run their committed bundles (`dist/<x>/`) and post steps;
 * `run:` steps run in bash; `actions/checkout` and `actions/setup-node` use the local tree and
 * Node; `aws-actions/configure-aws-credentials` is replaced by settings pointing the AWS SDK at
 * local stand-ins. Every step's log and every job summary are written to a folder.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Masker, parseFileCommands, parseOutputLine } from './commands';
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
} from './expressions';
import {
  declaredInputs,
  declaredOutputs,
  loadActionMeta,
  loadWorkflow,
  needsOf,
  resolveReusableWorkflow,
  shipkitActionOf,
  type Job,
  type Step,
  type Workflow,
  type WorkflowInput,
} from './model';

/** How a job or step ended. */
export type Conclusion = 'success' | 'failure' | 'cancelled' | 'skipped';

/** What the runner reports while it works (for progress lines). */
export type RunnerEvent =
  | { type: 'job-start'; job: string; name: string }
  | { type: 'job-end'; job: string; name: string; result: Conclusion; durationMs: number }
  | { type: 'step-start'; job: string; step: string }
  | {
      type: 'step-end';
      job: string;
      step: string;
      outcome: Conclusion;
      durationMs: number;
      error?: string;
    }
  | {
      type: 'log';
      job: string;
      step: string;
      line: string;
      level?: 'error' | 'warning' | 'notice';
    };

/** Settings of a local run. */
export interface RunnerOptions {
  /** shipkit's repository root: where `actions/<x>/action.yml` and `dist/<x>/` are. */
  root: string;
  /** The repository the workflow runs for (`GITHUB_WORKSPACE`); default `root`. */
  workspace?: string;
  /** Event that triggered the run: `push`, `workflow_dispatch`, `workflow_run`, `schedule`. */
  event: string;
  /** `workflow_dispatch` inputs (`--input k=v`). */
  inputs?: Record<string, string>;
  vars?: Record<string, string>;
  secrets?: Record<string, string>;
  /** Run only these jobs (by id); the others are reported as skipped. */
  jobs?: string[];
  /** Folder for logs, summaries and `run.json`. */
  outDir: string;
  /**
   * Environment that replaces `aws-actions/configure-aws-credentials`: endpoints of the local
   * stand-ins and their credentials (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, …). When absent
   * the step fails instead of reaching AWS.
   */
  awsEnv?: Record<string, string>;
  /** Extra environment for every step (e.g. `GITHUB_API_URL` of a local fake). */
  env?: Record<string, string>;
  /** Git facts; read from the workspace's git repository when not given. */
  sha?: string;
  ref?: string;
  repository?: string;
  actor?: string;
  /** Payload of a `workflow_run` event's run (merged over a successful run of this commit). */
  workflowRun?: Record<string, ExprValue>;
  onEvent?: (event: RunnerEvent) => void;
  signal?: AbortSignal;
}

/** One step's result. */
export interface StepResult {
  id: string;
  name: string;
  uses?: string;
  /** `main`, or `post` for a post step. */
  stage: 'main' | 'post';
  outcome: Conclusion;
  conclusion: Conclusion;
  outputs: Record<string, string>;
  error?: string;
  annotations: { level: string; text: string }[];
  startedAt: number;
  durationMs: number;
  log: string;
  /** What the local runner did instead of the real action, when it replaced it. */
  replaced?: string;
}

/** One job's result (a matrix instance, or a reusable-workflow job with the called jobs). */
export interface JobResult {
  id: string;
  name: string;
  result: Conclusion;
  outputs: Record<string, string>;
  steps: StepResult[];
  /** Job summary (Markdown) written by its steps. */
  summary: string;
  startedAt: number;
  durationMs: number;
  environment?: string;
  /** For a job that calls a reusable workflow: the called workflow's jobs. */
  called?: { path: string; jobs: JobResult[] };
  matrix?: Record<string, ExprValue>;
  /** Why the job could not run at all (a bad input, a missing reusable workflow). */
  error?: string;
}

/** A whole run. */
export interface WorkflowRun {
  workflow: string;
  path: string;
  event: string;
  result: Conclusion;
  jobs: JobResult[];
  startedAt: number;
  durationMs: number;
  outDir: string;
}

interface RunState {
  opts: RunnerOptions;
  root: string;
  workspace: string;
  masker: Masker;
  github: Record<string, ExprValue>;
  eventPath: string;
  runnerTemp: string;
  baseEnv: Record<string, string>;
  cancelled: () => boolean;
}

const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60) || 'step';

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

function eventPayload(
  opts: RunnerOptions,
  wf: Workflow,
  g: { sha: string; ref: string; refName: string; repository: string },
): Record<string, ExprValue> {
  const repository = {
    full_name: g.repository,
    name: g.repository.split('/')[1] ?? g.repository,
    default_branch: 'main',
  };
  switch (opts.event) {
    case 'push':
      return { ref: g.ref, after: g.sha, head_commit: { id: g.sha }, repository };
    case 'workflow_dispatch':
      return { ref: g.ref, inputs: { ...(opts.inputs ?? {}) }, repository };
    case 'workflow_run': {
      const spec = wf.on.workflow_run as { workflows?: string[] } | null;
      return {
        action: 'completed',
        repository,
        workflow_run: {
          name: spec?.workflows?.[0] ?? '',
          conclusion: 'success',
          status: 'completed',
          head_sha: g.sha,
          head_branch: g.refName,
          event: 'push',
          ...(opts.workflowRun ?? {}),
        },
      };
    }
    case 'schedule': {
      const cron = (wf.on.schedule as { cron?: string }[] | undefined)?.[0]?.cron ?? '';
      return { schedule: cron, repository };
    }
    default:
      return { repository };
  }
}

/** Coerces inputs to their declared types, applies defaults and checks required ones. */
function resolveInputs(
  declared: Record<string, WorkflowInput>,
  given: Record<string, ExprValue>,
  where: string,
  contexts: Contexts,
): Record<string, ExprValue> {
  const out: Record<string, ExprValue> = {};
  const lower = new Map(Object.keys(given).map((k) => [k.toLowerCase(), k]));
  for (const key of Object.keys(given))
    if (!Object.keys(declared).some((d) => d.toLowerCase() === key.toLowerCase()))
      throw new Error(
        `${where}: \`${key}\` is not an input (inputs: ${Object.keys(declared).join(', ') || 'none'})`,
      );
  for (const [name, spec] of Object.entries(declared)) {
    const key = lower.get(name.toLowerCase());
    let value: ExprValue | undefined = key !== undefined ? given[key] : undefined;
    if (value === undefined || value === null) {
      if (spec.required && spec.default === undefined)
        throw new Error(`${where}: required input \`${name}\` is not given`);
      value = spec.default === undefined ? null : interpolate(spec.default, contexts);
    }
    if (spec.type === 'boolean') {
      if (typeof value === 'string') {
        if (!/^(true|false)$/i.test(value))
          throw new Error(`${where}: input \`${name}\` must be true or false, got \`${value}\``);
        value = value.toLowerCase() === 'true';
      }
      value = value === null ? false : value;
    } else if (spec.type === 'number') {
      const n = Number(value);
      if (value !== null && Number.isNaN(n))
        throw new Error(`${where}: input \`${name}\` must be a number`);
      value = value === null ? null : n;
    } else if (spec.type === 'choice') {
      if (value !== null && spec.options && !spec.options.includes(stringify(value)))
        throw new Error(
          `${where}: input \`${name}\` must be one of ${spec.options.join(', ')}, got \`${stringify(value)}\``,
        );
    } else if (value !== null && typeof value !== 'string') value = stringify(value);
    out[name] =
      value ?? (spec.type === 'string' || spec.type === 'choice' || !spec.type ? '' : null);
  }
  return out;
}

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

/** Runs a workflow file locally. */
export async function runWorkflow(path: string, opts: RunnerOptions): Promise<WorkflowRun> {
  const wf = loadWorkflow(path);
  const root = resolve(opts.root);
  const workspace = resolve(opts.workspace ?? root);
  mkdirSync(opts.outDir, { recursive: true });
  const sha = opts.sha ?? git(['rev-parse', 'HEAD'], workspace) ?? '0'.repeat(40);
  const branch = git(['rev-parse', '--abbrev-ref', 'HEAD'], workspace);
  const ref = opts.ref ?? `refs/heads/${branch && branch !== 'HEAD' ? branch : 'main'}`;
  const refName = ref.replace(/^refs\/(heads|tags)\//, '');
  const repository = opts.repository ?? `local/${slug(workspace.split('/').pop() ?? 'repo')}`;
  const events = Object.keys(wf.on);
  if (!events.includes(opts.event))
    throw new Error(`${path}: does not run on \`${opts.event}\` (it runs on ${events.join(', ')})`);
  const runnerTemp = join(opts.outDir, '.runner-temp');
  mkdirSync(runnerTemp, { recursive: true });
  const payload = eventPayload(opts, wf, { sha, ref, refName, repository });
  const eventPath = join(runnerTemp, 'event.json');
  writeFileSync(eventPath, JSON.stringify(payload, null, 2));
  const runId = String(Date.now());
  const github: Record<string, ExprValue> = {
    event_name: opts.event,
    event: payload,
    sha,
    ref,
    ref_name: refName,
    ref_type: 'branch',
    repository,
    repository_owner: repository.split('/')[0],
    actor: opts.actor ?? process.env.USER ?? 'local',
    triggering_actor: opts.actor ?? process.env.USER ?? 'local',
    run_id: runId,
    run_number: '1',
    run_attempt: '1',
    workflow: wf.name ?? path,
    server_url: 'https://github.com',
    api_url: opts.env?.GITHUB_API_URL ?? 'https://api.github.com',
    graphql_url: 'https://api.github.com/graphql',
    workspace,
    event_path: eventPath,
    token: '',
    base_ref: '',
    head_ref: '',
  };
  const baseEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(GITHUB_|INPUT_|STATE_|RUNNER_|ACTIONS_|AWS_)/.test(k)) continue;
    baseEnv[k] = v;
  }
  const masker = new Masker();
  for (const v of Object.values(opts.secrets ?? {})) masker.add(v);
  const state: RunState = {
    opts,
    root,
    workspace,
    masker,
    github,
    eventPath,
    runnerTemp,
    baseEnv,
    cancelled: () => opts.signal?.aborted ?? false,
  };
  const started = Date.now();
  let inputs: Record<string, ExprValue> = {};
  if (opts.event === 'workflow_dispatch')
    inputs = resolveInputs(
      declaredInputs(wf, 'workflow_dispatch'),
      opts.inputs ?? {},
      `${path} (workflow_dispatch)`,
      { github, vars: opts.vars ?? {} },
    );
  else if (opts.inputs && Object.keys(opts.inputs).length)
    throw new Error(`--input is only for workflow_dispatch runs (this run is \`${opts.event}\`)`);
  const jobs = await runJobs(state, wf, inputs, opts.secrets ?? {}, '', opts.jobs);
  const run: WorkflowRun = {
    workflow: wf.name ?? path,
    path,
    event: opts.event,
    result: jobs.some((j) => j.result === 'failure')
      ? 'failure'
      : jobs.some((j) => j.result === 'cancelled')
        ? 'cancelled'
        : 'success',
    jobs,
    startedAt: started,
    durationMs: Date.now() - started,
    outDir: opts.outDir,
  };
  writeFileSync(join(opts.outDir, 'run.json'), masker.mask(JSON.stringify(run, null, 2)));
  return run;
}

async function runJobs(
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
    result: jobs.some((j) => j.result === 'failure')
      ? 'failure'
      : jobs.some((j) => j.result === 'cancelled')
        ? 'cancelled'
        : 'success',
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

interface PendingPost {
  id: string;
  action: string;
  file: string;
  condition: string;
  state: Record<string, string>;
  env: Record<string, string>;
  label: string;
}

async function runStepsJob(
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
      env: {
        ...post.env,
        ...Object.fromEntries(Object.entries(post.state).map(([k, v]) => [`STATE_${k}`, v])),
      },
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

interface StepRun {
  step: Step;
  id: string;
  label: string;
  logPath: string;
  key: string;
  jobDir: string;
  summaryPath: string;
  env: Record<string, string>;
  envCtx: () => Contexts;
  github: Record<string, ExprValue>;
  extraPath: string[];
  posts: PendingPost[];
  environment?: string;
}

type StepOutcome = StepResult & { envChanges: Record<string, string> };

async function runStep(state: RunState, s: StepRun): Promise<StepOutcome> {
  const started = Date.now();
  const base = ({
    state: _state,
    ...over
  }: Partial<StepOutcome> & { state?: unknown }): StepOutcome => ({
    id: s.id,
    name: s.label,
    uses: s.step.uses,
    stage: 'main',
    outcome: 'success',
    conclusion: 'success',
    outputs: {},
    annotations: [],
    startedAt: started,
    durationMs: Date.now() - started,
    log: s.logPath,
    envChanges: {},
    ...over,
  });
  const fail = (message: string): StepOutcome => {
    writeFileSync(s.logPath, `${message}\n`);
    state.opts.onEvent?.({ type: 'log', job: s.key, step: s.label, line: message, level: 'error' });
    return base({
      outcome: 'failure',
      error: message,
      annotations: [{ level: 'error', text: message }],
    });
  };
  let stepEnv: Record<string, string>;
  let withValues: Record<string, string>;
  try {
    stepEnv = { ...s.env };
    for (const [k, v] of Object.entries(s.step.env ?? {}))
      stepEnv[k] = stringify(interpolate(v, { ...s.envCtx(), env: stepEnv }));
    withValues = {};
    for (const [k, v] of Object.entries(s.step.with ?? {}))
      withValues[k] = stringify(interpolate(v, { ...s.envCtx(), env: stepEnv }));
  } catch (error) {
    return fail((error as Error).message);
  }

  if (s.step.run !== undefined) {
    let script: string;
    try {
      script = stringify(interpolate(s.step.run, { ...s.envCtx(), env: stepEnv }));
    } catch (error) {
      return fail((error as Error).message);
    }
    const scriptPath = join(state.runnerTemp, `${randomUUID()}.sh`);
    writeFileSync(scriptPath, script);
    const shell = s.step.shell ?? 'bash';
    const argv =
      shell === 'sh'
        ? ['sh', '-e', scriptPath]
        : shell === 'bash'
          ? ['bash', '--noprofile', '--norc', '-eo', 'pipefail', scriptPath]
          : shell.replace('{0}', scriptPath).split(/\s+/);
    const cwd = s.step['working-directory']
      ? resolve(state.workspace, s.step['working-directory'])
      : state.workspace;
    const r = await runProcess(state, {
      argv,
      env: stepEnv,
      cwd,
      logPath: s.logPath,
      key: s.key,
      label: s.label,
      summaryPath: s.summaryPath,
      extraPath: s.extraPath,
      timeoutMinutes: Number(s.step['timeout-minutes'] ?? 0),
    });
    return base({ ...r, outputs: r.outputs, envChanges: r.envChanges });
  }

  const uses = (s.step.uses ?? '').trim();
  const action = shipkitActionOf(uses);
  if (action) {
    const metaPath = join(state.root, 'actions', action, 'action.yml');
    if (!existsSync(metaPath))
      return fail(`shipkit action \`${action}\` does not exist (no actions/${action}/action.yml)`);
    const meta = loadActionMeta(metaPath);
    const actionDir = dirname(metaPath);
    const main = meta.runs?.main ? resolve(actionDir, meta.runs.main) : '';
    if (!main || !existsSync(main))
      return fail(
        `the bundle of \`${action}\` is not built (${meta.runs?.main ?? 'no runs.main'}): run npm run build`,
      );
    const inputEnv: Record<string, string> = {};
    try {
      for (const [name, spec] of Object.entries(meta.inputs ?? {})) {
        const givenKey = Object.keys(withValues).find(
          (k) => k.toLowerCase() === name.toLowerCase(),
        );
        const value =
          givenKey !== undefined
            ? withValues[givenKey]
            : spec?.default !== undefined
              ? stringify(interpolate(spec.default, { ...s.envCtx(), env: stepEnv }))
              : '';
        inputEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
      }
    } catch (error) {
      return fail((error as Error).message);
    }
    for (const k of Object.keys(withValues))
      if (!Object.keys(meta.inputs ?? {}).some((n) => n.toLowerCase() === k.toLowerCase()))
        appendFileSync(
          s.logPath,
          `warning: unexpected input \`${k}\` (not in ${action}'s action.yml)\n`,
        );
    const env = { ...stepEnv, ...inputEnv, GITHUB_ACTION: s.id, GITHUB_ACTION_PATH: actionDir };
    const r = await runNode(state, {
      file: main,
      env,
      logPath: s.logPath,
      key: s.key,
      label: s.label,
      summaryPath: s.summaryPath,
      extraPath: s.extraPath,
      timeoutMinutes: Number(s.step['timeout-minutes'] ?? 0),
    });
    if (meta.runs?.post) {
      s.posts.push({
        id: s.id,
        action: uses,
        file: resolve(actionDir, meta.runs.post),
        condition: conditionSource(meta.runs['post-if'] ?? 'always()') || 'always()',
        state: r.state,
        env,
        label: s.label,
      });
    }
    return base({ ...r, envChanges: r.envChanges });
  }

  const name = uses.split('@')[0].toLowerCase();
  if (name === 'actions/checkout') {
    const note = `replaced locally: the workspace is the local tree ${state.workspace}${withValues.ref ? ` (ref \`${withValues.ref}\` not checked out)` : ''}`;
    writeFileSync(s.logPath, `${note}\n`);
    return base({ replaced: note });
  }
  if (name === 'actions/setup-node') {
    const note = `replaced locally: using this machine's Node ${process.version} (asked for ${withValues['node-version'] || 'the default'})`;
    writeFileSync(s.logPath, `${note}\n`);
    return base({ replaced: note });
  }
  if (name === 'aws-actions/configure-aws-credentials') {
    const awsEnv = state.opts.awsEnv;
    if (!awsEnv || !Object.keys(awsEnv).some((k) => k.startsWith('AWS_ENDPOINT_URL')))
      return fail(
        'no local AWS endpoint is configured (set AWS_ENDPOINT_URL to the local stand-in): refusing to reach AWS',
      );
    const region = withValues['aws-region'] || awsEnv.AWS_REGION || 'us-east-1';
    const changes: Record<string, string> = {
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      ...awsEnv,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
    };
    const note = `replaced locally: instead of assuming ${withValues['role-to-assume'] || 'a role'} by OIDC, the AWS SDK points at ${Object.entries(
      awsEnv,
    )
      .filter(([k]) => k.startsWith('AWS_ENDPOINT_URL'))
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')} in ${region}`;
    writeFileSync(s.logPath, `${note}\n`);
    return base({
      replaced: note,
      envChanges: changes,
      outputs: { 'aws-account-id': awsEnv.AWS_ACCOUNT_ID ?? '000000000000' },
    });
  }
  return fail(
    `\`${uses}\` is not available in the local runner (it runs shipkit's actions, run: steps, checkout, setup-node and configure-aws-credentials)`,
  );
}

interface ProcessRun {
  argv?: string[];
  file?: string;
  env: Record<string, string>;
  cwd?: string;
  logPath: string;
  key: string;
  label: string;
  summaryPath: string;
  extraPath: string[];
  timeoutMinutes?: number;
}

interface ProcessResult {
  outcome: Conclusion;
  outputs: Record<string, string>;
  state: Record<string, string>;
  envChanges: Record<string, string>;
  annotations: { level: string; text: string }[];
  error?: string;
  startedAt: number;
  durationMs: number;
}

function runNode(state: RunState, p: ProcessRun): Promise<ProcessResult> {
  return runProcess(state, { ...p, argv: [process.execPath, p.file!] });
}

async function runProcess(state: RunState, p: ProcessRun): Promise<ProcessResult> {
  const startedAt = Date.now();
  const dir = join(state.runnerTemp, randomUUID());
  mkdirSync(dir, { recursive: true });
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_PATH: join(dir, 'path'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const g = state.github;
  const env: Record<string, string> = {
    ...state.baseEnv,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: state.workspace,
    GITHUB_SHA: stringify(g.sha),
    GITHUB_REF: stringify(g.ref),
    GITHUB_REF_NAME: stringify(g.ref_name),
    GITHUB_REF_TYPE: 'branch',
    GITHUB_REPOSITORY: stringify(g.repository),
    GITHUB_REPOSITORY_OWNER: stringify(g.repository_owner),
    GITHUB_RUN_ID: stringify(g.run_id),
    GITHUB_RUN_NUMBER: '1',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTOR: stringify(g.actor),
    GITHUB_TRIGGERING_ACTOR: stringify(g.actor),
    GITHUB_EVENT_NAME: stringify(g.event_name),
    GITHUB_EVENT_PATH: state.eventPath,
    GITHUB_WORKFLOW: stringify(g.workflow),
    GITHUB_JOB: p.key.split('/').pop()!,
    GITHUB_SERVER_URL: stringify(g.server_url),
    GITHUB_API_URL: stringify(g.api_url),
    GITHUB_GRAPHQL_URL: stringify(g.graphql_url),
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'shipkit-local',
    RUNNER_TEMP: state.runnerTemp,
    ...(state.opts.env ?? {}),
    ...p.env,
    ...files,
  };
  if (p.extraPath.length) env.PATH = [...p.extraPath, env.PATH ?? ''].join(':');
  const log: string[] = [];
  const annotations: { level: string; text: string }[] = [];
  const setOutputs: Record<string, string> = {};
  const savedState: Record<string, string> = {};
  const child = spawn(p.argv![0], p.argv!.slice(1), {
    cwd: p.cwd ?? state.workspace,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onAbort = (): void => {
    child.kill('SIGTERM');
  };
  state.opts.signal?.addEventListener('abort', onAbort);
  let timedOut = false;
  const timer =
    p.timeoutMinutes && p.timeoutMinutes > 0
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGTERM');
        }, p.timeoutMinutes * 60_000)
      : undefined;
  const handle = (line: string, stream: 'stdout' | 'stderr'): void => {
    const parsed = parseOutputLine(line);
    switch (parsed.kind) {
      case 'mask':
        state.masker.add(parsed.value);
        return;
      case 'annotation': {
        const text = state.masker.mask(parsed.text);
        annotations.push({ level: parsed.level, text });
        log.push(`${parsed.level}: ${text}`);
        state.opts.onEvent?.({
          type: 'log',
          job: p.key,
          step: p.label,
          line: text,
          level: parsed.level,
        });
        return;
      }
      case 'debug':
        log.push(`debug: ${state.masker.mask(parsed.text)}`);
        return;
      case 'group':
        log.push(`▸ ${state.masker.mask(parsed.title)}`);
        state.opts.onEvent?.({
          type: 'log',
          job: p.key,
          step: p.label,
          line: `▸ ${state.masker.mask(parsed.title)}`,
        });
        return;
      case 'endgroup':
        return;
      case 'set-output':
        setOutputs[parsed.name] = parsed.value;
        return;
      case 'save-state':
        savedState[parsed.name] = parsed.value;
        return;
      case 'text': {
        const text = state.masker.mask(parsed.text);
        log.push(stream === 'stderr' ? text : text);
        state.opts.onEvent?.({ type: 'log', job: p.key, step: p.label, line: text });
      }
    }
  };
  const pump = (stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr'): Promise<void> =>
    new Promise((done) => {
      let buffer = '';
      stream.on('data', (d: Buffer) => {
        buffer += d.toString();
        let at: number;
        while ((at = buffer.indexOf('\n')) >= 0) {
          handle(buffer.slice(0, at).replace(/\r$/, ''), name);
          buffer = buffer.slice(at + 1);
        }
      });
      stream.on('end', () => {
        if (buffer) handle(buffer, name);
        done();
      });
    });
  const pumps = Promise.all([pump(child.stdout!, 'stdout'), pump(child.stderr!, 'stderr')]);
  const code = await new Promise<number | null>((done) => {
    child.on('error', (error) => {
      log.push(`cannot start ${p.argv![0]}: ${error.message}`);
      done(127);
    });
    child.on('close', (c) => done(c));
  });
  await pumps;
  if (timer) clearTimeout(timer);
  state.opts.signal?.removeEventListener('abort', onAbort);
  const outputs = {
    ...setOutputs,
    ...parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
  };
  const envChanges = parseFileCommands(readFileSync(files.GITHUB_ENV, 'utf8'));
  for (const line of readFileSync(files.GITHUB_PATH, 'utf8').split('\n'))
    if (line.trim()) p.extraPath.unshift(line.trim());
  const stateOut = {
    ...savedState,
    ...parseFileCommands(readFileSync(files.GITHUB_STATE, 'utf8')),
  };
  const summary = readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8');
  if (summary)
    appendFileSync(
      p.summaryPath,
      state.masker.mask(summary.endsWith('\n') ? summary : `${summary}\n`),
    );
  const cancelled = state.cancelled();
  let error: string | undefined;
  if (code !== 0) {
    error =
      annotations
        .filter((a) => a.level === 'error')
        .map((a) => a.text)
        .join('\n') ||
      (timedOut
        ? `timed out after ${p.timeoutMinutes} minutes`
        : cancelled
          ? 'cancelled'
          : `exited with code ${code ?? 'null (killed)'}`);
  }
  log.push(
    code === 0
      ? '(exit 0)'
      : `(exit ${code ?? 'killed'}${error ? `: ${error.split('\n')[0]}` : ''})`,
  );
  writeFileSync(p.logPath, `${log.join('\n')}\n`);
  return {
    outcome: code === 0 ? 'success' : cancelled ? 'cancelled' : 'failure',
    outputs,
    state: stateOut,
    envChanges,
    annotations,
    error,
    startedAt,
    durationMs: Date.now() - startedAt,
  };
}
