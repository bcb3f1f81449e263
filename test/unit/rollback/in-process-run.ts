/**
 * Runs an action's `run(deps)` in the test process as the runner would start it: inputs as
 * `INPUT_*` variables, outputs and the job summary through the runner's command files, the log
 * on stdout. What the step wrote is read back with the local workflow runner's own parsers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOutputLine } from '../../../packages/workflow/src/commands';
import {
  createCommandFiles,
  inputEnvironment,
  readCommandFiles,
} from '../../../packages/workflow/src/runner/environment';

/** What one in-process run of an action left behind. */
export interface InProcessRun {
  /** `process.exitCode` after the run: 1 when the action failed, undefined when it passed. */
  exitCode: number | string | undefined;
  outputs: Record<string, string>;
  summary: string;
  /** Every line printed, workflow commands included. */
  lines: string[];
  /** The `::error::` annotations, unescaped (the run wrapper reports a failure as one). */
  errors: string[];
  /** The `::warning::` annotations, unescaped. */
  warnings: string[];
}

/**
 * Runs `run` with `inputs` (by their action.yml names) and `env` on top of a copy of the test
 * process's environment (other `INPUT_*` variables removed); restores the environment, stdout
 * and the exit code afterwards.
 */
export async function runInProcess(
  run: () => Promise<void>,
  inputs: Record<string, string>,
  env: Record<string, string | undefined> = {},
): Promise<InProcessRun> {
  const saved = process.env;
  const dir = mkdtempSync(join(tmpdir(), 'action-in-process-'));
  const files = createCommandFiles(dir);
  const next: NodeJS.ProcessEnv = { ...saved };
  for (const name of Object.keys(next)) if (name.startsWith('INPUT_')) delete next[name];
  Object.assign(next, files, { GITHUB_WORKSPACE: dir }, inputEnvironment(inputs));
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete next[name];
    else next[name] = value;
  }
  process.env = next;
  let stdout = '';
  const writeSpy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    stdout += String(chunk);
    return true;
  });
  try {
    await run();
    const exitCode = process.exitCode;
    const written = readCommandFiles(files);
    const lines = stdout.split(/\r?\n/);
    const annotations = (level: 'error' | 'warning'): string[] =>
      lines.flatMap((line) => {
        const parsed = parseOutputLine(line);
        return parsed.kind === 'annotation' && parsed.level === level ? [parsed.text] : [];
      });
    return {
      exitCode,
      outputs: written.outputs,
      summary: written.summary,
      lines,
      errors: annotations('error'),
      warnings: annotations('warning'),
    };
  } finally {
    writeSpy.mockRestore();
    process.env = saved;
    process.exitCode = undefined;
    rmSync(dir, { recursive: true, force: true });
  }
}
