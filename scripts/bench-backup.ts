// Measures db-backup's targets on databases made here (about 50 MB and 250 MB):
// - throughput of a backup (pg_dump → compression → SHA-256 → S3) against
//   `pg_dump | gzip -1 > /dev/null` measured in the same run (target ≥ 90%). The target rows
//   upload to an S3 endpoint that discards the bytes (scripts/lib/null-s3.ts), as the baseline
//   writes to /dev/null; the same runs against s3rver, which stores and hashes every byte on the
//   same CPUs, are printed for information.
// - peak memory (max RSS) of the action at both sizes (target < 150 MB, and the same at both);
// - bytes of bundle the action loads to run a backup (target < 1.5 MB).
// Usage: npx tsx scripts/bench-backup.ts     (`npm run bench` runs it too)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseFileCommands } from '../packages/workflow/src/commands';
import { seedDatabase, startPostgres, type TestPostgres } from '../test/support/postgres';
import { startS3, type S3Env } from '../test/support/s3';
import type { BenchRow } from './lib/bench-row';
import { startNullS3 } from './lib/null-s3';

const root = resolve(__dirname, '..');
const dist = join(root, 'dist');

interface ActionMeasure {
  ms: number;
  maxRssMb: number;
  loadedBytes: number;
  outputs: string;
  code: number | null;
}

