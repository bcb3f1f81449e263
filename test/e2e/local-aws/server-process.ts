/**
 * local-aws in a process of its own, running its command line: a crash or a blocked event loop
 * then shows as a dead or silent server instead of a stuck test worker. Each process runs a
 * bundle of the command in a temporary directory of its own, so parallel workers never read a
 * bundle another one is still writing (as they could with the bin's shared `lib/cli.js`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { ROOT } from '../../support/run-action';

/** Bundles the command line into a new temporary directory; returns the bundle's path. */
function bundleCli(dir: string): string {
  const file = join(dir, 'cli.js');
  buildSync({
    entryPoints: [join(ROOT, 'packages', 'local-aws', 'src', 'cli.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'error',
  });
  return file;
}

/** A running local-aws process. */
export interface LocalAwsProcess {
  endpoint: string;
  /** Why the process ended (exit code or signal and the end of its stderr), while it runs: undefined. */
  exited(): string | undefined;
  /** `/_local/health` answers 200: the process is alive and its event loop free. */
  healthy(): Promise<boolean>;
  /** SIGTERM, or SIGKILL when its event loop is stuck; resolves once it is gone. */
  stop(): Promise<void>;
}

/** Starts local-aws on a free port and resolves once it listens. */
export async function startLocalAwsProcess(): Promise<LocalAwsProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'local-aws-cli-'));
  const child = spawn(
    process.execPath,
    ['-e', `require(${JSON.stringify(bundleCli(dir))}).run()`, 'local-aws', '--port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  let exitedWith: string | undefined;
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<void>((resolve) =>
    child.on('close', (code, signal) => {
      exitedWith = `${code ?? signal}: ${err.slice(-2000)}`;
      rmSync(dir, { recursive: true, force: true });
      resolve();
    }),
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^local-aws listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('close', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
  });
  return {
    endpoint,
    exited: () => exitedWith,
    async healthy() {
      if (exitedWith !== undefined) return false;
      const res = await fetch(`${endpoint}/_local/health`, { headers: { connection: 'close' } });
      return res.status === 200;
    },
    async stop() {
      if (exitedWith !== undefined) return;
      child.kill('SIGTERM');
      // A process whose event loop is blocked never runs its SIGTERM handler.
      const stuck = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await closed;
      clearTimeout(stuck);
    },
  };
}
