/**
 * The registry's model, shared by the ECR API and the OCI data plane: repositories, the images
 * (manifests) they hold, tags, which blobs each repository may use, and upload counters.
 * Blob bytes live in the {@link BlobStore}; everything else is in memory, with snapshot/restore.
 */
import type { BlobStore } from './blob-store';
import { ManifestError, parseManifest, sha256Digest, type ParsedManifest } from './manifest';

export type TagMutability =
  'MUTABLE' | 'IMMUTABLE' | 'MUTABLE_WITH_EXCLUSION' | 'IMMUTABLE_WITH_EXCLUSION';

export interface MutabilityExclusionFilter {
  filterType: 'WILDCARD';
  filter: string;
}

export interface ResourceTag {
  Key: string;
  Value: string;
}

/** One manifest stored in a repository. */
export interface ImageRecord {
  digest: string;
  kind: ParsedManifest['kind'];
  mediaType: string;
  artifactMediaType?: string;
  /** The manifest exactly as pushed. */
  manifest: string;
  sizeInBytes: number;
  /** Epoch milliseconds. */
  pushedAt: number;
  lastPulledAt?: number;
  /** Blobs (image manifest) or child manifests (index) this manifest references. */
  references: string[];
}

export interface RepositoryRecord {
  name: string;
  arn: string;
  region: string;
  registryId: string;
  /** Epoch milliseconds. */
  createdAt: number;
  mutability: TagMutability;
  exclusionFilters: MutabilityExclusionFilter[];
  scanOnPush: boolean;
  encryption: { encryptionType: string; kmsKey?: string };
  tags: ResourceTag[];
  images: Map<string, ImageRecord>;
  /** tag → manifest digest */
  tagIndex: Map<string, string>;
  /** Blobs uploaded to or mounted into this repository. */
  blobs: Set<string>;
}

/** Bytes and blobs that reached one repository through the data plane. */
export interface UploadCounters {
  /** Blob bytes received in upload bodies (PATCH/PUT/monolithic POST), failed uploads included. */
  blobBytes: number;
  /**
   * Bytes of the completed uploads whose blobs are layers of an image now in the repository
   * (config blobs and blobs no manifest uses as a layer are not counted).
   */
  layerBytes: number;
  blobsUploaded: number;
  blobsMounted: number;
  manifestsPut: number;
}

/** Counters as kept: `layerBytes` is derived from `uploadedBlobs` when read. */
interface CounterRecord extends Omit<UploadCounters, 'layerBytes'> {
  /** digest → bytes of each completed upload into the repository */
  uploadedBlobs: Record<string, number>;
}

export type EcrStateErrorKind =
  | 'RepositoryNotFound'
  | 'ImageNotFound'
  | 'ManifestInvalid'
  | 'ManifestUnsupported'
  | 'DigestMismatch'
  | 'LayersNotFound'
  | 'ReferencedImagesNotFound'
  | 'TagImmutable'
  | 'ReferencedByIndex';

/** A rule of the registry model was broken; each plane maps `kind` to its own error code. */
export class EcrStateError extends Error {
  constructor(
    public readonly kind: EcrStateErrorKind,
    message: string,
    public readonly digests: string[] = [],
  ) {
    super(message);
    this.name = 'EcrStateError';
  }
}

/** What {@link RegistryState.putManifest} did. */
export interface PutManifestResult {
  image: ImageRecord;
  /** The manifest was not in the repository before. */
  created: boolean;
}

const TAG_PATTERN = /^[\w][\w.-]{0,127}$/;

/** True for a tag a registry accepts (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`). */
export function isValidTag(tag: string): boolean {
  return TAG_PATTERN.test(tag);
}

