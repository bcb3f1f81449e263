import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  PutImageCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { ImageError } from './errors';
import { MEDIA_TYPES } from './registry';

/** A repository as the action needs to know it. */
export interface RepositoryInfo {
  name: string;
  /** `host/name` as ECR reports it. */
  uri: string;
  registryId?: string;
  /** `MUTABLE`, `IMMUTABLE`, or one of the `*_WITH_EXCLUSION` variants. */
  tagMutability: string;
}

/** An image as DescribeImages reports it. */
export interface ImageInfo {
  digest: string;
  tags: string[];
  sizeBytes?: number;
  pushedAt?: Date;
  mediaType?: string;
}

/** An image's manifest as BatchGetImage returns it. */
export interface StoredManifest {
  digest: string;
  manifest: string;
  mediaType: string;
}

/** Registry credentials from GetAuthorizationToken. */
export interface AuthorizationToken {
  username: string;
  password: string;
  /** `https://host` (or `http://host:port` for a local registry). */
  proxyEndpoint: string;
  expiresAt?: Date;
}

/** Which image: by tag or by digest. */
export type ImageSelector = { tag: string } | { digest: string };

/** The ECR operations build-and-push uses; {@link sdkEcr} adapts the SDK client, tests pass fakes. */
export interface EcrApi {
  getAuthorizationToken(registryId?: string): Promise<AuthorizationToken>;
  /** Undefined when the repository does not exist. */
  describeRepository(name: string, registryId?: string): Promise<RepositoryInfo | undefined>;
  /** Creates a repository with mutable tags, in the registry `registryId` (default: the caller's). */
  createRepository(name: string, registryId?: string): Promise<RepositoryInfo>;
  /** Undefined when no such image. */
  describeImage(
    repository: string,
    image: ImageSelector,
    registryId?: string,
  ): Promise<ImageInfo | undefined>;
  /** Undefined when no such image. */
  getManifest(
    repository: string,
    image: ImageSelector,
    registryId?: string,
  ): Promise<StoredManifest | undefined>;
  /**
   * Tags an image from its manifest. Throws the SDK's `ImageAlreadyExistsException` when the tag
   * already names this digest and `ImageTagAlreadyExistsException` when an immutable tag names
   * another one.
   */
  putImage(
    repository: string,
    tag: string,
    image: StoredManifest,
    registryId?: string,
  ): Promise<void>;
}

function named(error: unknown, ...names: string[]): boolean {
  return typeof error === 'object' && error !== null && names.includes((error as Error).name);
}

function imageId(image: ImageSelector): { imageTag?: string; imageDigest?: string } {
  return 'tag' in image ? { imageTag: image.tag } : { imageDigest: image.digest };
}

/**
 * Adapts an `ECRClient` to {@link EcrApi}. Every call gets `signal`, so a cancelled run stops the
 * call in flight and fails with the signal's reason (the cancel), not the SDK's "Request aborted".
 */
