/**
 * Small OCI images built in memory for tests: tar layers written by hand and gzipped with
 * node:zlib, an image config and manifest, pushed to a registry over plain HTTP with Basic
 * auth, or written as an OCI image layout directory for skopeo and buildah.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetAuthorizationTokenCommand, type ECRClient } from '@aws-sdk/client-ecr';

/** A layer member: file content, or a file with a mode, a symlink or a directory. */
export type LayerEntry =
  | string
  | Buffer
  | { content: string | Buffer; mode?: number }
  | { symlink: string }
  | { directory: true; mode?: number };

/** Paths (relative, `/`-separated) to members of one layer. Parent directories are added. */
export type LayerFiles = Record<string, LayerEntry>;

/** The run settings of an image config (OCI `config` object). */
export interface OciRunSettings {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  ExposedPorts?: Record<string, object>;
  User?: string;
}

export interface OciImageSpec {
  /** Members of a single layer. */
  files?: LayerFiles;
  /** Several layers, bottom first (used instead of `files`). */
  layers?: LayerFiles[];
  config?: OciRunSettings;
  /** `oci` (default) or `docker` (Docker v2 schema 2 media types). */
  format?: 'oci' | 'docker';
  /** Gzip the layers (default true). */
  gzip?: boolean;
  architecture?: string;
  os?: string;
  /** Add a directory entry for every parent directory (default true), as image builders do. */
  parentDirectories?: boolean;
}

export interface Blob {
  digest: string;
  mediaType: string;
  data: Buffer;
}

/** An image held in memory. */
export interface OciImage {
  manifest: Buffer;
  mediaType: string;
  digest: string;
  config: Blob;
  layers: Blob[];
}

/** An image index and the images it lists. */
export interface OciIndex {
  manifest: Buffer;
  mediaType: string;
  digest: string;
  images: OciImage[];
}

/** Where and as whom to push. */
export interface PushTarget {
  /** `http://host:port` or `host:port` of the registry. */
  registry: string;
  repository: string;
  tag?: string;
  username: string;
  password: string;
}

/** `sha256:<hex>` of `data`. */
export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function header(name: string, type: string, size: number, mode: number, linkName = ''): Buffer {
  const block = Buffer.alloc(512);
  const put = (value: string, offset: number, length: number): void => {
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length > length)
      throw new Error(`tar field \`${value}\` is longer than ${length} bytes`);
    bytes.copy(block, offset);
  };
  const num = (value: number, offset: number, length: number): void =>
    put(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length);
  put(name, 0, 100);
  num(mode, 100, 8);
  num(0, 108, 8);
  num(0, 116, 8);
  num(size, 124, 12);
  num(0, 136, 12);
  block.fill(0x20, 148, 156);
  put(type, 156, 1);
  put(linkName, 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put('root', 265, 32);
  put('root', 297, 32);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return block;
}

function pad(data: Buffer): Buffer {
  const rest = data.length % 512;
  return rest ? Buffer.concat([data, Buffer.alloc(512 - rest)]) : data;
}

function member(name: string, type: string, data: Buffer, mode: number, linkName = ''): Buffer[] {
  const parts: Buffer[] = [];
  if (Buffer.byteLength(name) > 100 || Buffer.byteLength(linkName) > 100) {
    const record = (key: string, value: string): string => {
      const body = ` ${key}=${value}\n`;
      const bodyLength = Buffer.byteLength(body);
      let length = bodyLength + String(bodyLength).length;
      if (String(length).length !== String(bodyLength).length)
        length = bodyLength + String(length).length;
      return `${length}${body}`;
    };
    const pax = Buffer.from(
      record('path', name) + (linkName ? record('linkpath', linkName) : ''),
      'utf8',
    );
    parts.push(header('PaxHeader', 'x', pax.length, 0o644), pad(pax));
    // The ustar fields hold a short stand-in; readers take the PAX values.
    name = `long-${sha256(name).slice(7, 27)}${name.endsWith('/') ? '/' : ''}`;
    linkName = linkName ? `long-${sha256(linkName).slice(7, 27)}` : '';
  }
  parts.push(header(name, type, data.length, mode, linkName));
  if (data.length) parts.push(pad(data));
  return parts;
}

