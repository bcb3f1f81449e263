// Runs build-and-push in this process the way the runner runs it: a temporary folder holds the
// command files (outputs, summary, state) and is the workspace, the runner's variables point at
// it, and what the action prints is captured. Shared by the unit tests that call the action's
// `run` against an in-memory ECR.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFileCommands } from '../../../packages/workflow/src/commands';

/** The current test's run: its folder, what it printed, and what it wrote. */
export interface InProcessRun {
  /** The temporary folder (workspace and command files) of the current test. */
  dir: string;
  /** Everything the action wrote to stdout in the current test. */
  stdout: string;
  /** The outputs it set. */
  outputs(): Record<string, string>;
  /** The job summary it wrote. */
  summary(): string;
}

/**
 * Registers a `beforeEach` that makes a fresh folder named `prefix…`, sets the runner's command
 * file variables and `GITHUB_WORKSPACE` to it plus `env(dir)`, and captures stdout; and an
 * `afterEach` that restores the environment and removes the folder. Call it at a test file's top.
 */
export function inProcessAction(
  prefix: string,
  env: (dir: string) => Record<string, string>,
): InProcessRun {
  let saved: NodeJS.ProcessEnv;
  let writeSpy: jest.SpyInstance;
  const current: InProcessRun = {
    dir: '',
    stdout: '',
    outputs: () => parseFileCommands(readFileSync(join(current.dir, 'output'), 'utf8')),
    summary: () => readFileSync(join(current.dir, 'summary'), 'utf8'),
  };
  beforeEach(() => {
    saved = { ...process.env };
    current.dir = mkdtempSync(join(tmpdir(), prefix));
    for (const f of ['output', 'summary', 'state']) writeFileSync(join(current.dir, f), '');
    Object.assign(process.env, {
      GITHUB_OUTPUT: join(current.dir, 'output'),
      GITHUB_STEP_SUMMARY: join(current.dir, 'summary'),
      GITHUB_STATE: join(current.dir, 'state'),
      GITHUB_WORKSPACE: current.dir,
      ...env(current.dir),
    });
    current.stdout = '';
    writeSpy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      current.stdout += String(chunk);
      return true;
    });
  });
  afterEach(() => {
    writeSpy.mockRestore();
    process.env = saved;
    process.exitCode = undefined;
    rmSync(current.dir, { recursive: true, force: true });
  });
  return current;
}
