import { pushImage, RegistrySource, type ImageSource } from './copy';
import {
  applyTags,
  isImmutable,
  TagConflictError,
  type EcrApi,
  type ImageSelector,
  type RepositoryInfo,
  type StoredManifest,
  type TagResult,
} from './ecr';
import { ImageError } from './errors';
import { parseEcrHost, type ImageRef, type RepositoryRef } from './reference';
import { emptyStats, RegistryClient, type RegistryAuth, type TransferStats } from './registry';

/**
 * Compressed size of an image's layers read from its manifest, as ECR counts it; undefined for
 * an index (its platforms' manifests would have to be read).
 */
export function layerSize(image: StoredManifest): number | undefined {
  const json = JSON.parse(image.manifest) as { manifests?: unknown; layers?: { size?: number }[] };
  if (json.manifests || !json.layers) return undefined;
  return json.layers.reduce((n, l) => n + (l.size ?? 0), 0);
}

/** A repository that is missing and may not be created. */
export class RepositoryMissingError extends ImageError {
  constructor(readonly repository: string) {
    super(`Repository \`${repository}\` does not exist.`);
    this.name = 'RepositoryMissingError';
  }
}

/** An image that `promote-from` names but the registry does not hold. */
export class SourceImageMissingError extends ImageError {
  constructor(readonly reference: string) {
    super(`The image to promote, \`${reference}\`, does not exist.`);
    this.name = 'SourceImageMissingError';
  }
}

/** A registry login: credentials, address, and whether it speaks plain HTTP. */
export interface RegistryLogin {
  auth: RegistryAuth;
  /** `host[:port]`. */
  host: string;
  /** True for a plain-HTTP registry (local-aws, a registry on a laptop). */
  insecure: boolean;
  expiresAt?: Date;
}

/** The registry account of a repository reference (`undefined` for the caller's own). */
export function registryIdOf(ref: { registry?: string }): string | undefined {
  return ref.registry ? parseEcrHost(ref.registry)?.accountId : undefined;
}

/** Gets a registry login from ECR's authorization token. */
export async function registryLogin(ecr: EcrApi, registryId?: string): Promise<RegistryLogin> {
  const token = await ecr.getAuthorizationToken(registryId);
  const url = new URL(token.proxyEndpoint);
  return {
    auth: { baseUrl: url.origin, username: token.username, password: token.password },
    host: url.host,
    insecure: url.protocol === 'http:',
    expiresAt: token.expiresAt,
  };
}

/**
 * The target repository, created when allowed; throws {@link RepositoryMissingError}. With
 * `dryRun` (nothing is to be pushed), a missing repository that could be created is not: the
 * result is the repository it would be (its URI from ECR's authorization token), `planned`.
 */
export async function resolveRepository(
  ecr: EcrApi,
  ref: RepositoryRef,
  create: boolean,
  opts: { dryRun?: boolean } = {},
): Promise<{ repository: RepositoryInfo; created: boolean; planned?: boolean }> {
  const registryId = registryIdOf(ref);
  const found = await ecr.describeRepository(ref.repository, registryId);
  if (found)
    return { repository: { ...found, registryId: found.registryId ?? registryId }, created: false };
  if (!create)
    throw new RepositoryMissingError(
      ref.registry ? `${ref.registry}/${ref.repository}` : ref.repository,
    );
  if (opts.dryRun) {
    const { host } = await registryLogin(ecr, registryId);
    return {
      repository: {
        name: ref.repository,
        uri: `${host}/${ref.repository}`,
        ...(registryId ? { registryId } : {}),
        tagMutability: 'MUTABLE',
      },
      created: false,
      planned: true,
    };
  }
  const repository = await ecr.createRepository(ref.repository, registryId);
  return {
    repository: { ...repository, registryId: repository.registryId ?? registryId },
    created: true,
  };
}

/** `host` of a repository URI (`host/name`). */
export function hostOf(uri: string): string {
  return uri.split('/')[0];
}

/** What a promotion did and how it moved the image. */
export interface PromoteResult {
  digest: string;
  tags: TagResult[];
  /** `retag`: same repository, ECR PutImage only; `mount`: same registry, blobs mounted; `copy`: other registry. */
  mode: 'retag' | 'mount' | 'copy';
  stats: TransferStats;
  sizeBytes?: number;
  /** The source, written out in full. */
  source: string;
}

/** Where promotion reads from when the source is in another registry. */
export interface ForeignRegistry {
  ecr: EcrApi;
  login: RegistryLogin;
}

/**
 * The image a promotion reads, written out in full (`host/repository@sha256:…` or `…:tag`): a
 * reference without a registry is one of the target's registry `host`, one without a repository
 * one of the target repository.
 */
export function sourceOf(from: ImageRef, repository: string, host: string): string {
  const where = `${from.registry ?? host}/${from.repository ?? repository}`;
  return `${where}${from.digest ? `@${from.digest}` : `:${from.tag}`}`;
}

/**
 * Checks that the image each promotion reads exists, before any target repository is created or
 * any tag written: a wrong reference must leave nothing behind. Only sources in the target's
 * registry are checked here (one in another registry needs its own login: {@link promote}
 * checks it when it reads it). Throws {@link SourceImageMissingError} for the first missing one.
 */
