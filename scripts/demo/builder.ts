/**
 * The image builder the demo's build-and-push steps use: Docker with buildx where an engine
 * answers, else buildah — installed here (Debian package, as root) when it is missing, otherwise
 * a plain statement of what to install. buildah gets a container storage of its own under the
 * demo's temporary directory, removed at the end, so the demo leaves no images on the machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cleanup } from './cleanup';
import { Unavailable } from './services';

/** The builder found (or installed) and the environment its steps need. */
export interface ImageBuilder {
  kind: 'buildx' | 'buildah';
  /** What was done to get it, for the progress line (`found`, `installed buildah …`). */
  note: string;
  /** Environment for the workflow steps (buildah's private storage). */
  env: Record<string, string>;
}

const has = (command: string): boolean =>
  spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

function dockerBuildxAnswers(): boolean {
  if (!has('docker')) return false;
  const server = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (server.status !== 0 || !server.stdout.trim()) return false;
  return (
    spawnSync('docker', ['buildx', 'version'], { stdio: 'ignore', timeout: 10_000 }).status === 0
  );
}

/** Removes buildah's private storage under `dir`: containers, images, overlay mounts, files. */
function removeStorage(dir: string, env: Record<string, string>): void {
  for (const args of [
    ['rm', '--all'],
    ['rmi', '--all', '--force'],
  ])
    spawnSync('buildah', args, {
      env: { ...process.env, ...env },
      stdio: 'ignore',
      timeout: 60_000,
    });
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((point): point is string => !!point && point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) spawnSync('umount', ['-l', point], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Finds the image builder, installing buildah when it is missing and this process may (root
 * with apt-get). Throws {@link Unavailable} saying what to install otherwise.
 */
export function ensureImageBuilder(work: string, cleanup: Cleanup): ImageBuilder {
  if (dockerBuildxAnswers()) return { kind: 'buildx', note: 'Docker with buildx', env: {} };
  let note = 'buildah';
  if (!has('buildah')) {
    if (process.getuid?.() !== 0 || !has('apt-get'))
      throw new Unavailable(
        'no image builder: neither a Docker engine with buildx nor buildah is here. Install one, e.g. `sudo apt-get install -y buildah` (Debian/Ubuntu), then run the demo again',
      );
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', timeout: 120_000 });
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'buildah'], {
        stdio: 'ignore',
        timeout: 300_000,
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } catch (error) {
      throw new Unavailable(
        `buildah is missing and installing it failed (${(error as Error).message.split('\n')[0]}): install it with \`apt-get install -y buildah\``,
      );
    }
    note = 'buildah (installed just now with apt-get)';
  }
  const dir = join(work, 'buildah');
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'storage.conf');
  writeFileSync(
    conf,
    `[storage]\ndriver = ""\ngraphroot = "${join(dir, 'storage')}"\nrunroot = "${join(dir, 'run')}"\n`,
  );
  const env = { CONTAINERS_STORAGE_CONF: conf };
  cleanup.add('buildah storage', () => removeStorage(dir, env));
  return { kind: 'buildah', note, env };
}
