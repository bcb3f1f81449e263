// Measures db-backup's targets on databases of about 54 MB, 241 MB and 1 GB, seeded once in a
// PostgreSQL cluster kept under .tmp/bench-backup/ (delete it to reseed):
// - throughput of a backup (pg_dump → compression → SHA-256 → S3) against
//   `pg_dump | gzip -1 > /dev/null`, each round running the baseline, both formats and pg_dump
//   alone (the physical limit) one after the other, in a rotating order; every figure is the
//   median of the rounds with its spread (min–max), and ratios are taken within a round. For each
//   format: the end-to-end ratio (baseline time / action time), the streaming ratio (the
//   baseline's streaming window / the action's, i.e. the rate at which the database streams) and
//   the fixed cost (wall time outside that window: Node start, bundle, S3 client, bucket check,
//   completion). The window is read from pg_dump's own write counter (/proc/<pid>/io): it opens
//   once pg_dump wrote 1 MiB (its queries to the server come before) and closes at its last
//   write, so it is the same measure for the pipeline and the action whatever the format.
//   The action uploads to an S3 endpoint that discards the bytes (scripts/lib/null-s3.ts), as
//   the baseline writes to /dev/null; runs against s3rver, which stores every byte on the same
//   CPUs, are printed for information.
//   Plain SQL is gzipped by pg_dump on a runner with fewer than 4 CPUs, by the action on every
//   core otherwise (the rows say which).
// - peak memory (max RSS) of the action at every size (≤ 128 MB, 1 GB within 15% of 54 MB);
// - bytes of bundle the action loads to run a backup (target < 1.5 MB).
// Usage: npx tsx scripts/bench-backup.ts [--sizes=small,large,xl] [--rounds=3] [--no-s3rver]
//   (`npm run bench` runs it with the defaults; `--sizes=large --no-s3rver` takes about a minute).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { plainGzipBy } from '../packages/backup/src/source';
import { parseFileCommands } from '../packages/workflow/src/commands';
import type { TestPostgres } from '../test/support/postgres';
import { startS3, type S3Env } from '../test/support/s3';
import type { BenchRow } from './lib/bench-row';
import { ensureSeeded, startCachedPostgres } from './lib/cached-postgres';
import { startNullS3 } from './lib/null-s3';
import { median, spread } from './lib/stats';
import { watchWrites, type WriteWindow } from './lib/write-watch';

const root = resolve(__dirname, '..');
const dist = join(root, 'dist');
const cache = join(root, '.tmp', 'bench-backup');

/** A run's wall time and pg_dump's streaming window in it. */
interface Timed {
  ms: number;
  window?: WriteWindow;
}

/** Runs `file args` and waits for it, watching the writes of its pg_dump. */
async function timed(
  file: string,
  args: string[],
  options: Parameters<typeof spawn>[2],
): Promise<Timed & { code: number | null }> {
  const started = process.hrtime.bigint();
  const child = spawn(file, args, { ...options, stdio: 'ignore' });
  const watch = watchWrites(child.pid ?? 0, 'pg_dump');
  const code = await new Promise<number | null>((done) => child.on('close', done));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, window: watch.stop(), code };
}

interface ActionMeasure extends Timed {
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
  const { ms, window, code } = await timed(
    process.execPath,
    ['-r', hook, join(dist, 'db-backup', 'index.js')],
    { env },
  );
  const files = [
    ...new Set(
      readFileSync(loadedFile, 'utf8')
        .split('\n')
        .filter((f) => f.startsWith(dist)),
    ),
  ];
  return {
    ms,
    window,
    maxRssMb: Number(readFileSync(rssFile, 'utf8')) / 1024,
    loadedBytes: files.reduce((n, f) => n + statSync(f).size, 0),
    outputs: readFileSync(output, 'utf8'),
    code,
  };
}

