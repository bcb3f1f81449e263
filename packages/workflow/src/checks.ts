/**
 * Checks a workflow against the things actionlint cannot know: shipkit's own `action.yml`
 * files (unknown inputs, missing required inputs, outputs a step does not produce) and the
 * reusable workflows it calls from the same folder. Also the metadata rules every `action.yml`
 * must follow.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  conditionSource,
  contextPaths,
  parseExpression,
  splitTemplate,
  type Node,
} from './expressions';
import {
  declaredInputs,
  declaredOutputs,
  loadActionMeta,
  loadWorkflow,
  needsOf,
  resolveReusableWorkflow,
  shipkitActionOf,
  type ActionMeta,
  type Job,
  type Workflow,
} from './model';

/** Where the checks find the files a workflow refers to. */
export interface CheckContext {
  /** The metadata of shipkit action `name`, or undefined when it does not exist; throws when it cannot be read. */
  action(name: string): ActionMeta | undefined;
  /** The reusable workflow a job's `uses:` calls, or undefined when it cannot be found. */
  reusable(uses: string, caller: Workflow): Workflow | undefined;
}

/** The metadata rules that matter for a shipkit action. `exists` tells whether a path exists. */
export function checkActionMetadata(
  name: string,
  meta: ActionMeta,
  exists: (pathFromActionDir: string) => boolean,
): string[] {
  const where = `actions/${name}/action.yml`;
  const problems: string[] = [];
  if (!meta.name) problems.push(`${where}: no \`name\``);
  if (!meta.description) problems.push(`${where}: no \`description\``);
  if (meta.runs?.using !== 'node24')
    problems.push(`${where}: \`runs.using\` is \`${meta.runs?.using ?? ''}\`, not \`node24\``);
  if (meta.runs?.main !== `../../dist/${name}/index.js`)
    problems.push(`${where}: \`runs.main\` must be \`../../dist/${name}/index.js\``);
  for (const key of ['main', 'pre', 'post'] as const) {
    const file = meta.runs?.[key];
    if (file && !exists(file)) problems.push(`${where}: \`runs.${key}\` ${file} does not exist`);
  }
  for (const [input, spec] of Object.entries(meta.inputs ?? {})) {
    if (!spec?.description) problems.push(`${where}: input \`${input}\` has no description`);
    if (!spec?.required && spec?.default === undefined)
      problems.push(`${where}: optional input \`${input}\` has no \`default\``);
  }
  for (const [output, spec] of Object.entries(meta.outputs ?? {})) {
    if (!spec?.description) problems.push(`${where}: output \`${output}\` has no description`);
  }
  return problems;
}

/** Every expression in a value: `${{ }}` parts of strings, recursively. */
function expressionsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    for (const part of splitTemplate(value)) if ('expr' in part) out.push(part.expr);
  } else if (Array.isArray(value)) value.forEach((v) => expressionsIn(v, out));
  else if (value && typeof value === 'object')
    Object.values(value).forEach((v) => expressionsIn(v, out));
  return out;
}

function parsed(src: string, problems: string[], where: string): Node | undefined {
  try {
    return parseExpression(src);
  } catch (error) {
    problems.push(`${where}: ${(error as Error).message}`);
    return undefined;
  }
}

/** The paths an `if:` and a set of values read. */
function pathsOf(
  values: unknown[],
  condition: unknown,
  problems: string[],
  where: string,
): string[][] {
  const sources = expressionsIn(values);
  const cond = conditionSource(condition);
  if (cond) sources.push(cond);
  const paths: string[][] = [];
  for (const src of sources) {
    const node = parsed(src, problems, where);
    if (node) paths.push(...contextPaths(node));
  }
  return paths;
}

const lc = (s: string): string => s.toLowerCase();
const hasKey = (obj: Record<string, unknown> | undefined, key: string): boolean =>
  Object.keys(obj ?? {}).some((k) => lc(k) === lc(key));

/** What a step can be asked for: the outputs of a shipkit action, or anything (undefined). */
interface StepInfo {
  index: number;
  outputs?: string[];
  label: string;
}