export function sdkEcr(client: ECRClient, signal?: AbortSignal): EcrApi {
  const call = async <T>(
    send: (options: { abortSignal?: AbortSignal }) => Promise<T>,
  ): Promise<T> => {
    try {
      return await send({ abortSignal: signal });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw error;
    }
  };
  const repo = (r: {
    repositoryName?: string;
    repositoryUri?: string;
    registryId?: string;
    imageTagMutability?: string;
  }): RepositoryInfo => ({
    name: r.repositoryName ?? '',
    uri: r.repositoryUri ?? '',
    registryId: r.registryId,
    tagMutability: r.imageTagMutability ?? 'MUTABLE',
  });
  return {
    async getAuthorizationToken(registryId) {
      const out = await call((o) =>
        client.send(
          new GetAuthorizationTokenCommand(registryId ? { registryIds: [registryId] } : {}),
          o,
        ),
      );
      const data = out.authorizationData?.[0];
      if (!data?.authorizationToken || !data.proxyEndpoint) {
        throw new Error('ECR GetAuthorizationToken returned no authorization data');
      }
      const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 1) throw new Error('ECR GetAuthorizationToken returned a malformed token');
      return {
        username: decoded.slice(0, colon),
        password: decoded.slice(colon + 1),
        proxyEndpoint: data.proxyEndpoint,
        expiresAt: data.expiresAt,
      };
    },
    async describeRepository(name, registryId) {
      try {
        const out = await call((o) =>
          client.send(new DescribeRepositoriesCommand({ repositoryNames: [name], registryId }), o),
        );
        const r = out.repositories?.[0];
        return r ? repo(r) : undefined;
      } catch (error) {
        if (named(error, 'RepositoryNotFoundException')) return undefined;
        throw error;
      }
    },
    async createRepository(name, registryId) {
      const out = await call((o) =>
        client.send(
          new CreateRepositoryCommand({
            repositoryName: name,
            registryId,
            imageTagMutability: 'MUTABLE',
          }),
          o,
        ),
      );
      return repo(out.repository ?? { repositoryName: name });
    },
    async describeImage(repository, image, registryId) {
      try {
        const out = await call((o) =>
          client.send(
            new DescribeImagesCommand({
              repositoryName: repository,
              registryId,
              imageIds: [imageId(image)],
            }),
            o,
          ),
        );
        const d = out.imageDetails?.[0];
        if (!d?.imageDigest) return undefined;
        return {
          digest: d.imageDigest,
          tags: d.imageTags ?? [],
          sizeBytes: d.imageSizeInBytes,
          pushedAt: d.imagePushedAt,
          mediaType: d.imageManifestMediaType,
        };
      } catch (error) {
        if (named(error, 'ImageNotFoundException')) return undefined;
        throw error;
      }
    },
    async getManifest(repository, image, registryId) {
      const out = await call((o) =>
        client.send(
          new BatchGetImageCommand({
            repositoryName: repository,
            registryId,
            imageIds: [imageId(image)],
            acceptedMediaTypes: Object.values(MEDIA_TYPES),
          }),
          o,
        ),
      );
      const found = out.images?.[0];
      if (!found?.imageManifest || !found.imageId?.imageDigest) return undefined;
      return {
        digest: found.imageId.imageDigest,
        manifest: found.imageManifest,
        mediaType:
          found.imageManifestMediaType ??
          (JSON.parse(found.imageManifest) as { mediaType?: string }).mediaType ??
          MEDIA_TYPES.ociManifest,
      };
    },
    async putImage(repository, tag, image, registryId) {
      await call((o) =>
        client.send(
          new PutImageCommand({
            repositoryName: repository,
            registryId,
            imageManifest: image.manifest,
            imageManifestMediaType: image.mediaType,
            imageDigest: image.digest,
            imageTag: tag,
          }),
          o,
        ),
      );
    },
  };
}

/** True when tags of a repository with this setting cannot move (ignoring exclusion filters). */
export function isImmutable(tagMutability: string): boolean {
  return tagMutability.startsWith('IMMUTABLE');
}

/** An immutable tag already names a different image. */
export class TagConflictError extends ImageError {
  constructor(
    message: string,
    readonly tag: string,
    readonly existingDigest?: string,
  ) {
    super(message);
    this.name = 'TagConflictError';
  }
}

/** What happened to one tag. */
export interface TagResult {
  tag: string;
  /** `tagged`: the tag now names the image; `unchanged`: it already did. */
  status: 'tagged' | 'unchanged';
}

/**
 * Puts `tags` on an image that the repository already holds, with ECR's PutImage (no layer
 * moves). A tag that already names the image is fine; an immutable tag naming another image
 * throws {@link TagConflictError} saying which digest holds it.
 */
export async function applyTags(
  ecr: EcrApi,
  repository: RepositoryInfo,
  image: StoredManifest,
  tags: string[],
): Promise<TagResult[]> {
  const results: TagResult[] = [];
  for (const tag of tags) {
    try {
      await ecr.putImage(repository.name, tag, image, repository.registryId);
      results.push({ tag, status: 'tagged' });
    } catch (error) {
      if (named(error, 'ImageAlreadyExistsException')) {
        results.push({ tag, status: 'unchanged' });
        continue;
      }
      if (named(error, 'ImageTagAlreadyExistsException')) {
        const holder = await ecr.describeImage(repository.name, { tag }, repository.registryId);
        if (holder?.digest === image.digest) {
          results.push({ tag, status: 'unchanged' });
          continue;
        }
        throw new TagConflictError(
          `Tag \`${tag}\` already exists in the immutable repository \`${repository.name}\` and names ${holder?.digest ?? 'another image'}, not ${image.digest}. Immutable tags cannot move: use a tag made from the commit (\`{{sha}}\`), or promote the image that holds the tag.`,
          tag,
          holder?.digest,
        );
      }
      throw error;
    }
  }
  return results;
}