function wildcardMatches(filter: string, tag: string): boolean {
  const pattern = filter
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`).test(tag);
}

interface SnapshotImage extends Omit<ImageRecord, 'references'> {
  references: string[];
}

interface SnapshotRepository extends Omit<RepositoryRecord, 'images' | 'tagIndex' | 'blobs'> {
  images: SnapshotImage[];
  tagIndex: Record<string, string>;
  blobs: string[];
}

/** The JSON form of the registry state. */
export interface RegistrySnapshot {
  repositories: SnapshotRepository[];
  /** Upload counters by repository (`uploadedBlobs` lists each completed upload). */
  uploads: Record<string, UploadCounters & Pick<CounterRecord, 'uploadedBlobs'>>;
}

/** Repositories, images and tags of one local registry. */
export class RegistryState {
  readonly repositories = new Map<string, RepositoryRecord>();
  private readonly counters = new Map<string, CounterRecord>();

  constructor(
    readonly blobs: BlobStore,
    readonly accountId: string,
  ) {}

  /** The repository named `name`; throws `RepositoryNotFound` when there is none. */
  repository(name: string): RepositoryRecord {
    const repo = this.repositories.get(name);
    if (!repo) {
      throw new EcrStateError(
        'RepositoryNotFound',
        `The repository with name '${name}' does not exist in the registry with id '${this.accountId}'`,
      );
    }
    return repo;
  }

  private counterRecord(repositoryName: string): CounterRecord {
    let c = this.counters.get(repositoryName);
    if (!c) {
      c = { blobBytes: 0, blobsUploaded: 0, blobsMounted: 0, manifestsPut: 0, uploadedBlobs: {} };
      this.counters.set(repositoryName, c);
    }
    return c;
  }

  /** Counts bytes received in an upload body for `repositoryName`. */
  countBlobBytes(repositoryName: string, bytes: number): void {
    this.counterRecord(repositoryName).blobBytes += bytes;
  }

  /** Counts a completed blob upload of `size` bytes. */
  countUpload(repositoryName: string, digest: string, size: number): void {
    const c = this.counterRecord(repositoryName);
    c.blobsUploaded += 1;
    c.uploadedBlobs[digest] = (c.uploadedBlobs[digest] ?? 0) + size;
  }

  countMount(repositoryName: string): void {
    this.counterRecord(repositoryName).blobsMounted += 1;
  }

  countManifest(repositoryName: string): void {
    this.counterRecord(repositoryName).manifestsPut += 1;
  }

  /** Upload counters of `repositoryName` (zeros when nothing was uploaded). */
  uploadCounters(repositoryName: string): UploadCounters {
    const c = this.counters.get(repositoryName);
    if (!c)
      return { blobBytes: 0, layerBytes: 0, blobsUploaded: 0, blobsMounted: 0, manifestsPut: 0 };
    const layers = new Set<string>();
    for (const image of this.repositories.get(repositoryName)?.images.values() ?? []) {
      if (image.kind !== 'image') continue;
      const manifest = JSON.parse(image.manifest) as { layers: { digest: string }[] };
      for (const layer of manifest.layers) layers.add(layer.digest);
    }
    const layerBytes = Object.entries(c.uploadedBlobs)
      .filter(([digest]) => layers.has(digest))
      .reduce((sum, [, bytes]) => sum + bytes, 0);
    return {
      blobBytes: c.blobBytes,
      layerBytes,
      blobsUploaded: c.blobsUploaded,
      blobsMounted: c.blobsMounted,
      manifestsPut: c.manifestsPut,
    };
  }

  /** Counters of every repository that received something. */
  allUploadCounters(): Record<string, UploadCounters> {
    return Object.fromEntries([...this.counters.keys()].map((k) => [k, this.uploadCounters(k)]));
  }

  /** Whether pushing a different manifest under `tag` is refused by the repository's mutability. */
  isTagImmutable(repo: RepositoryRecord, tag: string): boolean {
    const excluded = repo.exclusionFilters.some((f) => wildcardMatches(f.filter, tag));
    switch (repo.mutability) {
      case 'IMMUTABLE':
        return true;
      case 'MUTABLE':
        return false;
      case 'IMMUTABLE_WITH_EXCLUSION':
        return !excluded;
      case 'MUTABLE_WITH_EXCLUSION':
        return excluded;
    }
  }

  /** Tags that point at `digest`, in the order they were set. */
  tagsOf(repo: RepositoryRecord, digest: string): string[] {
    return [...repo.tagIndex].filter(([, d]) => d === digest).map(([t]) => t);
  }

  /** The image `reference` (a tag or a digest) names in `repo`, if any. */
  resolve(repo: RepositoryRecord, reference: string): ImageRecord | undefined {
    const digest = reference.startsWith('sha256:') ? reference : repo.tagIndex.get(reference);
    return digest ? repo.images.get(digest) : undefined;
  }

  /** Indexes in `repo` that reference `digest`. */
  referencingIndexes(repo: RepositoryRecord, digest: string): ImageRecord[] {
    return [...repo.images.values()].filter(
      (i) => i.kind === 'index' && i.references.includes(digest),
    );
  }

  /**
   * Stores `body` as a manifest of `repo` and points `tag` at it. Checks the digest (when
   * `expectedDigest` is given), that every referenced blob or child manifest is in the
   * repository, and tag immutability (the same digest under an immutable tag is accepted).
   */
  putManifest(
    repo: RepositoryRecord,
    body: Buffer,
    declaredType: string | undefined,
    tag: string | undefined,
    expectedDigest?: string,
  ): PutManifestResult {
    let parsed: ParsedManifest;
    try {
      parsed = parseManifest(body, declaredType);
    } catch (error) {
      if (error instanceof ManifestError) {
        throw new EcrStateError(
          error.reason === 'invalid' ? 'ManifestInvalid' : 'ManifestUnsupported',
          error.message,
        );
      }
      throw error;
    }
    const digest = sha256Digest(body);
    if (expectedDigest !== undefined && expectedDigest !== digest) {
      throw new EcrStateError(
        'DigestMismatch',
        `The manifest's digest '${digest}' does not match the digest '${expectedDigest}' given`,
        [digest],
      );
    }
    let sizeInBytes: number;
    let references: string[];
    if (parsed.kind === 'image') {
      const blobs = [parsed.config!, ...parsed.layers];
      const missing = blobs
        .filter((b) => !repo.blobs.has(b.digest) || this.blobs.size(b.digest) !== b.size)
        .map((b) => b.digest);
      if (missing.length) {
        throw new EcrStateError(
          'LayersNotFound',
          `Layers with digests '[${missing.join(', ')}]' required for pushing image into repository with name '${repo.name}' in the registry with id '${repo.registryId}' do not exist`,
          missing,
        );
      }
      sizeInBytes = parsed.layers.reduce((sum, l) => sum + l.size, 0);
      references = [...new Set(blobs.map((b) => b.digest))];
    } else {
      const missing = parsed.manifests
        .filter((m) => !repo.images.has(m.digest))
        .map((m) => m.digest);
      if (missing.length) {
        throw new EcrStateError(
          'ReferencedImagesNotFound',
          `Some of the images referenced by the manifest list do not exist in the repository with name '${repo.name}': [${missing.join(', ')}]`,
          missing,
        );
      }
      sizeInBytes = Math.max(
        0,
        ...parsed.manifests.map((m) => repo.images.get(m.digest)!.sizeInBytes),
      );
      references = [...new Set(parsed.manifests.map((m) => m.digest))];
    }
    if (tag !== undefined) {
      const current = repo.tagIndex.get(tag);
      if (current !== undefined && current !== digest && this.isTagImmutable(repo, tag)) {
        throw new EcrStateError(
          'TagImmutable',
          `The image tag '${tag}' already exists in the '${repo.name}' repository and cannot be overwritten because the tag is immutable.`,
        );
      }
    }
    let image = repo.images.get(digest);
    const created = image === undefined;
    if (!image) {
      image = {
        digest,
        kind: parsed.kind,
        mediaType: parsed.mediaType,
        artifactMediaType: parsed.artifactMediaType,
        manifest: body.toString('utf8'),
        sizeInBytes,
        pushedAt: Date.now(),
        references,
      };
      repo.images.set(digest, image);
    }
    if (tag !== undefined) {
      // Re-inserting moves the tag to the end: tags list in the order they were last set.
      repo.tagIndex.delete(tag);
      repo.tagIndex.set(tag, digest);
    }
    return { image, created };
  }

  /** Removes an image and every tag pointing at it. */
  deleteImage(repo: RepositoryRecord, digest: string): string[] {
    if (!repo.images.has(digest)) {
      throw new EcrStateError('ImageNotFound', `Requested image not found`);
    }
    const parents = this.referencingIndexes(repo, digest);
    if (parents.length) {
      throw new EcrStateError(
        'ReferencedByIndex',
        `Requested image referenced by manifest list: [${parents.map((p) => p.digest).join(', ')}]`,
      );
    }
    const tags = this.tagsOf(repo, digest);
    for (const t of tags) repo.tagIndex.delete(t);
    repo.images.delete(digest);
    return tags;
  }

  snapshot(): RegistrySnapshot {
    return {
      repositories: [...this.repositories.values()].map((r) => ({
        ...r,
        images: [...r.images.values()].map((i) => ({ ...i })),
        tagIndex: Object.fromEntries(r.tagIndex),
        blobs: [...r.blobs],
      })),
      uploads: Object.fromEntries(
        [...this.counters].map(([name, c]) => [
          name,
          { ...this.uploadCounters(name), uploadedBlobs: { ...c.uploadedBlobs } },
        ]),
      ),
    };
  }

  restore(snapshot: RegistrySnapshot): void {
    this.repositories.clear();
    this.counters.clear();
    for (const r of snapshot.repositories ?? []) {
      this.repositories.set(r.name, {
        ...r,
        images: new Map(r.images.map((i) => [i.digest, { ...i }])),
        tagIndex: new Map(Object.entries(r.tagIndex)),
        blobs: new Set(r.blobs),
      });
    }
    for (const [name, c] of Object.entries(snapshot.uploads ?? {})) {
      this.counters.set(name, {
        blobBytes: c.blobBytes,
        blobsUploaded: c.blobsUploaded,
        blobsMounted: c.blobsMounted,
        manifestsPut: c.manifestsPut,
        uploadedBlobs: { ...c.uploadedBlobs },
      });
    }
  }
}
