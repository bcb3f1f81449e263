import { spawn } from 'node:child_process';
import { BuilderError } from './errors';

/** How a command ended. */
export interface CommandResult {
  code: number;
  /** stdout and stderr interleaved, line by line, as they arrived. */
  lines: string[];
  stdout: string;
}

/** Options of {@link runCommand}. */
export interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the command's standard input, which is then closed. */
  stdin?: string;
  /** Called for every output line (stdout and stderr). */
  onLine?: (line: string) => void;
  /** Aborting stops the command and every process it started (SIGTERM, then SIGKILL). */
  signal?: AbortSignal;
  /** Kills the command and every process it started after this long. */
  timeoutMs?: number;
  /** How long a stopped command may take to exit after SIGTERM before SIGKILL (default 3s). */
  graceMs?: number;
}

/** Runs a command; {@link runCommand}, or a fake in tests. */
export type Run = (
  command: string,
  args: string[],
  opts?: CommandOptions,
) => Promise<CommandResult>;

/** Thrown when a command cannot be started at all (not installed). */
export class CommandNotFoundError extends BuilderError {
  constructor(readonly command: string) {
    super(`\`${command}\` is not installed or not on PATH`);
    this.name = 'CommandNotFoundError';
  }
}

/** Default time a stopped command gets between SIGTERM and SIGKILL. */
export const STOP_GRACE_MS = 3000;

/**
 * Sends `sig` to the process group the command leads (it was started as its own group), so the
 * processes it started go too: a build step's shell and whatever that runs. Falls back to the
 * command alone where there is no group.
 */
function signalGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/**
 * Runs a command without a shell, collecting its output; resolves with its exit code (never
 * rejects for a non-zero code). Rejects with {@link CommandNotFoundError} when it is missing and
 * with the signal's reason when aborted. The command runs as a process group of its own: abort
 * sends SIGTERM to the whole group (SIGKILL after `graceMs`), a timeout SIGKILL, so nothing it
 * started outlives it.
 */
export function runCommand(
  command: string,
  args: string[],
  opts: CommandOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(opts.signal.reason);
    const child = spawn(command, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
    });
    const lines: string[] = [];
    let stdout = '';
    const partial = { out: '', err: '' };
    const feed = (key: 'out' | 'err', chunk: Buffer): void => {
      const text = partial[key] + chunk.toString('utf8');
      const parts = text.split(/\r?\n/);
      partial[key] = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        opts.onLine?.(line);
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      feed('out', d);
    });
    child.stderr.on('data', (d: Buffer) => feed('err', d));
    let escalation: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      signalGroup(child.pid, 'SIGTERM');
      escalation = setTimeout(
        () => signalGroup(child.pid, 'SIGKILL'),
        opts.graceMs ?? STOP_GRACE_MS,
      );
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = opts.timeoutMs
      ? setTimeout(() => signalGroup(child.pid, 'SIGKILL'), opts.timeoutMs)
      : undefined;
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      clearTimeout(escalation);
      opts.signal?.removeEventListener('abort', onAbort);
      reject(error.code === 'ENOENT' ? new CommandNotFoundError(command) : error);
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      clearTimeout(escalation);
      opts.signal?.removeEventListener('abort', onAbort);
      for (const key of ['out', 'err'] as const) {
        if (partial[key]) {
          lines.push(partial[key]);
          opts.onLine?.(partial[key]);
        }
      }
      if (opts.signal?.aborted) return reject(opts.signal.reason);
      resolve({ code: code ?? (sig ? 128 : 1), lines, stdout });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? '');
  });
}
