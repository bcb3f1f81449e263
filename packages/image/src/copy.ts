import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  isIndex,
  manifestMediaType,
  RegistryError,
  sha256,
  type BlobBody,
  type Descriptor,
  type Manifest,
  type ManifestJson,
  type RegistryClient,
  type RegistryTarget,
  type TransferStats,
} from './registry';

/** Where an image's manifests and blobs are read from when it is pushed or copied. */
export interface ImageSource {
  /** Reads a manifest by digest. */
  manifest(digest: string): Promise<Manifest>;
  /** The content of a blob. */
  blob(descriptor: Descriptor): BlobBody;
  /**
   * When the source is a repository of the target's own registry: its name, so blobs are
   * mounted instead of uploaded.
   */
  mountFrom?: string;
}

/** An OCI image layout directory (as `buildah push … oci:<dir>` writes it). */
export class OciLayoutSource implements ImageSource {
  constructor(readonly dir: string) {}

  private path(digest: string): string {
    const [alg, hex] = digest.split(':');
    return join(this.dir, 'blobs', alg, hex);
  }

  /** The top manifest the layout's index.json points to. */
  async root(): Promise<Descriptor> {
    const index = JSON.parse(await readFile(join(this.dir, 'index.json'), 'utf8')) as ManifestJson;
    const first = index.manifests?.[0];
    if (!first) throw new RegistryError(`the OCI layout ${this.dir} holds no image`);
    return first;
  }

  async manifest(digest: string): Promise<Manifest> {
    const bytes = await readFile(this.path(digest));
    if (sha256(bytes) !== digest)
      throw new RegistryError(`blob ${digest} in the OCI layout is corrupt`);
    const json = JSON.parse(bytes.toString('utf8')) as ManifestJson;
    return { digest, bytes, json, mediaType: manifestMediaType(json) };
  }

  blob(descriptor: Descriptor): BlobBody {
    const path = this.path(descriptor.digest);
    return {
      size: descriptor.size,
      open: () => Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
    };
  }
}

/** A repository of a registry, read through a {@link RegistryClient}. */
export class RegistrySource implements ImageSource {
  constructor(
    readonly client: RegistryClient,
    readonly repository: string,
    readonly mountFrom?: string,
  ) {}

  async manifest(digest: string): Promise<Manifest> {
    const m = await this.client.getManifest(this.repository, digest);
    if (!m) {
      throw new RegistryError(
        `${this.client.host}/${this.repository}@${digest} does not exist`,
        404,
      );
    }
    return m;
  }

  blob(descriptor: Descriptor): BlobBody {
    return {
      size: descriptor.size,
      open: () => this.client.openBlob(this.repository, descriptor.digest),
    };
  }
}

/** What {@link pushImage} did. */
export interface PushResult {
  digest: string;
  mediaType: string;
  /** The top manifest's exact bytes (for ECR PutImage). */
  manifest: Buffer;
  /** Compressed size of the layers (of every platform), as ECR counts it. */
  sizeBytes: number;
  /** True when the target already held the image (nothing was sent). */
  alreadyPresent: boolean;
}

async function eachLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(workers);
}

/** Compressed size of an image's layers (every platform's, for an index), as ECR counts it. */
async function sizeOf(source: ImageSource, m: Manifest): Promise<number> {
  if (isIndex(m.mediaType)) {
    let total = 0;
    for (const child of m.json.manifests ?? [])
      total += await sizeOf(source, await source.manifest(child.digest));
    return total;
  }
  return (m.json.layers ?? []).reduce((n, d) => n + d.size, 0);
}

/** Compressed size of the layers of the image `digest` held by `source`. */
export async function sizeOfImage(source: ImageSource, digest: string): Promise<number> {
  return sizeOf(source, await source.manifest(digest));
}

/**
 * Pushes the image `digest` from `source` into `repository` of `target`, by digest (no tag):
 * blobs the repository holds are skipped, blobs of another repository of the same registry are
 * mounted, the rest are uploaded; child manifests before their index. The digest never changes:
 * manifests are sent as the exact bytes read.
 */
export async function pushImage(opts: {
  source: ImageSource;
  digest: string;
  target: RegistryTarget;
  repository: string;
  stats: TransferStats;
  /** Blobs sent at once (default 3). */
  concurrency?: number;
}): Promise<PushResult> {
  const { source, target, repository, stats } = opts;
  const top = await source.manifest(opts.digest);
  const sizeBytes = await sizeOf(source, top);
  const existing = await target.getManifest(repository, top.digest);
  if (existing) {
    return {
      digest: top.digest,
      mediaType: top.mediaType,
      manifest: top.bytes,
      sizeBytes,
      alreadyPresent: true,
    };
  }
  const push = async (m: Manifest): Promise<void> => {
    if (isIndex(m.mediaType)) {
      for (const child of m.json.manifests ?? []) {
        if (await target.getManifest(repository, child.digest)) continue;
        await push(await source.manifest(child.digest));
      }
    } else {
      const blobs = [m.json.config, ...(m.json.layers ?? [])].filter(Boolean) as Descriptor[];
      const unique = [...new Map(blobs.map((b) => [b.digest, b])).values()];
      await eachLimited(unique, opts.concurrency ?? 3, async (blob) => {
        if (source.mountFrom && source.mountFrom !== repository) {
          // One round trip: the registry mounts the blob, or answers 201 when it already has it.
          if (await target.mountBlob(repository, blob.digest, source.mountFrom)) {
            stats.blobsMounted++;
            return;
          }
        } else if (await target.hasBlob(repository, blob.digest)) {
          stats.blobsPresent++;
          return;
        }
        await target.uploadBlob(repository, blob.digest, source.blob(blob));
        stats.blobsUploaded++;
        stats.bytesUploaded += blob.size;
      });
    }
    const stored = await target.putManifest(repository, m.digest, m.bytes, m.mediaType);
    if (stored !== m.digest) {
      throw new RegistryError(
        `the registry stored ${repository}@${m.digest} under the different digest ${stored}`,
      );
    }
  };
  await push(top);
  return {
    digest: top.digest,
    mediaType: top.mediaType,
    manifest: top.bytes,
    sizeBytes,
    alreadyPresent: false,
  };
}
