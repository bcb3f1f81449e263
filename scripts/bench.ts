// `npm run bench`: measures shipkit's speed and size targets, each printed with its target and as
// a ratio to a baseline measured in the same run (these machines are shared and noisy: compare
// ratios, not absolute times). Also runs every scripts/bench-<area>.ts that exports `bench()`.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  mkdtempSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchRow } from './lib/bench-row';

const root = resolve(__dirname, '..');
const dist = join(root, 'dist');

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeRun(args: string[], env: NodeJS.ProcessEnv = {}): number {
  const started = process.hrtime.bigint();
  spawnSync(process.execPath, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function dirSize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    total += entry.isDirectory() ? dirSize(p) : statSync(p).size;
  }
  return total;
}

/** Bytes of the dist files an action's process loads (its starter plus the chunks it requires). */
function loadedBytes(action: string, work: string): number {
  const hook = join(work, 'hook.js');
  const log = join(work, `${action}.loaded`);
  writeFileSync(
    hook,
    `const M=require('module');const fs=require('fs');const o=M._extensions['.js'];M._extensions['.js']=function(m,f){fs.appendFileSync(${JSON.stringify(log)},f+'\\n');return o(m,f)};`,
  );
  spawnSync(process.execPath, ['-r', hook, join(dist, action, 'index.js')], {
    stdio: 'ignore',
    env: { ...process.env, INPUT_X: '' },
  });
  const files = existsSync(log)
    ? [
        ...new Set(
          readFileSync(log, 'utf8')
            .split('\n')
            .filter((f) => f.startsWith(dist)),
        ),
      ]
    : [];
  return files.reduce((n, f) => n + statSync(f).size, 0);
}

async function verdictDelay(): Promise<number> {
  // The service fails from a known moment; the gate must decide within one interval of the
  // probe that decides it. Measured: exit time minus the deciding probe's time.
  let failing = false;
  const server = createServer((_q, r) => {
    r.writeHead(failing ? 500 : 200);
    r.end('{}');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const work = mkdtempSync(join(tmpdir(), 'shipkit-bench-'));
  const out = join(work, 'out');
  writeFileSync(out, '');
  setTimeout(() => (failing = true), 2500);
  const child = await import('node:child_process');
  const exitAt = await new Promise<number>((done) => {
    const p = child.spawn(process.execPath, [join(dist, 'health-gate', 'index.js')], {
      env: {
        ...process.env,
        INPUT_URL: url,
        INPUT_INTERVAL: '1s',
        INPUT_OBSERVE: '30s',
        INPUT_TIMEOUT: '20s',
        'INPUT_UNHEALTHY-THRESHOLD': '2',
        GITHUB_OUTPUT: out,
        RUNNER_TEMP: work,
      },
      stdio: 'ignore',
    });
    p.on('close', () => done(Date.now()));
  });
  server.close();
  const outputs = readFileSync(out, 'utf8');
  const reportPath = /report-path<<(.+)\n(.+)\n/.exec(outputs)?.[2] ?? '';
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  const last = report.probes[report.probes.length - 1];
  rmSync(work, { recursive: true, force: true });
  return exitAt - (Date.parse(last.time) + last.latencyMs);
}

async function core(): Promise<BenchRow[]> {
  console.error('measuring cold starts…');
  const rows: BenchRow[] = [];
  const work = mkdtempSync(join(tmpdir(), 'shipkit-bench-'));
  const actions = readdirSync(dist).filter(
    (d) => d !== 'shared' && existsSync(join(dist, d, 'index.js')),
  );
  const runs = 15;
  const baseline: number[] = [];
  const starts: Record<string, number[]> = Object.fromEntries(actions.map((a) => [a, []]));
  for (let i = 0; i < runs; i++) {
    baseline.push(timeRun(['-e', '0']));
    // No inputs at all: every action fails on its first required input, before loading the SDK.
    for (const a of actions)
      starts[a].push(timeRun([join(dist, a, 'index.js')], { GITHUB_OUTPUT: '' }));
  }
  const base = median(baseline);
  rows.push({
    name: 'node -e 0 (baseline)',
    value: Math.round(base),
    unit: 'ms',
    target: '—',
    ok: true,
  });
  for (const a of actions) {
    const ratio = median(starts[a]) / base;
    rows.push({
      name: `${a}: cold start to a failing input`,
      value: Number(ratio.toFixed(2)),
      unit: '× baseline',
      target: '≤ 2×',
      ok: ratio <= 2,
    });
  }
  for (const a of actions) {
    const bytes = loadedBytes(a, work);
    const limit = a === 'health-gate' ? 600_000 : 1_500_000;
    rows.push({
      name: `${a}: bundle bytes loaded at start`,
      value: bytes,
      unit: 'bytes',
      target: `≤ ${limit}`,
      ok: bytes <= limit,
    });
  }
  const total = dirSize(dist);
  rows.push({
    name: 'all committed bundles (dist/)',
    value: total,
    unit: 'bytes',
    target: '≤ 4000000',
    ok: total <= 4_000_000,
  });
  console.error('measuring the gate verdict delay…');
  const delay = await verdictDelay();
  rows.push({
    name: 'health-gate: verdict after the deciding probe',
    value: delay,
    unit: 'ms',
    target: '≤ 1000 (one interval)',
    ok: delay <= 1000,
  });
  rmSync(work, { recursive: true, force: true });
  return rows;
}

async function main(): Promise<void> {
  const rows = await core();
  for (const file of readdirSync(__dirname)
    .filter((f) => /^bench-.+\.ts$/.test(f))
    .sort()) {
    const mod = (await import(join(__dirname, file))) as { bench?: () => Promise<BenchRow[]> };
    if (typeof mod.bench !== 'function') continue;
    console.error(`running ${file}…`);
    try {
      rows.push(...(await mod.bench()));
    } catch (error) {
      rows.push({
        name: `${file} failed: ${(error as Error).message}`,
        value: 0,
        unit: '',
        target: 'runs',
        ok: false,
      });
    }
  }
  const width = Math.max(...rows.map((r) => r.name.length));
  // A median of repeated runs shows the range of the runs beside it.
  console.log(
    `\n${'measure'.padEnd(width)}  ${'value'.padStart(12)}  ${'spread'.padEnd(11)}  unit          target`,
  );
  for (const r of rows) {
    console.log(
      `${r.ok ? ' ' : '!'}${r.name.padEnd(width - 1)}  ${String(r.value).padStart(12)}  ${(r.spread ?? '').padEnd(11)}  ${r.unit.padEnd(12)}  ${r.target}`,
    );
  }
  const missed = rows.filter((r) => !r.ok).length;
  console.log(missed ? `\n${missed} target(s) missed (marked !)` : '\nall targets met');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
