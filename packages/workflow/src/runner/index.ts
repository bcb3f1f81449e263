/**
 * Runs a workflow's jobs on this machine, the way the Actions runner would: jobs in `needs`
 * order (matrix expanded, reusable workflows called), each step with its `if:`, `env` and
 * `with` evaluated. shipkit's actions run their committed bundles (`dist/<x>/`) and post steps;
 * `run:` steps run in bash; `actions/checkout` and `actions/setup-node` use the local tree and
 * Node; `aws-actions/configure-aws-credentials` is replaced by settings pointing the AWS SDK at
 * local stand-ins; `slackapi/slack-github-action` POSTs its payload to a local webhook. Every
 * step's log and every job summary are written to a folder.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Masker } from '../commands';
import type { ExprValue } from '../expressions';
import { declaredInputs, loadWorkflow } from '../model';
import { eventPayload, git, slug } from './context';
import { resolveInputs } from './inputs';
import { checkSelection, overallResult, runJobs } from './jobs';
import type { RunnerOptions, RunState, WorkflowRun } from './types';

export type {
  Conclusion,
  JobResult,
  RunnerEvent,
  RunnerOptions,
  StepResult,
  WorkflowRun,
} from './types';

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
  if (opts.jobs) checkSelection(wf, opts.jobs);
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
    result: overallResult(jobs),
    jobs,
    startedAt: started,
    durationMs: Date.now() - started,
    outDir: opts.outDir,
  };
  writeFileSync(join(opts.outDir, 'run.json'), masker.mask(JSON.stringify(run, null, 2)));
  return run;
}
