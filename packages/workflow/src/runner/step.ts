// One step: its `env` and `with` evaluated, then handed to its kind: a `run:` script, a shipkit
// action, or an action the runner replaces locally.
import { writeFileSync } from 'node:fs';
import { interpolate, stringify, type Contexts, type ExprValue } from '../expressions';
import { shipkitActionOf, type Step } from '../model';
import { REPLACED_ACTIONS, replacedActionNames } from './steps/replaced';
import { runScriptStep } from './steps/script';
import { runShipkitAction } from './steps/shipkit-action';
import type { RunState, StepResult } from './types';

/** A post step an action registered, run after the job's steps. */
export interface PendingPost {
  id: string;
  action: string;
  file: string;
  condition: string;
  state: Record<string, string>;
  env: Record<string, string>;
  label: string;
}

/** Everything a step needs from its job. */
export interface StepRun {
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

/** A step's result plus the `GITHUB_ENV` changes it made for the steps after it. */
export type StepOutcome = StepResult & { envChanges: Record<string, string> };

/** What a step kind gets: the step, its evaluated `env` and `with`, and how to end. */
export interface StepKindRun {
  state: RunState;
  s: StepRun;
  /** The step's environment with its own `env:` evaluated. */
  stepEnv: Record<string, string>;
  /** The step's `with:` values, evaluated. */
  withValues: Record<string, string>;
  /** Ends the step with these fields over a successful outcome (a process's `state` is dropped). */
  done(over?: Partial<StepOutcome> & { state?: unknown }): StepOutcome;
  /** Ends the step as failed with `message` (logged and annotated). */
  fail(message: string): StepOutcome;
  /** Evaluates `${{ }}` in `text` with the step's contexts. */
  evaluate(text: unknown): string;
}

/** Runs one step of a job. */
export async function runStep(state: RunState, s: StepRun): Promise<StepOutcome> {
  const started = Date.now();
  const done = ({
    state: _state,
    ...over
  }: Partial<StepOutcome> & { state?: unknown } = {}): StepOutcome => ({
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
    return done({
      outcome: 'failure',
      error: message,
      annotations: [{ level: 'error', text: message }],
    });
  };
  const stepEnv: Record<string, string> = { ...s.env };
  const evaluate = (text: unknown): string =>
    stringify(interpolate(text as ExprValue, { ...s.envCtx(), env: stepEnv }));
  const withValues: Record<string, string> = {};
  try {
    for (const [k, v] of Object.entries(s.step.env ?? {})) stepEnv[k] = evaluate(v);
    for (const [k, v] of Object.entries(s.step.with ?? {})) withValues[k] = evaluate(v);
  } catch (error) {
    return fail((error as Error).message);
  }
  const run: StepKindRun = { state, s, stepEnv, withValues, done, fail, evaluate };

  if (s.step.run !== undefined) return runScriptStep(run);
  const uses = (s.step.uses ?? '').trim();
  const action = shipkitActionOf(uses);
  if (action) return runShipkitAction(run, action, uses);
  const replaced = REPLACED_ACTIONS[uses.split('@')[0].toLowerCase()];
  if (replaced) return replaced(run);
  return fail(
    `\`${uses}\` is not available in the local runner (it runs shipkit's actions, run: steps, ${replacedActionNames()})`,
  );
}