export async function checkSourcesExist(
  ecr: EcrApi,
  promotions: readonly { target: RepositoryRef; from: ImageRef }[],
): Promise<void> {
  for (const { target, from } of promotions) {
    if (from.registry && from.registry !== target.registry) continue;
    const registryId = registryIdOf(target);
    const repository = from.repository ?? target.repository;
    const selector: ImageSelector = from.digest
      ? { digest: from.digest }
      : { tag: from.tag as string };
    let image: StoredManifest | undefined;
    try {
      image = await ecr.getManifest(repository, selector, registryId);
    } catch (error) {
      if ((error as Error | undefined)?.name !== 'RepositoryNotFoundException') throw error;
    }
    if (!image) {
      const host = target.registry ?? (await registryLogin(ecr, registryId)).host;
      throw new SourceImageMissingError(sourceOf(from, target.repository, host));
    }
  }
}

/**
 * Puts the exact image `from` names under `tags` of the target repository, without building.
 * Within one repository it only retags (ECR PutImage: zero layer bytes); from another
 * repository of the same registry it copies by digest with blob mounts; from another registry
 * (account or region) it streams the blobs. The digest never changes.
 */
export async function promote(opts: {
  ecr: EcrApi;
  repository: RepositoryInfo;
  /** Host of the target registry. */
  host: string;
  from: ImageRef;
  tags: string[];
  /** A client for the target registry (needed unless the source is the target repository). */
  target: () => Promise<RegistryClient>;
  /** Reader for a source in another registry. */
  foreign?: (host: string) => Promise<ForeignRegistry>;
  /** Stops registry traffic when the run is cancelled. */
  signal?: AbortSignal;
}): Promise<PromoteResult> {
  const { ecr, repository, from, tags } = opts;
  const selector: ImageSelector = from.digest
    ? { digest: from.digest }
    : { tag: from.tag as string };
  const sameRegistry = !from.registry || from.registry === opts.host;
  const sourceRepository = from.repository ?? repository.name;
  const sourceHost = from.registry ?? opts.host;
  const source = sourceOf(from, repository.name, opts.host);
  const stats = emptyStats();

  if (sameRegistry && sourceRepository === repository.name) {
    const image = await ecr.getManifest(repository.name, selector, repository.registryId);
    if (!image) throw new SourceImageMissingError(source);
    const results = await tagImage(ecr, repository, image, tags);
    return {
      digest: image.digest,
      tags: results,
      mode: 'retag',
      stats,
      sizeBytes: layerSize(image),
      source,
    };
  }

  let sourceEcr = ecr;
  let sourceClient: RegistryClient;
  let mountFrom: string | undefined;
  if (sameRegistry) {
    sourceClient = await opts.target();
    mountFrom = sourceRepository;
  } else {
    if (!opts.foreign)
      throw new ImageError('promotion from another registry needs its credentials');
    const foreign = await opts.foreign(sourceHost);
    sourceEcr = foreign.ecr;
    sourceClient = new RegistryClient(foreign.login.auth, opts.signal);
  }
  const image = await sourceEcr.getManifest(
    sourceRepository,
    selector,
    sameRegistry ? repository.registryId : registryIdOf({ registry: sourceHost }),
  );
  if (!image) throw new SourceImageMissingError(source);
  const imageSource: ImageSource = new RegistrySource(sourceClient, sourceRepository, mountFrom);
  const pushed = await pushImage({
    source: imageSource,
    digest: image.digest,
    target: await opts.target(),
    repository: repository.name,
    stats,
  });
  if (pushed.digest !== image.digest) {
    throw new ImageError(`the copy of ${source} has digest ${pushed.digest}, not ${image.digest}`);
  }
  const results = await tagImage(ecr, repository, image, tags);
  return {
    digest: image.digest,
    tags: results,
    mode: sameRegistry ? 'mount' : 'copy',
    stats,
    sizeBytes: pushed.sizeBytes,
    source,
  };
}

/**
 * Tags an image the repository holds. In an immutable repository every tag is checked first, so
 * a conflict fails before any tag is written ({@link TagConflictError}).
 */
export async function tagImage(
  ecr: EcrApi,
  repository: RepositoryInfo,
  image: StoredManifest,
  tags: string[],
): Promise<TagResult[]> {
  if (isImmutable(repository.tagMutability)) {
    for (const tag of tags) {
      const holder = await ecr.describeImage(repository.name, { tag }, repository.registryId);
      if (holder && holder.digest !== image.digest) {
        throw new TagConflictError(
          `Tag \`${tag}\` already exists in the immutable repository \`${repository.name}\` and names ${holder.digest}, not ${image.digest}. Immutable tags cannot move: use a tag made from the commit (\`{{sha}}\`), or promote the image that holds the tag.`,
          tag,
          holder.digest,
        );
      }
    }
  }
  return applyTags(ecr, repository, image, tags);
}

/** What {@link findReusable} found. */
export interface Reusable {
  digest: string;
  image: StoredManifest;
  sizeBytes?: number;
}

/** The image this commit's tag already names in the repository, if any. */
export async function findReusable(
  ecr: EcrApi,
  repository: RepositoryInfo,
  commitTag: string,
): Promise<Reusable | undefined> {
  const image = await ecr.getManifest(repository.name, { tag: commitTag }, repository.registryId);
  if (!image) return undefined;
  const sizeBytes =
    layerSize(image) ??
    (await ecr.describeImage(repository.name, { digest: image.digest }, repository.registryId))
      ?.sizeBytes;
  return { digest: image.digest, image, sizeBytes };
}
