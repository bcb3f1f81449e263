// Benchmarks build-and-push against local-aws: skip-if-exists and promotion (within one
// repository, and into another repository with blob mounts) must each take under 1 s, reported
// as a ratio to a full rebuild of the same image measured in the same run (buildah, fresh
// storage, so nothing comes from a cache). Also: layer bytes uploaded by a promotion within one
// repository (must be 0), the bundle bytes a promotion loads (≤ 1.5 MB) and the cold start to a
// bad tag template (≤ 2× `node -e 0`). And with `images`: a two-image build where one context
// changed, as a ratio to building both (fresh storage each time), and the bytes uploaded for the
// unchanged image (must be 0).
// Run: npx tsx scripts/bench-image.ts   (build first: npm run build)
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startLocalAws, type LocalAws } from '../packages/local-aws/src';
import { ROOT, runAction, type ActionRun } from '../test/support/run-action';
import {
  ensureBuildah,
  localAwsEnv,
  privateStorageEnv,
  removePrivateStorage,
  SAMPLE_CONTEXT,
} from '../test/e2e/build-and-push/sample-image';
import type { BenchRow } from './lib/bench-row';

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function nodeTime(args: string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  spawnSync(process.execPath, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function mustSucceed(run: ActionRun, what: string): ActionRun {
  if (run.code !== 0) throw new Error(`${what} failed: ${run.error ?? run.stderr.slice(-500)}`);
  return run;
}

/**
 * A two-image build where one context changed, against building both: a git checkout with two
 * copies of the sample service; each run in an empty container storage.
 */
async function benchImages(aws: LocalAws, dir: string, storages: string[]): Promise<BenchRow[]> {
  const repo = join(dir, 'checkout');
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] })
      .toString()
      .trim();
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    writeFileSync(join(repo, path), text);
  };
  mkdirSync(repo);
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'bench@example.com');
  git('config', 'user.name', 'bench');
  for (const name of ['api', 'worker']) {
    write(`${name}/Dockerfile`, readFileSync(join(SAMPLE_CONTEXT, 'Dockerfile'), 'utf8'));
    write(`${name}/server.js`, readFileSync(join(SAMPLE_CONTEXT, 'server.js'), 'utf8'));
  }
  const commit = (message: string): string => {
    git('add', '-A');
    git('commit', '-q', '--allow-empty', '-m', message);
    return git('rev-parse', 'HEAD');
  };
  let n = 0;
  const act = async (inputs: Record<string, string>): Promise<ActionRun> => {
    const storage = join(dir, `images-storage-${n++}`);
    mkdirSync(storage);
    storages.push(storage);
    const sha = commit(`run ${n}`);
    return mustSucceed(
      await runAction('build-and-push', {
        cwd: repo,
        env: { ...localAwsEnv(aws.endpoint, dir, sha), ...privateStorageEnv(storage) },
        inputs: {
          builder: 'buildah',
          'create-repository': 'true',
          images: 'bench-api=api\nbench-worker=worker',
          ...inputs,
        },
      }),
      'images build',
    );
  };
  const counters = (repo_: string): number =>
    (aws.ecr as unknown as { uploadCounters: (r: string) => { blobBytes: number } }).uploadCounters(
      repo_,
    ).blobBytes;

  const both: number[] = [];
  const one: number[] = [];
  let unchangedBytes = 0;
  for (let i = 0; i < 3; i++) {
    // Both contexts changed: both built (and tagged with their new content tags).
    write('api/version.txt', `${i}\n`);
    write('worker/version.txt', `${i}\n`);
    const all = await act({});
    if (!all.summary.includes('2 images: 2 built')) {
      throw new Error('the two-image build with both changed did not build both');
    }
    both.push(all.durationMs);
    write('worker/version.txt', `${i}, again\n`);
    const before = counters('bench-api');
    const run = await act({});
    if (!run.summary.includes('1 built, 1 unchanged')) {
      throw new Error('the two-image build with one change did not rebuild exactly one image');
    }
    unchangedBytes += counters('bench-api') - before;
    one.push(run.durationMs);
  }
  const ratio = median(one) / median(both);
  return [
    {
      name: 'build-and-push images: two images built (baseline)',
      value: Math.round(median(both)),
      unit: 'ms',
      target: '—',
      ok: true,
    },
    {
      name: `build-and-push images: two images, one changed (${Math.round(median(one))} ms)`,
      value: Number(ratio.toFixed(3)),
      unit: '× building both',
      target: '≤ 0.75×',
      ok: ratio <= 0.75,
    },
    {
      name: 'build-and-push images: layer bytes uploaded for the unchanged image',
      value: unchangedBytes,
      unit: 'bytes',
      target: '= 0',
      ok: unchangedBytes === 0,
    },
  ];
}

