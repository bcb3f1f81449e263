// `npm run demo`: the health gate against a local service that starts healthy and then degrades,
// showing both verdicts. Everything it starts is stopped at the end, also on Ctrl-C.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'shipkit-demo-'));
let degraded = false;

const service = createServer((_req, res) => {
  if (degraded) {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'DOWN', checks: { database: { status: 'DOWN' } } }));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ status: 'UP', checks: { database: { status: 'UP' } } }));
});

function cleanup(): void {
  service.close();
  rmSync(work, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

async function gate(title: string, url: string): Promise<{ code: number; outputs: string }> {
  const output = join(work, `${title}.out`);
  const summary = join(work, `${title}.md`);
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    RUNNER_TEMP: work,
    INPUT_URL: url,
    'INPUT_EXPECT-JSON': 'status=healthy|UP\nchecks.database.status=UP',
    INPUT_INTERVAL: '300ms',
    'INPUT_HEALTHY-THRESHOLD': '2',
    'INPUT_UNHEALTHY-THRESHOLD': '3',
    INPUT_OBSERVE: '3s',
    'INPUT_MAX-ERROR-RATE': '10',
    INPUT_TIMEOUT: '10s',
  };
  console.log(`\n▶ ${title}`);
  const child = spawn(process.execPath, [join(root, 'dist', 'health-gate', 'index.js')], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) {
      if (line && !line.startsWith('::debug::') && !line.startsWith('::set-output'))
        console.log(`  ${line.replace(/^::(error|warning)::/, '$1: ')}`);
    }
  });
  const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? 1)));
  return { code, outputs: readFileSync(output, 'utf8') };
}

async function main(): Promise<void> {
  await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(service.address() as AddressInfo).port}/actuator/health`;
  console.log(`shipkit demo: a local service at ${url}`);
  const healthy = await gate('release 1: the service is healthy', url);
  // Release 2 starts healthy and degrades a second later, while the gate is observing it.
  setTimeout(() => (degraded = true), 1000);
  const broken = await gate('release 2: the service starts healthy, then degrades', url);
  console.log('\nResult');
  console.log(`  release 1: ${healthy.code === 0 ? 'passed the gate ✓' : 'failed ✗'}`);
  console.log(
    `  release 2: ${broken.code === 0 ? 'passed the gate ✗ (unexpected)' : 'stopped by the gate ✓'}`,
  );
  cleanup();
  if (healthy.code !== 0 || broken.code === 0) process.exit(1);
}

main().catch((error) => {
  console.error(error);
  cleanup();
  process.exit(1);
});