function checkJobWithSteps(
  file: string,
  jobId: string,
  job: Job,
  ctx: CheckContext,
  problems: string[],
): void {
  const steps = job.steps ?? [];
  const byId = new Map<string, StepInfo>();
  steps.forEach((step, index) => {
    const label = step.id ?? step.name ?? step.uses ?? `#${index + 1}`;
    const action = shipkitActionOf(step.uses);
    let outputs: string[] | undefined;
    if (action) {
      const where = `${file}: job \`${jobId}\`, step \`${label}\``;
      let meta: ActionMeta | undefined;
      let unreadable = false;
      try {
        meta = ctx.action(action);
      } catch (error) {
        unreadable = true;
        const reason = (error as Error).message.split('\n')[0];
        problems.push(`${where}: actions/${action}/action.yml cannot be read: ${reason}`);
      }
      if (unreadable) outputs = undefined;
      else if (!meta)
        problems.push(
          `${where}: uses shipkit action \`${action}\`, which has no actions/${action}/action.yml`,
        );
      else {
        outputs = Object.keys(meta.outputs ?? {});
        const inputs = meta.inputs ?? {};
        for (const key of Object.keys(step.with ?? {})) {
          if (!hasKey(inputs, key))
            problems.push(`${where}: \`${key}\` is not an input of ${action}`);
        }
        for (const [key, spec] of Object.entries(inputs)) {
          if (spec?.required && spec.default === undefined && !hasKey(step.with, key))
            problems.push(`${where}: required input \`${key}\` of ${action} is not given`);
        }
      }
    }
    if (step.id) {
      if (byId.has(step.id))
        problems.push(`${file}: job \`${jobId}\`: step id \`${step.id}\` is used twice`);
      byId.set(step.id, { index, outputs, label });
    }
  });

  const checkStepRefs = (paths: string[][], where: string, before: number): void => {
    for (const p of paths) {
      if (p[0] !== 'steps' || p.length < 2) continue;
      const info = [...byId.entries()].find(([id]) => lc(id) === lc(p[1]))?.[1];
      if (!info) {
        problems.push(`${where}: \`steps.${p[1]}\` is not a step of job \`${jobId}\``);
        continue;
      }
      if (info.index >= before) {
        problems.push(`${where}: \`steps.${p[1]}\` is read before that step runs`);
        continue;
      }
      if (
        p[2] === 'outputs' &&
        p[3] &&
        info.outputs &&
        !info.outputs.some((o) => lc(o) === lc(p[3]))
      )
        problems.push(`${where}: step \`${p[1]}\` does not produce output \`${p[3]}\``);
    }
  };

  steps.forEach((step, index) => {
    const label = step.id ?? step.name ?? step.uses ?? `#${index + 1}`;
    const where = `${file}: job \`${jobId}\`, step \`${label}\``;
    const values = [
      step.with,
      step.env,
      step.run,
      step.name,
      step['working-directory'],
      step['continue-on-error'],
    ];
    checkStepRefs(pathsOf(values, step.if, problems, where), where, index);
  });
  const where = `${file}: job \`${jobId}\` outputs`;
  checkStepRefs(pathsOf([job.outputs], undefined, problems, where), where, steps.length);
}

/** The outputs a job makes available to `needs.<job>.outputs`, or undefined when unknown. */
function jobOutputs(job: Job, caller: Workflow, ctx: CheckContext): string[] | undefined {
  if (job.uses) {
    const called = ctx.reusable(job.uses, caller);
    return called ? Object.keys(declaredOutputs(called)) : undefined;
  }
  return Object.keys(job.outputs ?? {});
}

/**
 * Checks one workflow: shipkit steps against their action.yml, step and job output references,
 * calls of local reusable workflows against their declared inputs, and `inputs.<x>` against the
 * inputs the workflow declares. Returns one line per problem.
 */
