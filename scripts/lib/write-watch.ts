// Watches how a program under a process writes its output, from Linux's per-process I/O
// counters (/proc/<pid>/io `wchar`), without sitting in its pipe: the streaming window of a
// backup is measured on pg_dump itself, the same way for the shell pipeline and the action.
import { readdirSync, readFileSync } from 'node:fs';

/** What a watched program wrote, and when (monotonic milliseconds). */
export interface WriteWindow {
  /** Bytes written between the first and the last sample of the window. */
  bytes: number;
  /** First sample with at least `startAfter` bytes written. */
  firstMs: number;
  /** Sample at which the counter last moved. */
  lastMs: number;
}

export interface WriteWatch {
  /** Stops polling; the window, or undefined when the program was not seen writing. */
  stop(): WriteWindow | undefined;
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

function stat(pid: number): { comm: string; ppid: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    return {
      comm: s.slice(s.indexOf('(') + 1, close),
      ppid: Number(s.slice(close + 2).split(' ')[1]),
    };
  } catch {
    return undefined;
  }
}

function wchar(pid: number): number | undefined {
  try {
    const m = /wchar: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The newest process named `comm` descending from `root` (only pids above root's are looked at). */
function findDescendant(root: number, comm: string): number | undefined {
  const pids = readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((p) => p >= root);
  for (const pid of pids) {
    const s = stat(pid);
    if (s?.comm !== comm) continue;
    for (let p = s.ppid, depth = 0; p > 1 && depth < 4; depth++) {
      if (p === root) return pid;
      p = stat(p)?.ppid ?? 0;
    }
  }
  return undefined;
}

/**
 * Polls, every `everyMs`, the bytes written by the process named `comm` under `root`. The
 * window opens at the first sample past `startAfter` bytes (so the queries a client sends to its
 * server before its output are left out) and closes at the last sample where the count moved.
 */
export function watchWrites(
  root: number,
  comm: string,
  opts: { everyMs?: number; startAfter?: number } = {},
): WriteWatch {
  const startAfter = opts.startAfter ?? 1024 * 1024;
  let pid: number | undefined;
  let first: { ms: number; bytes: number } | undefined;
  let last: { ms: number; bytes: number } | undefined;
  const poll = (): void => {
    pid ??= findDescendant(root, comm);
    if (pid === undefined) return;
    const bytes = wchar(pid);
    // A short run of the same program (a version probe) ended before the real one started.
    if (bytes === undefined && !first) pid = undefined;
    if (bytes === undefined || bytes < startAfter) return;
    const ms = nowMs();
    first ??= { ms, bytes };
    if (!last || bytes !== last.bytes) last = { ms, bytes };
  };
  const timer = setInterval(poll, opts.everyMs ?? 5);
  return {
    stop() {
      clearInterval(timer);
      if (!first || !last || last.ms <= first.ms) return undefined;
      return { bytes: last.bytes - first.bytes, firstMs: first.ms, lastMs: last.ms };
    },
  };
}
