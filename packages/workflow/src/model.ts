/**
 * Workflow and action metadata files as the runner and the checks read them, and how a `uses:`
 * reference maps to shipkit's own actions and to local reusable workflows.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';

/** One step of a job. */
export interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  if?: unknown;
  'continue-on-error'?: unknown;
  'working-directory'?: string;
  'timeout-minutes'?: unknown;
}

/** One job of a workflow: steps of its own, or a call of a reusable workflow (`uses`). */
export interface Job {
  name?: string;
  needs?: string | string[];
  if?: unknown;
  'runs-on'?: unknown;
  environment?: unknown;
  permissions?: unknown;
  concurrency?: unknown;
  outputs?: Record<string, string>;
  env?: Record<string, unknown>;
  defaults?: { run?: { shell?: string; 'working-directory'?: string } };
  steps?: Step[];
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: 'inherit' | Record<string, unknown>;
  strategy?: { matrix?: unknown; 'fail-fast'?: unknown; 'max-parallel'?: unknown };
  'timeout-minutes'?: unknown;
  'continue-on-error'?: unknown;
}

/** An input of `workflow_call` or `workflow_dispatch`. */
export interface WorkflowInput {
  description?: string;
  type?: string;
  required?: boolean;
  default?: unknown;
  options?: string[];
}

/** A parsed workflow file. */
export interface Workflow {
  /** Path of the file it was read from. */
  path: string;
  name?: string;
  on: Record<string, unknown>;
  env?: Record<string, unknown>;
  defaults?: { run?: { shell?: string; 'working-directory'?: string } };
  permissions?: unknown;
  concurrency?: unknown;
  jobs: Record<string, Job>;
}

/** An action's `action.yml`, the parts the runner and the checks use. */
export interface ActionMeta {
  name?: string;
  description?: string;
  branding?: { icon?: string; color?: string };
  inputs?: Record<string, { description?: string; required?: boolean; default?: unknown } | null>;
  outputs?: Record<string, { description?: string } | null>;
  runs?: { using?: string; main?: string; post?: string; pre?: string; 'post-if'?: string };
}

/** Normalises `on:` (a string, a list or a map) into a map of event → settings. */
function normaliseOn(on: unknown): Record<string, unknown> {
  if (typeof on === 'string') return { [on]: null };
  if (Array.isArray(on)) return Object.fromEntries(on.map((e) => [String(e), null]));
  if (on && typeof on === 'object') return on as Record<string, unknown>;
  return {};
}

/** Parses workflow YAML text. */
export function parseWorkflow(text: string, path: string): Workflow {
  const doc = parse(text) as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object')
    throw new Error(`${path}: not a workflow (empty or not a map)`);
  if (!doc.jobs || typeof doc.jobs !== 'object') throw new Error(`${path}: no \`jobs\``);
  return {
    ...(doc as object),
    path,
    on: normaliseOn(doc.on),
    jobs: doc.jobs as Record<string, Job>,
  };
}

/** Reads and parses a workflow file. */
export function loadWorkflow(path: string): Workflow {
  return parseWorkflow(readFileSync(path, 'utf8'), resolve(path));
}

/** Reads an action's metadata file. */
export function loadActionMeta(path: string): ActionMeta {
  return (parse(readFileSync(path, 'utf8')) ?? {}) as ActionMeta;
}

const SHIPKIT_REMOTE = /^[^/\s]+\/shipkit\/actions\/([a-z0-9][a-z0-9-]*)@\S+$/;
const SHIPKIT_LOCAL = /^\.\/actions\/([a-z0-9][a-z0-9-]*)\/?$/;

/**
 * The shipkit action a `uses:` names — `./actions/<x>` or `<owner>/shipkit/actions/<x>@<ref>` —
 * or undefined for anything else.
 */
export function shipkitActionOf(uses: string | undefined): string | undefined {
  if (!uses) return undefined;
  return (SHIPKIT_REMOTE.exec(uses.trim()) ?? SHIPKIT_LOCAL.exec(uses.trim()))?.[1];
}

/**
 * The file a job's `uses: ./.github/workflows/<f>.yml` calls. The path is looked up from the
 * repository root first; when the caller is not itself in `.github/workflows` (the examples
 * folder), the file of that name beside the caller is used, as it is once both are copied.
 */
export function resolveReusableWorkflow(
  uses: string,
  callerPath: string,
  root: string,
): string | undefined {
  const m = /^\.\/(.+\.ya?ml)$/.exec(uses.trim());
  if (!m) return undefined;
  const fromRoot = join(root, m[1]);
  if (existsSync(fromRoot)) return fromRoot;
  const beside = join(dirname(callerPath), m[1].split('/').pop()!);
  return existsSync(beside) ? beside : undefined;
}

/** The declared inputs of a workflow for an event (`workflow_call`, `workflow_dispatch`). */
export function declaredInputs(workflow: Workflow, event: string): Record<string, WorkflowInput> {
  const spec = workflow.on[event] as { inputs?: Record<string, WorkflowInput | null> } | null;
  const out: Record<string, WorkflowInput> = {};
  for (const [k, v] of Object.entries(spec?.inputs ?? {})) out[k] = v ?? {};
  return out;
}

/** The outputs a reusable workflow declares (`on.workflow_call.outputs`). */
export function declaredOutputs(
  workflow: Workflow,
): Record<string, { description?: string; value?: string }> {
  const spec = workflow.on.workflow_call as { outputs?: Record<string, { value?: string }> } | null;
  return spec?.outputs ?? {};
}

/** The list form of `needs:`. */
export function needsOf(job: Job): string[] {
  if (!job.needs) return [];
  return Array.isArray(job.needs) ? job.needs.map(String) : [String(job.needs)];
}
