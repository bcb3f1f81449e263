import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { openRingPipe, type ChunkSource, type RingOptions } from './ring-reader';

/** How a child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The result of a program run to completion. */
export interface ProgramResult extends Exit {
  stdout: string;
  stderr: string;
}

/** `pg_dump exited with code 1` / `pg_dump was killed by SIGKILL`. */
export function describeExit(program: string, exit: Exit): string {
  if (exit.signal) return `${program} was killed by ${exit.signal}`;
  return `${program} exited with code ${exit.code}`;
}

/** The most useful lines of a client's stderr: its errors, else its last lines. */
export function stderrSummary(stderr: string, maxLines = 4): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const errors = lines.filter((l) =>
    /error|fatal|failed|could not|denied|does not exist|refused/i.test(l),
  );
  return (errors.length ? errors : lines).slice(-maxLines).join(' / ');
}

/** Keeps the last `limit` characters of a stream of text. */
export class TailBuffer {
  private text = '';
  constructor(private readonly limit = 16_384) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.limit);
  }
  toString(): string {
    return this.text;
  }
}

/** Runs a program to completion, collecting its output. Never rejects for a non-zero exit. */
export function runProgram(
  exe: string,
  args: readonly string[],
  opts: {
    env?: NodeJS.ProcessEnv;
    input?: string;
    signal?: AbortSignal;
    onStderr?: (line: string) => void;
  } = {},
): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(exe, args, {
      env: opts.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: opts.signal,
    });
    let stdout = '';
    const stderr = new TailBuffer(65_536);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr.push(d);
      if (opts.onStderr)
        for (const line of d.toString().split('\n')) if (line.trim()) opts.onStderr(line);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.name === 'AbortError') return; // reported through close with a signal
      reject(error.code === 'ENOENT' ? new Error(`${exe} was not found`) : error);
    });
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout, stderr: stderr.toString() }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** A running producer (pg_dump, tar) whose stdout is the backup, gated on its exit status. */
export interface Producer {
  child: ChildProcess;
  /**
   * The program's stdout, to read instead of `child.stdout`. Where the platform allows it, a
   * local socket read into a ring of reused buffers (a `RingReader`): each chunk is valid
   * until the next one is asked for, so a consumer copies what it keeps before asking again.
   * Elsewhere a pipe buffered at once (Node resumes a child's unread stdout when the child
   * exits, and the bytes would be lost if the reader attached later).
   */
  output: ChunkSource;
  /** Resolves once the process exited, with how. */
  exit: Promise<Exit>;
  stderr: TailBuffer;
}

/**
 * Starts a producer whose stdout is read by the caller; stdin is closed. Its output is read
 * into reused buffers (`ring`) except where no local socket can be made (Windows), where it is
 * an ordinary pipe.
 */
export async function startProducer(
  exe: string,
  args: readonly string[],
  opts: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    onStderr?: (line: string) => void;
    ring?: RingOptions;
  } = {},
): Promise<Producer> {
  // Where no local socket can be made (Windows, a temporary folder that refuses one), a pipe.
  const pipe =
    process.platform === 'win32' ? undefined : await openRingPipe(opts.ring).catch(() => undefined);
  let child: ChildProcess;
  try {
    child = spawn(exe, args, {
      env: opts.env,
      cwd: opts.cwd,
      stdio: ['ignore', pipe?.writer ?? 'pipe', 'pipe'],
    });
  } finally {
    // The child holds its own copy of the writing end; the reader sees the end once it exits.
    pipe?.writer.destroy();
  }
  const stderr = new TailBuffer();
  child.stderr!.on('data', (d: Buffer) => {
    stderr.push(d);
    if (opts.onStderr)
      for (const line of d.toString().split('\n')) if (line.trim()) opts.onStderr(line);
  });
  const exit = new Promise<Exit>((resolve) => {
    child.on('error', (error: NodeJS.ErrnoException) => {
      stderr.push(error.code === 'ENOENT' ? `${exe} was not found\n` : `${error.message}\n`);
      resolve({ code: 127, signal: null });
    });
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  let output: ChunkSource;
  if (pipe) output = pipe.reader;
  else {
    // Room for the producer to run ahead while the reader is not there yet.
    const buffered = new PassThrough({ highWaterMark: 1024 * 1024 });
    child.stdout!.pipe(buffered);
    output = buffered;
  }
  return { child, exit, stderr, output };
}

/** Stops a producer whose output will not be read to the end (SIGTERM) and waits for it. */
export async function stopProducer(producer: Producer): Promise<void> {
  const child = producer.child;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  child.stdout?.destroy();
  producer.output.destroy();
  await producer.exit;
}

/** Counts bytes and keeps the first and last few of a stream, for sanity checks of a dump. */
export class ProbeStream extends Transform {
  bytes = 0;
  head = Buffer.alloc(0);
  tail = Buffer.alloc(0);
  constructor(private readonly keep = 256) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.update(chunk);
    done(null, chunk);
  }
  /** Takes a chunk into account without passing it on (when used outside a pipeline). */
  update(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.head.length < this.keep)
      this.head = Buffer.concat([this.head, chunk.subarray(0, this.keep - this.head.length)]);
    this.tail =
      chunk.length >= this.keep
        ? Buffer.from(chunk.subarray(chunk.length - this.keep))
        : Buffer.concat([this.tail, chunk]).subarray(-this.keep);
  }
}

/** Hashes and counts bytes passing through. */
export class HashStream extends Transform {
  bytes = 0;
  private readonly hash: Hash;
  constructor(algorithm = 'sha256') {
    super();
    this.hash = createHash(algorithm);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.update(chunk);
    done(null, chunk);
  }
  /** Takes a chunk into account without passing it on (when used outside a pipeline). */
  update(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
  }
  /** The hex digest; call once, after the stream ended. */
  digest(): string {
    return this.hash.digest('hex');
  }
}
