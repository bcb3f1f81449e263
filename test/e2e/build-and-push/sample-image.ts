/**
 * Helpers for suites that need the sample service's image in local-aws: it is built and pushed
 * by the real build-and-push bundle, so the image other actions deploy is the one this action
 * produces.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runAction, type ActionRun } from '../../support/run-action';

/** The sample service's build context (a tiny Node HTTP server with `GET /health`). */
export const SAMPLE_CONTEXT = join(ROOT, 'test', 'fixtures', 'sample-image');

/** A commit SHA for tests that need a stable one. */
export const TEST_SHA = '5a3f1c9e2b7d4a6f8c0e1d2b3a4f5e6d7c8b9a0f';

/** Installs buildah (Debian package) when it is missing and this process may install it. */
export function ensureBuildah(): void {
  if (spawnSync('sh', ['-c', 'command -v buildah'], { stdio: 'ignore' }).status === 0) return;
  if (process.getuid?.() !== 0)
    throw new Error('buildah is not installed (apt-get install buildah)');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'buildah'], {
    stdio: 'ignore',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/**
 * Environment that gives buildah a storage of its own under `dir` (removed with it), so a test
 * run leaves no images or layers behind in the machine's container storage.
 */
export function privateStorageEnv(dir: string): Record<string, string> {
  const conf = join(dir, 'storage.conf');
  writeFileSync(
    conf,
    `[storage]\ndriver = ""\ngraphroot = "${join(dir, 'containers', 'storage')}"\nrunroot = "${join(dir, 'containers', 'run')}"\n`,
  );
  return { CONTAINERS_STORAGE_CONF: conf };
}

/**
 * Removes a storage made by {@link privateStorageEnv}: its containers and images, the mounts the
 * overlay driver leaves (deepest first), then the directory `dir` itself.
 */
export function removePrivateStorage(dir: string): void {
  const env = { ...process.env, ...privateStorageEnv(dir) };
  for (const args of [
    ['rm', '--all'],
    ['rmi', '--all', '--force'],
  ]) {
    spawnSync('buildah', args, { env, stdio: 'ignore', timeout: 60_000 });
  }
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((point): point is string => !!point && point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) spawnSync('umount', ['-l', point], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}

/** Environment pointing the bundle at local-aws, on branch `main` of `acme/sample`. */
export function localAwsEnv(endpoint: string, dir: string, sha = TEST_SHA): Record<string, string> {
  const event = join(dir, 'event.json');
  writeFileSync(event, JSON.stringify({ repository: { default_branch: 'main' } }));
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    GITHUB_SHA: sha,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REPOSITORY: 'acme/sample',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_EVENT_PATH: event,
  };
}

/**
 * Builds the sample image with build-and-push and pushes it to `repository` of local-aws
 * (created when missing). `buildArgs` such as `HEALTHY=false` make a release that fails its
 * health checks. Throws with the action's error when it fails.
 */
export async function buildSampleImage(opts: {
  endpoint: string;
  repository: string;
  /** A directory the caller removes (an event file is written there). */
  dir: string;
  tags?: string[];
  buildArgs?: Record<string, string>;
  sha?: string;
  /** More environment, e.g. {@link privateStorageEnv}. */
  extraEnv?: Record<string, string>;
}): Promise<ActionRun & { image: string; digest: string }> {
  const run = await runAction('build-and-push', {
    cwd: SAMPLE_CONTEXT,
    env: { ...localAwsEnv(opts.endpoint, opts.dir, opts.sha), ...opts.extraEnv },
    inputs: {
      repository: opts.repository,
      'create-repository': 'true',
      tags: (opts.tags ?? ['{{short-sha}}']).join('\n'),
      'build-args': Object.entries(opts.buildArgs ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
      builder: 'buildah',
    },
  });
  if (run.code !== 0) throw new Error(`build-and-push failed: ${run.error ?? run.stderr}`);
  await runAction('build-and-push', { entry: 'post', state: run.state });
  return { ...run, image: run.outputs.image, digest: run.outputs.digest };
}