export function checkWorkflow(workflow: Workflow, ctx: CheckContext): string[] {
  const file = workflow.path.split('/').pop()!;
  const problems: string[] = [];
  const jobIds = Object.keys(workflow.jobs);
  const declared = new Set<string>();
  let hasInputs = false;
  for (const event of ['workflow_call', 'workflow_dispatch']) {
    if (event in workflow.on) {
      hasInputs = true;
      Object.keys(declaredInputs(workflow, event)).forEach((k) => declared.add(lc(k)));
    }
  }

  for (const [jobId, job] of Object.entries(workflow.jobs)) {
    const where = `${file}: job \`${jobId}\``;
    const needs = needsOf(job);
    for (const n of needs)
      if (!jobIds.includes(n)) problems.push(`${where}: needs unknown job \`${n}\``);

    if (job.uses) {
      const called = ctx.reusable(job.uses, workflow);
      if (!called && job.uses.startsWith('./'))
        problems.push(`${where}: calls \`${job.uses}\`, which cannot be found`);
      if (called) {
        if (!('workflow_call' in called.on))
          problems.push(`${where}: \`${job.uses}\` has no \`on.workflow_call\``);
        const inputs = declaredInputs(called, 'workflow_call');
        for (const key of Object.keys(job.with ?? {}))
          if (!hasKey(inputs, key))
            problems.push(`${where}: \`${key}\` is not an input of ${job.uses}`);
        for (const [key, spec] of Object.entries(inputs))
          if (spec.required && !hasKey(job.with, key))
            problems.push(`${where}: required input \`${key}\` of ${job.uses} is not given`);
      }
    } else checkJobWithSteps(file, jobId, job, ctx, problems);

    // needs.<job>.outputs.<x> and inputs.<x>, anywhere in the job.
    const conditions = [job.if, ...(job.steps ?? []).map((s) => s.if)];
    const paths = [
      ...pathsOf([job], undefined, problems, where),
      ...conditions.flatMap((c) => pathsOf([], c, problems, where)),
    ];
    for (const p of paths) {
      if (p[0] === 'needs' && p.length >= 2) {
        if (!needs.some((n) => lc(n) === lc(p[1]))) {
          problems.push(`${where}: reads \`needs.${p[1]}\` but does not need that job`);
          continue;
        }
        const other = workflow.jobs[needs.find((n) => lc(n) === lc(p[1]))!];
        const outputs = other && jobOutputs(other, workflow, ctx);
        if (p[2] === 'outputs' && p[3] && outputs && !outputs.some((o) => lc(o) === lc(p[3])))
          problems.push(`${where}: job \`${p[1]}\` has no output \`${p[3]}\``);
      }
      if (p[0] === 'inputs' && p.length >= 2 && hasInputs && !declared.has(lc(p[1])))
        problems.push(`${where}: \`inputs.${p[1]}\` is not a declared input`);
    }
  }

  // on.workflow_call.outputs.<x>.value must read jobs.<job>.outputs.<y> that exist.
  for (const [name, spec] of Object.entries(declaredOutputs(workflow))) {
    const where = `${file}: output \`${name}\``;
    for (const p of pathsOf([spec?.value], undefined, problems, where)) {
      if (p[0] !== 'jobs') continue;
      const job = workflow.jobs[p[1]];
      if (!job) problems.push(`${where}: \`jobs.${p[1]}\` is not a job`);
      else if (p[2] === 'outputs' && p[3]) {
        const outputs = jobOutputs(job, workflow, ctx);
        if (outputs && !outputs.some((o) => lc(o) === lc(p[3])))
          problems.push(`${where}: job \`${p[1]}\` has no output \`${p[3]}\``);
      }
    }
  }
  return [...new Set(problems)];
}

/** A check context reading shipkit's actions and reusable workflows from the repository. */
export function fileCheckContext(root: string): CheckContext {
  const cache = new Map<string, ActionMeta | undefined>();
  return {
    action(name) {
      if (!cache.has(name)) {
        const path = join(root, 'actions', name, 'action.yml');
        cache.set(name, existsSync(path) ? loadActionMeta(path) : undefined);
      }
      return cache.get(name);
    },
    reusable(uses, caller) {
      const path = resolveReusableWorkflow(uses, caller.path, root);
      return path ? loadWorkflow(path) : undefined;
    },
  };
}
