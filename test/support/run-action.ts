import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseFileCommands } from '../../packages/workflow/src/commands';
import {
  createCommandFiles,
  inputEnvironment,
  readCommandFiles,
  runnerEnvironment,
  stateEnvironment,
} from '../../packages/workflow/src/runner/environment';

export const ROOT = resolve(__dirname, '..', '..');
/** tsx's loader by URL, so that a `.ts` script runs from any working directory. */
const TSX = pathToFileURL(require.resolve('tsx')).href;

export interface ActionRun {
  /** Process exit code (null when killed by a signal). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Outputs written to GITHUB_OUTPUT. */
  outputs: Record<string, string>;
  /** Contents of GITHUB_STEP_SUMMARY. */
  summary: string;
  /** The `::error::` message, when the action failed. */
  error?: string;
  /** State saved with `core.saveState` (GITHUB_STATE), for a later post step. */
  state: Record<string, string>;
  /** Values registered with `::add-mask::`. */
  masked: string[];
  durationMs: number;
}

export interface RunOptions {
  /** Inputs by their action.yml names; passed as INPUT_* variables like the runner does. */
  inputs?: Record<string, string>;
  env?: Record<string, string | undefined>;
  /** Working directory of the action process (GITHUB_WORKSPACE too). */
  cwd?: string;
  /** Called with the child process once started (e.g. to send SIGTERM). */
  onStart?: (child: import('node:child_process').ChildProcess) => void;
  /** Kills the action after this long (safety net; default 5 minutes). */
  killAfterMs?: number;
  /** `index` (default) or `post`. */
  entry?: string;
  /** A script to run instead of the bundle (`.ts` through tsx), e.g. a tiny action of a test. */
  script?: string;
  /** State saved by the main step (`core.saveState`), handed to a post step as `STATE_*`. */
  state?: Record<string, string>;
}

/** Parses a GITHUB_OUTPUT / GITHUB_STATE file; the local workflow runner's parser is the one source. */
export { parseFileCommands };

let sharedRunnerTemp: string | undefined;
/** One RUNNER_TEMP per test process, kept until it exits so tests can read reports written there. */
function runnerTemp(): string {
  if (!sharedRunnerTemp) {
    const dir = mkdtempSync(join(tmpdir(), 'shipkit-runner-temp-'));
    sharedRunnerTemp = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return sharedRunnerTemp;
}

/**
 * Runs a committed action bundle (`dist/<action>/index.js`) as a child process, the way the
 * Actions runner does: the local workflow runner's environment (`CI`, `GITHUB_ACTIONS`,
 * `RUNNER_*`), inputs as `INPUT_*`, outputs, state and summary through its command files.
 */
export async function runAction(action: string, opts: RunOptions = {}): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), `shipkit-${action}-`));
  const files = createCommandFiles(dir);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('INPUT_') && !k.startsWith('GITHUB_')) env[k] = v;
  }
  Object.assign(
    env,
    runnerEnvironment({ workspace: opts.cwd ?? ROOT, runnerTemp: runnerTemp() }),
    inputEnvironment(opts.inputs ?? {}),
    stateEnvironment(opts.state ?? {}),
    files,
  );
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const started = Date.now();
  const entry = opts.script ?? join(ROOT, 'dist', action, `${opts.entry ?? 'index'}.js`);
  const child = spawn(
    process.execPath,
    entry.endsWith('.ts') ? ['--import', TSX, entry] : [entry],
    {
      cwd: opts.cwd ?? ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  opts.onStart?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 300_000);
  const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
  clearTimeout(killer);
  const written = readCommandFiles(files);
  const run: ActionRun = {
    code,
    stdout,
    stderr,
    outputs: written.outputs,
    summary: written.summary,
    state: written.state,
    error: /^::error::(.*)$/m.exec(stdout)?.[1]?.replace(/%0A/g, '\n').replace(/%25/g, '%'),
    masked: [...stdout.matchAll(/^::add-mask::(.*)$/gm)].map((m) => m[1]),
    durationMs: Date.now() - started,
  };
  rmSync(dir, { recursive: true, force: true });
  return run;
}
