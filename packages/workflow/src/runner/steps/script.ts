// A `run:` step: the script, evaluated, in bash (or the step's `shell`).
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runProcess } from '../process';
import type { StepKindRun, StepOutcome } from '../step';

/** Runs a `run:` step. */
export async function runScriptStep(run: StepKindRun): Promise<StepOutcome> {
  const { state, s, stepEnv } = run;
  let script: string;
  try {
    script = run.evaluate(s.step.run);
  } catch (error) {
    return run.fail((error as Error).message);
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
  return run.done({ ...r, outputs: r.outputs, envChanges: r.envChanges });
}
