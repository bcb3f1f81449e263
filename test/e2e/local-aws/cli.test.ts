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

test('`local-aws --log-requests` prints one line per request: service, operation, status, ms', async () => {
  const child = spawn(BIN, ['--port', '0', '--log-requests'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const wake: (() => void)[] = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of wake.splice(0)) w();
  });
  child.once('close', () => {
    for (const w of wake.splice(0)) w();
  });
  const waitFor = async (pattern: RegExp): Promise<RegExpExecArray> => {
    for (;;) {
      const m = pattern.exec(out);
      if (m) return m;
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${out}`);
      await new Promise<void>((w) => wake.push(w));
    }
  };
  try {
    const [, endpoint] = await waitFor(/^local-aws listening on (http:\/\/127\.0\.0\.1:\d+)$/m);
    expect((await fetch(`${endpoint}/_local/health`)).status).toBe(200);
    expect((await fetch(`${endpoint}/nowhere`)).status).toBe(404);
    await waitFor(/^- - 404 \d+ms$/m);
    expect(out.split('\n').slice(1, 3)).toEqual([
      expect.stringMatching(/^local GetHealth 200 \d+ms$/),
      expect.stringMatching(/^- - 404 \d+ms$/),
    ]);
  } finally {
    const exited = new Promise((resolve) => child.once('close', resolve));
    child.kill('SIGTERM');
    await exited;
  }
});

test.each([
  [['--help'], 0, /^usage: local-aws \[--port 4566\].*\[--log-requests\]/],
  [['--log-requests=yes'], 2, /`--log-requests` takes no value/],
  [['--bogus'], 2, /unknown argument `--bogus`/],
  [['--port', 'x'], 2, /`--port` must be an integer between 0 and 65535/],
])('local-aws %j exits %d', (args, code, message) => {
  const run = spawnSync(BIN, args, { encoding: 'utf8', timeout: 20_000 });
  expect(run.status).toBe(code);
  expect(`${run.stdout}${run.stderr}`).toMatch(message);
});