/** Runs the db-backup bundle once, recording wall time, max RSS and the dist files it loaded. */
async function runBackup(
  work: string,
  pg: TestPostgres,
  s3: S3Env,
  db: string,
  inputs: Record<string, string>,
): Promise<ActionMeasure> {
  const hook = join(work, 'hook.js');
  const rssFile = join(work, 'rss');
  const loadedFile = join(work, 'loaded');
  writeFileSync(loadedFile, '');
  writeFileSync(
    hook,
    `const M=require('module');const fs=require('fs');const o=M._extensions['.js'];M._extensions['.js']=function(m,f){fs.appendFileSync(${JSON.stringify(loadedFile)},f+'\\n');return o(m,f)};` +
      `process.on('exit',()=>fs.writeFileSync(${JSON.stringify(rssFile)},String(process.resourceUsage().maxRSS)));`,
  );
  const output = join(work, 'output');
  writeFileSync(output, '');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...s3,
    GITHUB_OUTPUT: output,
    RUNNER_TEMP: work,
    GITHUB_SHA: '0123456789abcdef',
    INPUT_ENVIRONMENT: 'bench',
    INPUT_BUCKET: 'bench',
    INPUT_PREFIX: 'bench/',
    'INPUT_S3-FORCE-PATH-STYLE': 'true',
    'INPUT_DATABASE-URL': pg.url(db),
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const started = process.hrtime.bigint();
  const code = await new Promise<number | null>((done) => {
    const child = spawn(process.execPath, ['-r', hook, join(dist, 'db-backup', 'index.js')], {
      env,
      stdio: 'ignore',
    });
    child.on('close', done);
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const files = [
    ...new Set(
      readFileSync(loadedFile, 'utf8')
        .split('\n')
        .filter((f) => f.startsWith(dist)),
    ),
  ];
  return {
    ms,
    maxRssMb: Number(readFileSync(rssFile, 'utf8')) / 1024,
    loadedBytes: files.reduce((n, f) => n + statSync(f).size, 0),
    outputs: readFileSync(output, 'utf8'),
    code,
  };
}

function baseline(pg: TestPostgres, db: string): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(
    'sh',
    [
      '-c',
      `"${join(pg.bindir, 'pg_dump')}" --no-password -d "postgresql://postgres@127.0.0.1:${pg.port}/${db}" | gzip -1 > /dev/null`,
    ],
    {
      env: { ...process.env, PGPASSWORD: pg.password },
    },
  );
  if (r.status !== 0) throw new Error(`baseline pipeline failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** Runs the measurements and returns one row per figure. */
export async function bench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const work = mkdtempSync(join(tmpdir(), 'shipkit-bench-backup-'));
  const [pg, s3, nullS3] = await Promise.all([startPostgres(), startS3(), startNullS3()]);
  try {
    await s3.createBucket('bench');
    const sizes: [string, number][] = [
      ['small', 39],
      ['large', 195],
    ];
    const rss: Record<string, Record<string, number>> = { custom: {}, plain: {} };
    for (const [db, seedMb] of sizes) {
      console.error(`seeding ${db} (≈${seedMb} MB of rows)…`);
      pg.createDatabase(db);
      seedDatabase(pg, db, seedMb);
      const dbBytes = Number(pg.sql(db, 'SELECT pg_database_size(current_database())').trim());
      const dbMb = dbBytes / 1024 / 1024;
      rows.push({
        name: `db-backup: ${db} database size`,
        value: Math.round(dbMb),
        unit: 'MB',
        target: '—',
        ok: true,
      });
      // Memory and loaded bundle with the defaults (custom format, verify: list), and memory of
      // a plain dump (gzipped here, on every core).
      const full = await runBackup(work, pg, s3.env, db, {});
      if (full.code !== 0) throw new Error(`db-backup failed on ${db}: ${full.outputs}`);
      const plain = await runBackup(work, pg, s3.env, db, { format: 'plain' });
      if (plain.code !== 0) throw new Error(`db-backup failed on ${db}: ${plain.outputs}`);
      for (const [format, run] of [
        ['custom', full],
        ['plain', plain],
      ] as const) {
        rss[format][db] = run.maxRssMb;
        rows.push({
          name: `db-backup: peak memory, ${Math.round(dbMb)} MB database (${format}, verify: list)`,
          value: Math.round(run.maxRssMb),
          unit: 'MB',
          target: '< 150',
          ok: run.maxRssMb < 150,
        });
      }
      if (db === 'large') {
        rows.push({
          name: 'db-backup: bundle bytes loaded for a backup',
          value: full.loadedBytes,
          unit: 'bytes',
          target: '< 1500000',
          ok: full.loadedBytes < 1_500_000,
        });
        // Throughput: the action (verify: none, so the same work as the pipeline plus the upload)
        // against pg_dump | gzip -1 > /dev/null, alternated, median of 5 (3 for s3rver).
        // Against the null store the SDK keeps its default checksum behaviour (CRC32 on every
        // part), as with real S3; s3rver needs checksums off.
        const nullEnv: S3Env = {
          ...s3.env,
          AWS_ENDPOINT_URL_S3: nullS3.endpoint,
          AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_SUPPORTED',
          AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_SUPPORTED',
        };
        const runs = [
          ['custom format, level 1', { verify: 'none' }, nullEnv, true],
          ['plain format, gzip level 1', { verify: 'none', format: 'plain' }, nullEnv, true],
          ['custom format, level 1, to s3rver here', { verify: 'none' }, s3.env, false],
          [
            'plain format, gzip level 1, to s3rver here',
            { verify: 'none', format: 'plain' },
            s3.env,
            false,
          ],
        ] as const;
        const base: number[] = [];
        const times: number[][] = runs.map(() => []);
        const measure = async (n: number): Promise<void> => {
          const [, inputs, env] = runs[n];
          const run = await runBackup(work, pg, env, db, inputs);
          if (run.code !== 0) throw new Error(`db-backup failed: ${run.outputs}`);
          const { bytes, key } = parseFileCommands(run.outputs);
          if (env === nullEnv && nullS3.objects.get(`bench/${key}`) !== Number(bytes))
            throw new Error(
              `the null store holds ${nullS3.objects.get(`bench/${key}`)} bytes for ${key}, the action reported ${bytes}`,
            );
          times[n].push(run.ms);
        };
        const targetRuns = [...runs.keys()].filter((n) => runs[n][3]);
        const otherRuns = [...runs.keys()].filter((n) => !runs[n][3]);
        // The target runs alternate with the baseline; the s3rver runs come after them, so the
        // disk writes s3rver leaves behind do not land in a measured run.
        for (let i = 0; i < 5; i++) {
          base.push(baseline(pg, db));
          for (const n of targetRuns) await measure(n);
        }
        for (let i = 0; i < 3; i++) for (const n of otherRuns) await measure(n);
        const b = median(base);
        rows.push({
          name: 'pg_dump | gzip -1 > /dev/null (baseline)',
          value: Math.round((dbMb / b) * 1000),
          unit: 'MB/s',
          target: '—',
          ok: true,
        });
        for (const [n, [label, , , target]] of runs.entries()) {
          const ratio = b / median(times[n]);
          rows.push({
            name: `db-backup: throughput, ${label}`,
            value: Number(ratio.toFixed(2)),
            unit: '× baseline',
            target: target ? '≥ 0.9×' : '—',
            ok: !target || ratio >= 0.9,
          });
        }
      }
    }
    for (const [format, byDb] of Object.entries(rss)) {
      const spread = Math.abs(byDb.large - byDb.small) / byDb.small;
      rows.push({
        name: `db-backup: peak memory, 250 MB vs 50 MB database (${format})`,
        value: Number((byDb.large / byDb.small).toFixed(2)),
        unit: '× small',
        target: '≈ 1 (±15%)',
        ok: spread <= 0.15,
      });
    }
  } finally {
    await Promise.all([pg.stop(), s3.stop(), nullS3.stop()]);
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}

if (require.main === module) {
  bench().then(
    (rows) => {
      const width = Math.max(...rows.map((r) => r.name.length));
      for (const r of rows)
        console.log(
          `${r.ok ? ' ' : '!'} ${r.name.padEnd(width)}  ${String(r.value).padStart(10)}  ${r.unit.padEnd(11)} ${r.target}`,
        );
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
