// The environment the Actions runner gives a step's process, and the command files it reads back
// (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STATE, GITHUB_STEP_SUMMARY). The local runner
// and the tests that run one action use this one module.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFileCommands } from '../commands';
import { stringify, type ExprValue } from '../expressions';

/** The paths of a step's command files, by the variable that names each. */
export interface CommandFiles {
  GITHUB_OUTPUT: string;
  GITHUB_ENV: string;
  GITHUB_PATH: string;
  GITHUB_STATE: string;
  GITHUB_STEP_SUMMARY: string;
}

/** What a step wrote to its command files. */
export interface CommandFileContents {
  outputs: Record<string, string>;
  /** `GITHUB_ENV` additions, for the steps after it. */
  env: Record<string, string>;
  /** `GITHUB_PATH` additions, in the order written. */
  path: string[];
  state: Record<string, string>;
  summary: string;
}

/** Creates empty command files in `dir` (created when missing). */
export function createCommandFiles(dir: string): CommandFiles {
  mkdirSync(dir, { recursive: true });
  const files: CommandFiles = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_PATH: join(dir, 'path'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  return files;
}

/** Reads back what a step wrote to its command files. */
export function readCommandFiles(files: CommandFiles): CommandFileContents {
  return {
    outputs: parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    env: parseFileCommands(readFileSync(files.GITHUB_ENV, 'utf8')),
    path: readFileSync(files.GITHUB_PATH, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean),
    state: parseFileCommands(readFileSync(files.GITHUB_STATE, 'utf8')),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
  };
}

/** The variable an action reads input `name` from: `INPUT_<NAME>`, hyphens kept. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/** `INPUT_*` variables for inputs given by their action.yml names. */
export function inputEnvironment(inputs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [inputVariable(k), v]));
}

/** `STATE_*` variables handing a main step's saved state to its post step. */
export function stateEnvironment(state: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v]));
}

/** Facts the runner's variables describe. */
export interface RunnerFacts {
  workspace: string;
  runnerTemp: string;
  /** The run's `github` context; without it only the runner's own variables are set. */
  github?: Record<string, ExprValue>;
  /** The job's id (`GITHUB_JOB`). */
  job?: string;
}

/** The `CI`, `GITHUB_*` and `RUNNER_*` variables the runner sets for every step. */
export function runnerEnvironment(facts: RunnerFacts): Record<string, string> {
  const env: Record<string, string> = {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: facts.workspace,
  };
  const g = facts.github;
  if (g) {
    Object.assign(env, {
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
      GITHUB_EVENT_PATH: stringify(g.event_path),
      GITHUB_WORKFLOW: stringify(g.workflow),
      ...(facts.job ? { GITHUB_JOB: facts.job } : {}),
      GITHUB_SERVER_URL: stringify(g.server_url),
      GITHUB_API_URL: stringify(g.api_url),
      GITHUB_GRAPHQL_URL: stringify(g.graphql_url),
    });
  }
  return {
    ...env,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'shipkit-local',
    RUNNER_TEMP: facts.runnerTemp,
  };
}
