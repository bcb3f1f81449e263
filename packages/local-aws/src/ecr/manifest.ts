/**
 * Image manifests as the registry stores them: media types, digests and the references a
 * manifest makes to blobs (image manifests) or to other manifests (indexes).
 */
import { createHash } from 'node:crypto';

/** Manifest and config media types the registry understands. */
export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

const IMAGE_MANIFEST_TYPES: ReadonlySet<string> = new Set([
  MediaType.ociManifest,
  MediaType.dockerManifest,
]);
const INDEX_TYPES: ReadonlySet<string> = new Set([
  MediaType.ociIndex,
  MediaType.dockerManifestList,
]);
const SCHEMA1_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
]);

/** Largest manifest the registry accepts, as ECR does (4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** A content descriptor inside a manifest. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

/** What the registry needs to know about a manifest it stores. */
export interface ParsedManifest {
  kind: 'image' | 'index';
  mediaType: string;
  /** Config media type, or the OCI `artifactType` when there is one. */
  artifactMediaType?: string;
  config?: Descriptor;
  layers: Descriptor[];
  /** Child manifests of an index. */
  manifests: Descriptor[];
}

/** A manifest that cannot be stored; `reason` tells which rule it broke. */
export class ManifestError extends Error {
  constructor(
    public readonly reason: 'invalid' | 'unsupported',
    message: string,
  ) {
    super(message);
    this.name = 'ManifestError';
  }
}

const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

/** True for a `sha256:<64 hex>` digest (the only algorithm this registry stores). */
export function isDigest(value: string): boolean {
  return DIGEST_PATTERN.test(value);
}

/** `sha256:<hex>` of `data`. */
export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function descriptor(value: unknown, where: string): Descriptor {
  if (typeof value !== 'object' || value === null) {
    throw new ManifestError('invalid', `${where} is not a descriptor object`);
  }
  const d = value as Record<string, unknown>;
  if (typeof d.digest !== 'string' || !isDigest(d.digest)) {
    throw new ManifestError('invalid', `${where} has an invalid digest \`${String(d.digest)}\``);
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw new ManifestError('invalid', `${where} has an invalid size \`${String(d.size)}\``);
  }
  if (typeof d.mediaType !== 'string' || d.mediaType === '') {
    throw new ManifestError('invalid', `${where} has no mediaType`);
  }
  return value as Descriptor;
}

/**
 * Parses a manifest body. `declaredType` is the Content-Type of a registry PUT or the
 * `imageManifestMediaType` of an ECR PutImage call; it must agree with the body's own `mediaType`.
 */
export function parseManifest(body: Buffer, declaredType?: string): ParsedManifest {
  if (body.length > MAX_MANIFEST_BYTES) {
    throw new ManifestError('invalid', `manifest is ${body.length} bytes, above the 4 MiB limit`);
  }
  const text = body.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(body)) {
    throw new ManifestError('invalid', 'manifest is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError('invalid', `manifest is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ManifestError('invalid', 'manifest is not a JSON object');
  }
  const m = json as Record<string, unknown>;
  const declared = declaredType?.split(';')[0].trim() || undefined;
  const own = typeof m.mediaType === 'string' ? m.mediaType : undefined;
  if (own && declared && own !== declared && declared !== 'application/json') {
    throw new ManifestError(
      'invalid',
      `manifest mediaType \`${own}\` does not match the declared type \`${declared}\``,
    );
  }
  let mediaType = own ?? (declared !== 'application/json' ? declared : undefined);
  if (!mediaType) {
    if (Array.isArray(m.manifests)) mediaType = MediaType.ociIndex;
    else if (m.config !== undefined && Array.isArray(m.layers)) mediaType = MediaType.ociManifest;
    else throw new ManifestError('invalid', 'manifest has no mediaType and no config or manifests');
  }
  if (SCHEMA1_TYPES.has(mediaType) || m.schemaVersion === 1) {
    throw new ManifestError('unsupported', 'Docker image manifest schema 1 is not supported');
  }
  if (m.schemaVersion !== 2) {
    throw new ManifestError(
      'invalid',
      `manifest schemaVersion must be 2, not ${String(m.schemaVersion)}`,
    );
  }
  const artifactType = typeof m.artifactType === 'string' ? m.artifactType : undefined;
  if (IMAGE_MANIFEST_TYPES.has(mediaType)) {
    if (!Array.isArray(m.layers))
      throw new ManifestError('invalid', 'image manifest has no layers array');
    const config = descriptor(m.config, 'config');
    const layers = m.layers.map((l, i) => descriptor(l, `layers[${i}]`));
    return {
      kind: 'image',
      mediaType,
      artifactMediaType: artifactType ?? config.mediaType,
      config,
      layers,
      manifests: [],
    };
  }
  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(m.manifests))
      throw new ManifestError('invalid', 'index has no manifests array');
    const manifests = m.manifests.map((d, i) => descriptor(d, `manifests[${i}]`));
    return { kind: 'index', mediaType, artifactMediaType: artifactType, layers: [], manifests };
  }
  throw new ManifestError('unsupported', `manifest media type \`${mediaType}\` is not supported`);
}