/** Runs the benchmarks and returns their rows. */
export async function bench(): Promise<BenchRow[]> {
  if (!existsSync(join(ROOT, 'dist', 'build-and-push', 'index.js'))) {
    throw new Error('dist/build-and-push is missing: run npm run build first');
  }
  ensureBuildah();
  const dir = mkdtempSync(join(tmpdir(), 'shipkit-bench-image-'));
  let aws: LocalAws | undefined;
  const storages: string[] = [];
  try {
    aws = await startLocalAws({ port: 0 });
    const env = localAwsEnv(aws.endpoint, dir);
    const act = (
      inputs: Record<string, string>,
      extra: Record<string, string> = {},
    ): Promise<ActionRun> =>
      runAction('build-and-push', {
        cwd: SAMPLE_CONTEXT,
        env: { ...env, ...extra },
        inputs: { builder: 'buildah', ...inputs },
      });

    // Baseline: full rebuilds of the sample image, each in an empty container storage.
    const rebuilds: number[] = [];
    let built: ActionRun | undefined;
    for (let i = 0; i < 3; i++) {
      const storage = join(dir, `storage-${i}`);
      mkdirSync(storage);
      storages.push(storage);
      const run = mustSucceed(
        await act({ repository: 'bench', 'create-repository': 'true' }, privateStorageEnv(storage)),
        'full build',
      );
      rebuilds.push(run.durationMs);
      built = run; // the commit tag names the last build
    }
    const rebuild = median(rebuilds);
    const digest = built!.outputs.digest;

    const measure = async (
      what: string,
      inputs: (i: number) => Record<string, string>,
    ): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const run = mustSucceed(await act(inputs(i)), what);
        if (run.outputs.digest !== digest) throw new Error(`${what} changed the digest`);
        times.push(run.durationMs);
      }
      return median(times);
    };
    const counters = (repo: string): { blobBytes: number } =>
      (
        aws!.ecr as unknown as { uploadCounters: (r: string) => { blobBytes: number } }
      ).uploadCounters(repo);

    const skip = await measure('skip-if-exists', (i) => ({
      repository: 'bench',
      'skip-if-exists': 'true',
      tags: `{{short-sha}}\nskip-${i}`,
    }));
    const bytesBefore = counters('bench').blobBytes;
    const retag = await measure('promotion within the repository', (i) => ({
      repository: 'bench',
      'promote-from': digest,
      tags: `release-${i}`,
    }));
    const retagBytes = counters('bench').blobBytes - bytesBefore;
    const mount = await measure('promotion into another repository', (i) => ({
      repository: `bench-prod-${i}`,
      'create-repository': 'true',
      'promote-from': `bench@${digest}`,
      tags: 'production',
    }));

    // Bytes of dist/ files a promotion loads (its starter, the shared bundle and its chunks).
    const hook = join(dir, 'hook.js');
    const log = join(dir, 'loaded.txt');
    writeFileSync(
      hook,
      `const M=require('module');const fs=require('fs');const o=M._extensions['.js'];M._extensions['.js']=function(m,f){fs.appendFileSync(${JSON.stringify(log)},f+'\\n');return o(m,f)};`,
    );
    mustSucceed(
      await act(
        { repository: 'bench', 'promote-from': digest, tags: 'loaded' },
        { NODE_OPTIONS: `--require ${hook}` },
      ),
      'promotion with a load hook',
    );
    const dist = join(ROOT, 'dist');
    const files = [
      ...new Set(
        readFileSync(log, 'utf8')
          .split('\n')
          .filter((f) => f.startsWith(dist)),
      ),
    ];
    const loaded = files.reduce((n, f) => n + statSync(f).size, 0);

    // Cold start to a bad input, against node -e 0.
    const base: number[] = [];
    const bad: number[] = [];
    const badEnv = {
      INPUT_REPOSITORY: 'bench',
      INPUT_TAGS: '{{nope}}',
      GITHUB_OUTPUT: '',
      GITHUB_SHA: 'a'.repeat(40),
    };
    for (let i = 0; i < 15; i++) {
      base.push(nodeTime(['-e', '0'], {}));
      bad.push(nodeTime([join(dist, 'build-and-push', 'index.js')], badEnv));
    }
    const cold = median(bad) / median(base);

    const images = await benchImages(aws, dir, storages);

    const ratio = (ms: number): string => `${(ms / rebuild).toFixed(3)}× rebuild`;
    return [
      {
        name: 'build-and-push: full rebuild of the sample image (baseline)',
        value: Math.round(rebuild),
        unit: 'ms',
        target: '—',
        ok: true,
      },
      {
        name: `build-and-push: skip-if-exists (${ratio(skip)})`,
        value: Math.round(skip),
        unit: 'ms',
        target: '< 1000',
        ok: skip < 1000,
      },
      {
        name: `build-and-push: promotion within one repository (${ratio(retag)})`,
        value: Math.round(retag),
        unit: 'ms',
        target: '< 1000',
        ok: retag < 1000,
      },
      {
        name: `build-and-push: promotion into another repository, blobs mounted (${ratio(mount)})`,
        value: Math.round(mount),
        unit: 'ms',
        target: '< 1000',
        ok: mount < 1000,
      },
      {
        name: 'build-and-push: layer bytes uploaded by promotions within one repository',
        value: retagBytes,
        unit: 'bytes',
        target: '= 0',
        ok: retagBytes === 0,
      },
      {
        name: 'build-and-push: bundle bytes a promotion loads',
        value: loaded,
        unit: 'bytes',
        target: '≤ 1500000',
        ok: loaded <= 1_500_000,
      },
      {
        name: 'build-and-push: cold start to a bad tag template',
        value: Number(cold.toFixed(2)),
        unit: '× node -e 0',
        target: '≤ 2×',
        ok: cold <= 2,
      },
      ...images,
    ];
  } finally {
    await aws?.stop();
    for (const s of storages) removePrivateStorage(s);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  bench().then(
    (rows) => {
      for (const r of rows) {
        console.log(
          `${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.value} ${r.unit} (target ${r.target})`,
        );
      }
      process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