/** A shell pipeline from pg_dump's output: the baseline, or pg_dump alone to /dev/null. */
async function pipeline(
  pg: TestPostgres,
  db: string,
  dumpArgs: string,
  tail: string,
): Promise<Timed> {
  const r = await timed(
    'sh',
    [
      '-c',
      `"${join(pg.bindir, 'pg_dump')}" --no-password ${dumpArgs} -d "postgresql://postgres@127.0.0.1:${pg.port}/${db}" ${tail}`,
    ],
    { env: { ...process.env, PGPASSWORD: pg.password } },
  );
  if (r.code !== 0) throw new Error(`pipeline on ${db} exited with ${r.code}: ${dumpArgs} ${tail}`);
  return r;
}

/** Options of one bench run. */
export interface BackupBenchOptions {
  /** Which databases: `small` (≈54 MB), `large` (≈241 MB), `xl` (≈1 GB). */
  sizes?: readonly Size[];
  /** Interleaved rounds per figure (at least 3). */
  rounds?: number;
  /** Also time uploads to s3rver (for information). */
  s3rver?: boolean;
}

type Size = 'small' | 'large' | 'xl';
/** Megabytes of rows seeded for each size (the database is about a quarter larger). */
const seedMb: Record<Size, number> = { small: 39, large: 195, xl: 850 };

type Kind = 'baseline' | 'custom' | 'plain' | 'dump-custom' | 'dump-plain';
const kinds: readonly Kind[] = ['baseline', 'custom', 'plain', 'dump-custom', 'dump-plain'];
const formats = ['custom', 'plain'] as const;

const windowMs = (t: Timed): number => {
  if (!t.window) throw new Error('pg_dump was not seen writing its output');
  return t.window.lastMs - t.window.firstMs;
};

