/**
 * Turns an image held by the local registry into a directory a task runner can run a process
 * from: resolves the reference, picks the platform manifest of an index, unpacks the layers
 * in order (whiteouts, symlinks, hard links) into `<dataDir>/images/<hex>/rootfs`, cached by
 * the image manifest's digest.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import {
  chmod,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import type { ImageRunConfig, ImageStore, MaterializedImage } from '../contracts';
import type { Descriptor } from './manifest';
import { parseImageReference } from './names';
import type { ImageRecord, RegistryState } from './registry-state';
import { readTar } from './tar';

const NODE_TO_OCI_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
};
const LOOPBACK_HOST = /^(?:localhost|127\.\d+\.\d+\.\d+|\[::1\])(?::\d+)?$/;

/** The platforms tried, in order, when a reference names an index. */
export function preferredPlatforms(): string[] {
  const host = NODE_TO_OCI_ARCH[process.arch] ?? process.arch;
  return [...new Set([`linux/${host}`, 'linux/amd64'])];
}

function pullError(ref: string, reason: string): Error {
  return new Error(
    `CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref ${ref}: ${reason}`,
  );
}

/**
 * Resolves `relative` inside `root` as if `root` were `/`: symlinks met on the way are
 * followed with their targets taken relative to `root` (absolute ones too), and `..` stops at
 * `root`. The last component is followed only when `followLast` is set. The result is always
 * inside `root`.
 */
export async function resolveInRoot(
  root: string,
  relative: string,
  followLast: boolean,
): Promise<string> {
  let pending = relative.split('/').filter((p) => p !== '' && p !== '.');
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    if (pending.length > 0 || followLast) {
      const stat = await lstat(candidate).catch(() => undefined);
      if (stat?.isSymbolicLink()) {
        if (++hops > 40) throw new Error(`too many levels of symbolic links at \`${relative}\``);
        const target = await readlink(candidate);
        if (target.startsWith('/')) resolved.length = 0;
        pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
        continue;
      }
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}

/** Normalises a layer member's path; throws when it would leave the root. */
function memberPath(path: string, layer: string): string {
  const normal = posix.normalize(path.replace(/^\/+/, '') || '.').replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) {
    throw new Error(`layer ${layer} has a member \`${path}\` that escapes the rootfs`);
  }
  return normal === '.' ? '' : normal;
}

async function layerStream(path: string, mediaType: string, digest: string): Promise<Readable> {
  const handle = await open(path, 'r');
  const magic = Buffer.alloc(4);
  try {
    await handle.read(magic, 0, 4, 0);
  } finally {
    await handle.close();
  }
  const raw = createReadStream(path);
  if (magic[0] === 0x1f && magic[1] === 0x8b) return raw.pipe(zlib.createGunzip());
  if (magic.readUInt32LE(0) === 0xfd2fb528) {
    const zstd = (zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream })
      .createZstdDecompress;
    if (!zstd) {
      raw.destroy();
      throw new Error(
        `layer ${digest} (${mediaType}) is zstd-compressed, which this Node.js version cannot decompress`,
      );
    }
    return raw.pipe(zstd()) as unknown as Readable;
  }
  return raw;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Creates a filesystem object at `path`; when something is already there it is removed first
 * (a directory over a directory is kept). Returns whether anything was removed.
 */
async function create(
  path: string,
  make: () => Promise<void>,
  isDirectory: boolean,
): Promise<boolean> {
  try {
    await make();
    return false;
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
  }
  if (isDirectory && (await lstat(path)).isDirectory()) return false;
  await rm(path, { recursive: true, force: true });
  await make();
  return true;
}

