import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../support/run-action';

// The command as `npx local-aws` runs it: through the symlink npm puts in node_modules/.bin.
const BIN = join(ROOT, 'node_modules', '.bin', 'local-aws');

test('`local-aws` through npm’s bin link prints where it listens, answers, and stops on SIGTERM', async () => {
  const child = spawn(BIN, ['--port', '0', '--time-scale', '10'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^local-aws listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('close', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
  });
  const state = await fetch(`${endpoint}/_local/state`);
  expect(state.status).toBe(200);
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
});

test.each([
  [['--help'], 0, /^usage: local-aws \[--port 4566\]/],
  [['--bogus'], 2, /unknown argument `--bogus`/],
  [['--port', 'x'], 2, /`--port` must be an integer between 0 and 65535/],
])('local-aws %j exits %d', (args, code, message) => {
  const run = spawnSync(BIN, args, { encoding: 'utf8', timeout: 20_000 });
  expect(run.status).toBe(code);
  expect(`${run.stdout}${run.stderr}`).toMatch(message);
});