/** Runs the measurements and returns one row per figure. */
export async function bench(opts: BackupBenchOptions = {}): Promise<BenchRow[]> {
  const sizes = opts.sizes ?? ['small', 'large', 'xl'];
  const rounds = Math.max(3, opts.rounds ?? 3);
  const rows: BenchRow[] = [];
  const row = (r: BenchRow): void => {
    rows.push(r);
    console.error(`  ${r.name}: ${r.value}${r.spread ? ` (${r.spread})` : ''} ${r.unit}`);
  };
  const load = (when: string): void =>
    row({
      name: `machine load (1 min) ${when}`,
      value: Number(loadavg()[0].toFixed(2)),
      unit: 'processes',
      target: '—',
      ok: true,
    });
  load('before the backup bench');
  const work = mkdtempSync(join(tmpdir(), 'shipkit-bench-backup-'));
  const [pg, s3, nullS3] = await Promise.all([
    startCachedPostgres(join(cache, 'pg')),
    startS3(),
    startNullS3(),
  ]);
  try {
    await s3.createBucket('bench');
    const nullEnv: S3Env = {
      ...s3.env,
      AWS_ENDPOINT_URL_S3: nullS3.endpoint,
      // Against the null store the SDK keeps its default checksum behaviour (CRC32 on every part),
      // as with real S3; s3rver needs checksums off.
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_SUPPORTED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_SUPPORTED',
    };
    const action = async (
      db: string,
      env: S3Env,
      inputs: Record<string, string>,
    ): Promise<ActionMeasure> => {
      const run = await runBackup(work, pg, env, db, inputs);
      if (run.code !== 0) throw new Error(`db-backup failed on ${db}: ${run.outputs}`);
      if (env === nullEnv) {
        const { bytes, key } = parseFileCommands(run.outputs);
        const held = nullS3.objects.get(`bench/${key}`);
        if (held !== Number(bytes))
          throw new Error(
            `the null store holds ${held} bytes for ${key}, the action reported ${bytes}`,
          );
      }
      return run;
    };
    const rssBySize: Partial<Record<Size, Record<string, number>>> = {};
    for (const size of sizes) {
      if (ensureSeeded(pg, size, seedMb[size]))
        console.error(`seeded ${size} (≈${seedMb[size]} MB of rows, kept for the next runs)`);
      const dbMb =
        Number(pg.sql(size, 'SELECT pg_database_size(current_database())').trim()) / 1024 / 1024;
      const at = `${Math.round(dbMb)} MB database`;
      row({
        name: `db-backup: ${size} database size`,
        value: Math.round(dbMb),
        unit: 'MB',
        target: '—',
        ok: true,
      });
      if (size !== 'xl') {
        // Memory and loaded bundle with the defaults (verify: list, to s3rver).
        for (const format of formats) {
          const run = await action(size, s3.env, { format });
          row({
            name: `db-backup: peak memory, ${at} (${format}, verify: list)`,
            value: Math.round(run.maxRssMb),
            unit: 'MB',
            target: '≤ 128',
            ok: run.maxRssMb <= 128,
          });
          if (size === 'large' && format === 'custom')
            row({
              name: 'db-backup: bundle bytes loaded for a backup',
              value: run.loadedBytes,
              unit: 'bytes',
              target: '< 1500000',
              ok: run.loadedBytes < 1_500_000,
            });
        }
      }
      // The rounds: every kind once per round, in an order rotating by one each round.
      const runOf: Record<Kind, () => Promise<Timed & { maxRssMb?: number }>> = {
        baseline: () => pipeline(pg, size, '', '| gzip -1 > /dev/null'),
        custom: () => action(size, nullEnv, { verify: 'none' }),
        plain: () => action(size, nullEnv, { verify: 'none', format: 'plain' }),
        'dump-custom': () => pipeline(pg, size, '--format custom --compress 1', '> /dev/null'),
        'dump-plain': () => pipeline(pg, size, '--format plain', '> /dev/null'),
      };
      const got = Object.fromEntries(
        kinds.map((k) => [k, [] as (Timed & { maxRssMb?: number })[]]),
      ) as Record<Kind, (Timed & { maxRssMb?: number })[]>;
      for (let r = 0; r < rounds; r++) {
        console.error(`${size}: round ${r + 1} of ${rounds}…`);
        for (let i = 0; i < kinds.length; i++) {
          const kind = kinds[(i + r) % kinds.length];
          got[kind].push(await runOf[kind]());
        }
      }
      const base = got.baseline;
      const perRound = (kind: Kind, f: (b: Timed, t: Timed) => number): number[] =>
        got[kind].map((t, r) => f(base[r], t));
      const figure = (
        name: string,
        values: number[],
        unit: string,
        target: string,
        ok: (v: number) => boolean,
        digits = 2,
      ): void =>
        row({
          name,
          value: Number(median(values).toFixed(digits)),
          spread: spread(values, digits),
          unit,
          target,
          ok: ok(median(values)),
        });
      const always = (): boolean => true;
      figure(
        `pg_dump | gzip -1 > /dev/null (baseline), ${at}: end to end`,
        base.map((t) => dbMb / (t.ms / 1000)),
        'MB/s',
        '—',
        always,
        0,
      );
      figure(
        `pg_dump | gzip -1 > /dev/null (baseline), ${at}: streaming`,
        base.map((t) => dbMb / (windowMs(t) / 1000)),
        'MB/s',
        '—',
        always,
        0,
      );
      figure(
        `pg_dump | gzip -1 > /dev/null (baseline), ${at}: fixed cost`,
        base.map((t) => (t.ms - windowMs(t)) / 1000),
        's',
        '—',
        always,
      );
      for (const format of formats) {
        const dump: Kind = format === 'custom' ? 'dump-custom' : 'dump-plain';
        const label =
          format === 'custom'
            ? 'custom format, level 1'
            : `plain format, gzip level 1 by ${plainGzipBy(1) === 'pg_dump' ? 'pg_dump' : 'the action'}`;
        const e2eTarget = size === 'large';
        figure(
          `db-backup: ${label}, ${at}: end to end`,
          perRound(format, (b, t) => b.ms / t.ms),
          '× baseline',
          e2eTarget ? '≥ 0.9×' : '—',
          (v) => !e2eTarget || v >= 0.9,
        );
        const streamTarget = dbMb >= 1000 ? (format === 'custom' ? 1 : 0.95) : undefined;
        figure(
          `db-backup: ${label}, ${at}: streaming rate`,
          perRound(format, (b, t) => windowMs(b) / windowMs(t)),
          '× baseline',
          streamTarget ? `≥ ${streamTarget}×` : '—',
          (v) => !streamTarget || v >= streamTarget,
        );
        figure(
          `db-backup: ${label}, ${at}: fixed cost`,
          got[format].map((t) => (t.ms - windowMs(t)) / 1000),
          's',
          '≤ 0.5',
          (v) => v <= 0.5,
        );
        figure(
          `pg_dump alone, ${format} ${format === 'custom' ? 'level 1 ' : ''}> /dev/null (the limit), ${at}: streaming rate`,
          perRound(dump, (b, t) => windowMs(b) / windowMs(t)),
          '× baseline',
          '—',
          always,
        );
        const rss = Math.max(...got[format].map((t) => t.maxRssMb ?? 0));
        (rssBySize[size] ??= {})[format] = rss;
        row({
          name: `db-backup: peak memory, ${at} (${format}, verify: none)`,
          value: Math.round(rss),
          unit: 'MB',
          target: '≤ 128',
          ok: rss <= 128,
        });
      }
      if (size === 'large' && opts.s3rver !== false) {
        // After the rounds, so the disk writes s3rver leaves behind land in no measured run.
        const b = median(base.map((t) => t.ms));
        for (const format of formats) {
          const ratios: number[] = [];
          for (let r = 0; r < rounds; r++) {
            const run = await action(size, s3.env, { verify: 'none', format });
            ratios.push(b / run.ms);
          }
          figure(
            `db-backup: ${format} format, to s3rver here, ${at}: end to end`,
            ratios,
            '× baseline',
            '—',
            always,
          );
        }
      }
    }
    const small = rssBySize.small;
    const largest = rssBySize.xl ?? rssBySize.large;
    if (small && largest && largest !== small)
      for (const format of formats) {
        const ratio = largest[format] / small[format];
        row({
          name: `db-backup: peak memory, ${sizes.includes('xl') ? '1 GB' : '241 MB'} vs 54 MB database (${format}, verify: none)`,
          value: Number(ratio.toFixed(2)),
          unit: '× small',
          target: '≈ 1 (±15%)',
          ok: Math.abs(ratio - 1) <= 0.15,
        });
      }
  } finally {
    await Promise.all([pg.stop(), s3.stop(), nullS3.stop()]);
    rmSync(work, { recursive: true, force: true });
  }
  load('after the backup bench');
  return rows;
}

/** Reads `--sizes=small,large,xl`, `--rounds=N` and `--no-s3rver`. */
function parseArgs(argv: string[]): BackupBenchOptions {
  const opts: BackupBenchOptions = {};
  for (const arg of argv) {
    const [flag, value] = arg.split('=', 2);
    if (flag === '--sizes') {
      const sizes = value.split(',');
      const bad = sizes.find((s) => !(s in seedMb));
      if (bad) throw new Error(`--sizes: unknown size ${bad} (small, large, xl)`);
      opts.sizes = sizes as Size[];
    } else if (flag === '--rounds') opts.rounds = Number(value);
    else if (flag === '--no-s3rver') opts.s3rver = false;
    else throw new Error(`unknown argument ${arg}`);
  }
  return opts;
}

if (require.main === module) {
  bench(parseArgs(process.argv.slice(2))).then(
    (rows) => {
      const width = Math.max(...rows.map((r) => r.name.length));
      for (const r of rows)
        console.log(
          `${r.ok ? ' ' : '!'} ${r.name.padEnd(width)}  ${String(r.value).padStart(10)}  ${(r.spread ?? '').padEnd(11)}  ${r.unit.padEnd(11)} ${r.target}`,
        );
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