/** Applies one layer to `root` (OCI image layer changeset semantics). */
export async function applyLayer(root: string, source: Readable, layer: string): Promise<void> {
  const written = new Set<string>();
  const umask = process.umask();
  /** Member directory → real directory known to exist; cleared whenever the tree changes shape. */
  const parents = new Map<string, string>();
  const parentOf = async (parentRel: string): Promise<string> => {
    let dir = parents.get(parentRel);
    if (dir === undefined) {
      dir = await resolveInRoot(root, parentRel, true);
      await mkdir(dir, { recursive: true });
      parents.set(parentRel, dir);
    }
    return dir;
  };
  const setMode = async (path: string, mode: number): Promise<void> => {
    // Creation applied the mode minus the umask; only special bits or masked bits need chmod.
    if (mode & umask || mode & 0o7000) await chmod(path, mode);
  };
  for await (const entry of readTar(source)) {
    const rel = memberPath(entry.path, layer);
    if (rel === '') {
      if (entry.type === 'directory') await chmod(root, entry.mode || 0o755);
      continue;
    }
    const base = posix.basename(rel);
    const parentRel = posix.dirname(rel);
    if (base === '.wh..wh..opq') {
      const dir = await resolveInRoot(root, parentRel, true);
      const children = await readdir(dir).catch(() => [] as string[]);
      for (const child of children) {
        const path = join(dir, child);
        if (!written.has(path)) await rm(path, { recursive: true, force: true });
      }
      parents.clear();
      continue;
    }
    if (base.startsWith('.wh.')) {
      const parent = await resolveInRoot(root, parentRel, true);
      await rm(join(parent, base.slice('.wh.'.length)), { recursive: true, force: true });
      parents.clear();
      continue;
    }
    const path = join(await parentOf(parentRel), base);
    let replaced: boolean;
    switch (entry.type) {
      case 'directory': {
        const mode = entry.mode || 0o755;
        replaced = await create(path, () => mkdir(path, { mode }), true);
        await setMode(path, mode);
        break;
      }
      case 'file':
        replaced = await create(
          path,
          () => writeFile(path, entry.data, { mode: entry.mode, flag: 'wx' }),
          false,
        );
        await setMode(path, entry.mode);
        break;
      case 'symlink':
        replaced = await create(path, () => symlink(entry.linkName, path), false);
        // A new symlink can redirect member paths below it.
        parents.clear();
        break;
      case 'hardlink': {
        const target = await resolveInRoot(root, memberPath(entry.linkName, layer), false);
        replaced = await create(path, () => link(target, path), false);
        break;
      }
      default:
        // Devices and FIFOs cannot be created without privileges a task does not need.
        continue;
    }
    if (replaced) parents.clear();
    written.add(path);
  }
}

function runConfig(config: unknown): ImageRunConfig {
  const c = ((config as { config?: Record<string, unknown> } | null)?.config ?? {}) as Record<
    string,
    unknown
  >;
  const strings = (v: unknown): string[] | undefined =>
    Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined;
  const out: ImageRunConfig = {};
  const entrypoint = strings(c.Entrypoint);
  const cmd = strings(c.Cmd);
  const env = strings(c.Env);
  if (entrypoint) out.entrypoint = entrypoint;
  if (cmd) out.cmd = cmd;
  if (env) out.env = env;
  if (typeof c.WorkingDir === 'string' && c.WorkingDir !== '') out.workingDir = c.WorkingDir;
  if (c.ExposedPorts && typeof c.ExposedPorts === 'object') {
    // The OCI spec allows `8080` for `8080/tcp`; report every port with its protocol.
    out.exposedPorts = Object.keys(c.ExposedPorts).map((p) => (p.includes('/') ? p : `${p}/tcp`));
  }
  if (typeof c.User === 'string' && c.User !== '') out.user = c.User;
  return out;
}

/** The registry's {@link ImageStore}. */
export class LocalImageStore implements ImageStore {
  private readonly inflight = new Map<
    string,
    Promise<{ rootfs: string; config: ImageRunConfig }>
  >();

  constructor(
    private readonly state: RegistryState,
    private readonly dataDir: string,
    /** `host:port` names under which clients reached this registry. */
    private readonly knownHosts: ReadonlySet<string>,
  ) {}

  private isOwnHost(host: string): boolean {
    return (
      this.knownHosts.has(host) ||
      LOOPBACK_HOST.test(host) ||
      new RegExp(`^${this.state.accountId}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com$`).test(host)
    );
  }