/**
 * An uncompressed tar archive of `files` in path order, each preceded by entries for its
 * parent directories unless `parentDirectories` is false.
 */
export function makeTar(files: LayerFiles, parentDirectories = true): Buffer {
  const parts: Buffer[] = [];
  const dirs = new Set<string>();
  for (const path of Object.keys(files).sort()) {
    const segments = path.split('/');
    for (let i = 1; parentDirectories && i < segments.length; i++) {
      const dir = segments.slice(0, i).join('/');
      if (!dirs.has(dir) && !(dir in files)) {
        dirs.add(dir);
        parts.push(...member(`${dir}/`, '5', Buffer.alloc(0), 0o755));
      }
    }
    const entry = files[path];
    if (typeof entry === 'string' || Buffer.isBuffer(entry)) {
      parts.push(...member(path, '0', Buffer.from(entry), 0o644));
    } else if ('symlink' in entry) {
      parts.push(...member(path, '2', Buffer.alloc(0), 0o777, entry.symlink));
    } else if ('directory' in entry) {
      dirs.add(path);
      parts.push(...member(`${path}/`, '5', Buffer.alloc(0), entry.mode ?? 0o755));
    } else {
      parts.push(...member(path, '0', Buffer.from(entry.content), entry.mode ?? 0o644));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const TYPES = {
  oci: {
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    index: 'application/vnd.oci.image.index.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    layer: 'application/vnd.oci.image.layer.v1.tar',
  },
  docker: {
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    index: 'application/vnd.docker.distribution.manifest.list.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    layer: 'application/vnd.docker.image.rootfs.diff.tar',
  },
} as const;

/** Builds an image in memory. Identical specs give identical digests. */
export function buildOciImage(spec: OciImageSpec): OciImage {
  const format = spec.format ?? 'oci';
  const types = TYPES[format];
  const gzip = spec.gzip ?? true;
  const layerFiles = spec.layers ?? [spec.files ?? {}];
  const diffIds: string[] = [];
  const layers: Blob[] = layerFiles.map((files) => {
    const tar = makeTar(files, spec.parentDirectories ?? true);
    diffIds.push(sha256(tar));
    const data = gzip ? gzipSync(tar) : tar;
    const mediaType = gzip ? `${types.layer}${format === 'oci' ? '+gzip' : '.gzip'}` : types.layer;
    return { digest: sha256(data), mediaType, data };
  });
  const configJson = {
    created: '2026-01-01T00:00:00Z',
    architecture: spec.architecture ?? 'amd64',
    os: spec.os ?? 'linux',
    config: spec.config ?? {},
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map(() => ({
      created: '2026-01-01T00:00:00Z',
      created_by: 'oci-image test helper',
    })),
  };
  const configData = Buffer.from(JSON.stringify(configJson));
  const config: Blob = { digest: sha256(configData), mediaType: types.config, data: configData };
  const descriptor = (b: Blob): object => ({
    mediaType: b.mediaType,
    digest: b.digest,
    size: b.data.length,
  });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: types.manifest,
      config: descriptor(config),
      layers: layers.map(descriptor),
    }),
  );
  return { manifest, mediaType: types.manifest, digest: sha256(manifest), config, layers };
}

/** Builds an index over images (each image's config gives its platform). */
export function buildOciIndex(images: OciImage[], format: 'oci' | 'docker' = 'oci'): OciIndex {
  const mediaType = TYPES[format].index;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      manifests: images.map((image) => {
        const config = JSON.parse(image.config.data.toString('utf8')) as {
          os: string;
          architecture: string;
        };
        return {
          mediaType: image.mediaType,
          digest: image.digest,
          size: image.manifest.length,
          platform: { os: config.os, architecture: config.architecture },
        };
      }),
    }),
  );
  return { manifest, mediaType, digest: sha256(manifest), images };
}

function baseUrl(registry: string): string {
  return registry.includes('://') ? registry.replace(/\/+$/, '') : `http://${registry}`;
}

