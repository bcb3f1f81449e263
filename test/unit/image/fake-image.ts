/** In-memory images, registry and builder for the image package's unit tests. */
import { createHash } from 'node:crypto';
import type { PublishProgress } from '../../../packages/image/src/build-and-publish';
import type { BuildOutcome, BuildRequest, Builder } from '../../../packages/image/src/builder';
import type { ImageSource } from '../../../packages/image/src/copy';
import {
  MEDIA_TYPES,
  type BlobBody,
  type Descriptor,
  type Manifest,
  type RegistryTarget,
} from '../../../packages/image/src/registry';
import type { FakeEcr } from './fake-ecr';

export const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** An image held in memory, as a builder's local layout would hold it. */
export function memoryImage(
  layers: string[],
  labels: Record<string, string> = {},
): ImageSource & { digest: string; blobs: Map<string, Buffer> } {
  const blobs = new Map<string, Buffer>();
  const descriptor = (data: Buffer, mediaType: string): Descriptor => {
    blobs.set(sha(data), data);
    return { mediaType, digest: sha(data), size: data.length };
  };
  const config = descriptor(
    Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: labels } })),
    'application/vnd.oci.image.config.v1+json',
  );
  const layerDescriptors = layers.map((l) =>
    descriptor(Buffer.from(l), 'application/vnd.oci.image.layer.v1.tar+gzip'),
  );
  const json = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config,
    layers: layerDescriptors,
  };
  const bytes = Buffer.from(JSON.stringify(json));
  const digest = sha(bytes);
  return {
    digest,
    blobs,
    async manifest(d: string): Promise<Manifest> {
      if (d !== digest) throw new Error(`no manifest ${d}`);
      return { digest, bytes, json, mediaType: MEDIA_TYPES.ociManifest };
    },
    blob(d: Descriptor): BlobBody {
      return blobs.get(d.digest) as Buffer;
    },
  };
}

/** A registry data plane in memory; a pushed manifest becomes visible to the fake ECR. */
export class FakeRegistry implements RegistryTarget {
  readonly blobs = new Set<string>();
  readonly uploads: string[] = [];
  readonly manifests: string[] = [];

  constructor(private readonly ecr: FakeEcr) {}

  async getManifest(repository: string, reference: string): Promise<Manifest | undefined> {
    const found = await this.ecr
      .getManifest(repository, { digest: reference })
      .catch(() => undefined);
    if (!found) return undefined;
    const bytes = Buffer.from(found.manifest);
    return {
      digest: found.digest,
      bytes,
      json: JSON.parse(found.manifest),
      mediaType: found.mediaType,
    };
  }

  async hasBlob(_repository: string, digest: string): Promise<boolean> {
    return this.blobs.has(digest);
  }

  async mountBlob(): Promise<boolean> {
    return false;
  }

  async uploadBlob(_repository: string, digest: string, body: BlobBody): Promise<void> {
    if (!Buffer.isBuffer(body)) throw new Error('expected bytes');
    if (sha(body) !== digest) throw new Error(`blob ${digest} has other content`);
    this.uploads.push(digest);
    this.blobs.add(digest);
  }

  async putManifest(
    repository: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<string> {
    this.manifests.push(`${repository}@${reference}`);
    this.ecr.storeManifest(repository, {
      digest: sha(bytes),
      manifest: bytes.toString('utf8'),
      mediaType,
    });
    return sha(bytes);
  }
}

/** A builder that records what it was asked and hands back a prepared outcome. */
export class FakeBuilder implements Builder {
  readonly name = 'buildah' as const;
  readonly calls: string[] = [];
  request?: BuildRequest;

  /** Present only when the builder was given notes on its settings. */
  prepare?: () => Promise<{ notes: string[] }>;

  constructor(
    private readonly outcome: (req: BuildRequest) => BuildOutcome,
    notes?: string[],
  ) {
    if (notes) {
      this.prepare = async () => {
        this.calls.push('prepare');
        return { notes };
      };
    }
  }

  async login(host: string, username: string, password: string): Promise<void> {
    this.calls.push(`login ${host} ${username}:${password}`);
  }

  async build(req: BuildRequest): Promise<BuildOutcome> {
    this.calls.push('build');
    this.request = req;
    req.onLine?.('STEP 1/2: FROM scratch');
    return this.outcome(req);
  }
}

export function recorder(): PublishProgress & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (text) => lines.push(text),
    output: (line) => lines.push(`output: ${line}`),
    phase: async (title, work) => {
      lines.push(`[${title}]`);
      return work();
    },
  };
}

/** A clock that moves by `stepMs` each time it is read. */
export function steppingClock(stepMs: number): { now: () => number } {
  let t = 1_000_000;
  return { now: () => (t += stepMs) };
}