  /** Resolves `imageRef` to the image manifest for this host's platform, and the digest the reference named. */
  resolve(imageRef: string): { image: ImageRecord; digest: string; repositoryName: string } {
    const ref = parseImageReference(imageRef);
    if (!ref) throw pullError(imageRef, 'invalid reference format');
    const reference = ref.digest ?? ref.tag!;
    if (ref.host && !this.isOwnHost(ref.host)) {
      throw pullError(
        imageRef,
        `failed to do request: Head "https://${ref.host}/v2/${ref.repositoryName}/manifests/${reference}": dial tcp: lookup ${ref.host}: no such host`,
      );
    }
    const repo = this.state.repositories.get(ref.repositoryName);
    const top = repo ? this.state.resolve(repo, reference) : undefined;
    if (!repo || !top) throw pullError(imageRef, 'not found');
    let image = top;
    if (top.kind === 'index') {
      const children = (JSON.parse(top.manifest) as { manifests: Descriptor[] }).manifests;
      const platforms = preferredPlatforms();
      const pick = platforms
        .map((p) => children.find((m) => `${m.platform?.os}/${m.platform?.architecture}` === p))
        .find((m) => m !== undefined && repo.images.get(m.digest)?.kind === 'image');
      if (!pick) {
        throw new Error(
          `CannotPullContainerError: pull image manifest has been retried 1 time(s): no matching manifest for ${platforms[0]} in the manifest list entries`,
        );
      }
      image = repo.images.get(pick.digest)!;
    }
    return { image, digest: top.digest, repositoryName: repo.name };
  }

  async materialize(imageRef: string): Promise<MaterializedImage> {
    const { image, digest } = this.resolve(imageRef);
    let pending = this.inflight.get(image.digest);
    if (!pending) {
      pending = this.unpack(image, imageRef).finally(() => this.inflight.delete(image.digest));
      this.inflight.set(image.digest, pending);
    }
    const { rootfs, config } = await pending;
    return { rootfs, config, digest };
  }

  private async unpack(
    image: ImageRecord,
    imageRef: string,
  ): Promise<{ rootfs: string; config: ImageRunConfig }> {
    const hex = image.digest.slice('sha256:'.length);
    const dir = join(this.dataDir, 'images', hex);
    const configFile = join(dir, 'config.json');
    if (existsSync(configFile)) {
      return {
        rootfs: join(dir, 'rootfs'),
        config: JSON.parse(await readFile(configFile, 'utf8')) as ImageRunConfig,
      };
    }
    const manifest = JSON.parse(image.manifest) as { config: Descriptor; layers: Descriptor[] };
    const blobs = this.state.blobs;
    for (const d of [manifest.config, ...manifest.layers]) {
      if (!blobs.has(d.digest))
        throw pullError(imageRef, `failed to copy: blob ${d.digest} not found`);
    }
    const config = runConfig(
      JSON.parse((await blobs.read(manifest.config.digest)).toString('utf8')),
    );
    const tmp = join(this.dataDir, 'images', `.tmp-${randomUUID()}`);
    const rootfs = join(tmp, 'rootfs');
    await mkdir(rootfs, { recursive: true });
    try {
      for (const layer of manifest.layers) {
        try {
          await applyLayer(
            rootfs,
            await layerStream(blobs.path(layer.digest), layer.mediaType, layer.digest),
            layer.digest,
          );
        } catch (error) {
          throw new Error(
            `CannotPullContainerError: failed to extract layer ${layer.digest} of ${imageRef}: ${(error as Error).message}`,
            { cause: error },
          );
        }
      }
      await writeFile(join(tmp, 'config.json'), JSON.stringify(config));
      await mkdir(dirname(dir), { recursive: true });
      await rename(tmp, dir);
    } catch (error) {
      await rm(tmp, { recursive: true, force: true });
      if (existsSync(configFile)) {
        return { rootfs: join(dir, 'rootfs'), config };
      }
      throw error;
    }
    return { rootfs: join(dir, 'rootfs'), config };
  }
}