async function check(response: Response, what: string): Promise<Response> {
  if (!response.ok) {
    throw new Error(`${what} failed: HTTP ${response.status} ${await response.text()}`);
  }
  return response;
}

/** Uploads a blob unless the repository already has it (POST, then PUT `?digest=`). */
async function pushBlob(target: PushTarget, auth: string, blob: Blob): Promise<void> {
  const base = baseUrl(target.registry);
  const head = await fetch(`${base}/v2/${target.repository}/blobs/${blob.digest}`, {
    method: 'HEAD',
    headers: { Authorization: auth },
  });
  if (head.ok) return;
  const start = await check(
    await fetch(`${base}/v2/${target.repository}/blobs/uploads/`, {
      method: 'POST',
      headers: { Authorization: auth },
    }),
    `starting the upload of ${blob.digest}`,
  );
  const location = new URL(start.headers.get('location') ?? '', `${base}/`);
  location.searchParams.set('digest', blob.digest);
  await check(
    await fetch(location, {
      method: 'PUT',
      headers: { Authorization: auth, 'Content-Type': 'application/octet-stream' },
      body: blob.data,
    }),
    `uploading ${blob.digest}`,
  );
}

async function putManifest(
  target: PushTarget,
  auth: string,
  reference: string,
  manifest: Buffer,
  mediaType: string,
): Promise<string> {
  const response = await check(
    await fetch(`${baseUrl(target.registry)}/v2/${target.repository}/manifests/${reference}`, {
      method: 'PUT',
      headers: { Authorization: auth, 'Content-Type': mediaType },
      body: manifest,
    }),
    `putting manifest ${reference}`,
  );
  return response.headers.get('docker-content-digest') ?? '';
}

function basicAuth(target: PushTarget): string {
  return `Basic ${Buffer.from(`${target.username}:${target.password}`).toString('base64')}`;
}

function reference(
  target: PushTarget,
  digest: string,
): { digest: string; ref: string; digestRef: string } {
  const host = baseUrl(target.registry).replace(/^\w+:\/\//, '');
  const repo = `${host}/${target.repository}`;
  return {
    digest,
    ref: target.tag ? `${repo}:${target.tag}` : `${repo}@${digest}`,
    digestRef: `${repo}@${digest}`,
  };
}

/**
 * Pushes an image (or an index and its images) and tags it `target.tag` (by digest only when
 * there is no tag). Returns the manifest digest the registry reported, `host:port/repo:tag` and
 * `host:port/repo@digest`.
 */
export async function pushOciImage(
  image: OciImage | OciIndex,
  target: PushTarget,
): Promise<{ digest: string; ref: string; digestRef: string }> {
  const auth = basicAuth(target);
  const images = 'images' in image ? image.images : [image];
  for (const img of images) {
    for (const blob of [...img.layers, img.config]) await pushBlob(target, auth, blob);
    if ('images' in image) await putManifest(target, auth, img.digest, img.manifest, img.mediaType);
  }
  const digest = await putManifest(
    target,
    auth,
    target.tag ?? image.digest,
    image.manifest,
    image.mediaType,
  );
  if (digest !== image.digest) {
    throw new Error(
      `registry reported digest ${digest} for a manifest whose digest is ${image.digest}`,
    );
  }
  return reference(target, digest);
}

/** Writes `image` as an OCI image layout directory (`oci:<dir>:<tag>` for skopeo and buildah). */
export async function writeOciLayout(image: OciImage, dir: string, tag = 'latest'): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const blob of [
    ...image.layers,
    image.config,
    { digest: image.digest, data: image.manifest },
  ]) {
    await writeFile(join(dir, 'blobs', 'sha256', blob.digest.slice('sha256:'.length)), blob.data);
  }
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: image.mediaType,
          digest: image.digest,
          size: image.manifest.length,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
}

/** The registry user name and password from ECR's authorization token (`AWS:<password>`). */
export async function ecrCredentials(
  ecr: ECRClient,
): Promise<{ username: string; password: string }> {
  const auth = await ecr.send(new GetAuthorizationTokenCommand({}));
  const [username, password] = Buffer.from(auth.authorizationData![0].authorizationToken!, 'base64')
    .toString()
    .split(':');
  return { username, password };
}
