/**
 * ECR API operations (awsJson1_1, `AmazonEC2ContainerRegistry_V20150921.<Op>`) over the
 * registry state. Outputs use ECR's member names; timestamps are epoch seconds; errors are
 * {@link AwsError}s named as the SDK's exception classes.
 */
import { AwsError, type JsonOperation, type RequestContext } from '../contracts';
import type { TokenIssuer } from './auth';
import { isDigest, sha256Digest } from './manifest';
import { isValidRepositoryName } from './names';
import {
  EcrStateError,
  isValidTag,
  type EcrStateErrorKind,
  type ImageRecord,
  type MutabilityExclusionFilter,
  type RegistryState,
  type RepositoryRecord,
  type ResourceTag,
  type TagMutability,
} from './registry-state';

interface ImageIdentifier {
  imageDigest?: string;
  imageTag?: string;
}

const MUTABILITY_VALUES: readonly TagMutability[] = [
  'MUTABLE',
  'IMMUTABLE',
  'MUTABLE_WITH_EXCLUSION',
  'IMMUTABLE_WITH_EXCLUSION',
];
const MAX_RESOURCE_TAGS = 50;

const seconds = (ms: number): number => ms / 1000;

function invalid(message: string): AwsError {
  return new AwsError('InvalidParameterException', message);
}

function requireString(input: Record<string, unknown>, member: string): string {
  const value = input[member];
  if (typeof value !== 'string' || value === '') {
    throw invalid(
      `Invalid parameter at '${member}' failed to satisfy constraint: 'must not be null or empty'`,
    );
  }
  return value;
}

function pageSize(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1000) {
    throw invalid(
      `Invalid parameter at 'maxResults' failed to satisfy constraint: 'must be between 1 and 1000'`,
    );
  }
  return value;
}

function paginate<T>(
  items: T[],
  nextToken: unknown,
  size: number,
): { page: T[]; nextToken?: string } {
  let offset = 0;
  if (nextToken !== undefined && nextToken !== null) {
    const decoded =
      typeof nextToken === 'string'
        ? Number(Buffer.from(nextToken, 'base64url').toString('utf8').replace(/^o:/, ''))
        : NaN;
    if (!Number.isInteger(decoded) || decoded < 0)
      throw invalid(
        `Invalid parameter at 'nextToken': the token \`${String(nextToken)}\` is not valid`,
      );
    offset = decoded;
  }
  const page = items.slice(offset, offset + size);
  const next =
    offset + size < items.length
      ? Buffer.from(`o:${offset + size}`).toString('base64url')
      : undefined;
  return next ? { page, nextToken: next } : { page };
}

function validateMutability(
  value: unknown,
  filters: unknown,
): { mutability: TagMutability; filters: MutabilityExclusionFilter[] } {
  const mutability = (value ?? 'MUTABLE') as TagMutability;
  if (!MUTABILITY_VALUES.includes(mutability)) {
    throw invalid(
      `Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [${MUTABILITY_VALUES.join(', ')}]'`,
    );
  }
  const list = (filters ?? []) as MutabilityExclusionFilter[];
  if (!Array.isArray(list))
    throw invalid(`Invalid parameter at 'imageTagMutabilityExclusionFilters': must be a list`);
  const withExclusion = mutability.endsWith('_WITH_EXCLUSION');
  if (withExclusion && list.length === 0) {
    throw invalid(
      `imageTagMutabilityExclusionFilters are required when imageTagMutability is ${mutability}`,
    );
  }
  if (!withExclusion && list.length > 0) {
    throw invalid(
      `imageTagMutabilityExclusionFilters are only allowed with MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION`,
    );
  }
  for (const f of list) {
    if (
      f?.filterType !== 'WILDCARD' ||
      typeof f.filter !== 'string' ||
      !/^[\w.*-]{1,128}$/.test(f.filter)
    ) {
      throw invalid(`Invalid image tag mutability exclusion filter \`${JSON.stringify(f)}\``);
    }
  }
  return { mutability, filters: list.map((f) => ({ filterType: 'WILDCARD', filter: f.filter })) };
}

function validateTags(tags: unknown): ResourceTag[] {
  if (tags === undefined || tags === null) return [];
  if (!Array.isArray(tags))
    throw new AwsError('InvalidTagParameterException', `tags must be a list`);
  for (const t of tags as ResourceTag[]) {
    if (
      typeof t?.Key !== 'string' ||
      t.Key.length < 1 ||
      t.Key.length > 128 ||
      t.Key.toLowerCase().startsWith('aws:')
    ) {
      throw new AwsError('InvalidTagParameterException', `Invalid tag key \`${String(t?.Key)}\``);
    }
    if (typeof t.Value !== 'string' || t.Value.length > 256) {
      throw new AwsError('InvalidTagParameterException', `Invalid value for tag \`${t.Key}\``);
    }
  }
  return (tags as ResourceTag[]).map((t) => ({ Key: t.Key, Value: t.Value }));
}

function mergeTags(existing: ResourceTag[], added: ResourceTag[]): ResourceTag[] {
  const map = new Map(existing.map((t) => [t.Key, t.Value]));
  for (const t of added) map.set(t.Key, t.Value);
  if (map.size > MAX_RESOURCE_TAGS) {
    throw new AwsError(
      'TooManyTagsException',
      `A repository can have at most ${MAX_RESOURCE_TAGS} tags`,
    );
  }
  return [...map].map(([Key, Value]) => ({ Key, Value }));
}

function describeId(id: ImageIdentifier): string {
  return `{imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'}`;
}

/** ECR API exception names for registry-state rule violations (PutImage and friends). */
const STATE_EXCEPTIONS: Record<EcrStateErrorKind, string> = {
  RepositoryNotFound: 'RepositoryNotFoundException',
  ImageNotFound: 'ImageNotFoundException',
  ManifestInvalid: 'InvalidParameterException',
  ManifestUnsupported: 'UnsupportedImageTypeException',
  DigestMismatch: 'ImageDigestDoesNotMatchException',
  LayersNotFound: 'LayersNotFoundException',
  ReferencedImagesNotFound: 'ReferencedImagesNotFoundException',
  TagImmutable: 'ImageTagAlreadyExistsException',
  ReferencedByIndex: 'InvalidParameterException',
};

function toAwsError(error: unknown): unknown {
  if (error instanceof EcrStateError)
    return new AwsError(STATE_EXCEPTIONS[error.kind], error.message);
  return error;
}

/** Builds the ECR operation table over a registry state. */
export function createControlPlane(
  state: RegistryState,
  tokens: TokenIssuer,
): Record<string, JsonOperation> {
  const accountId = state.accountId;

  const repoOf = (input: Record<string, unknown>): RepositoryRecord => {
    const name = requireString(input, 'repositoryName');
    const registryId = input.registryId;
    if (registryId !== undefined && registryId !== null && registryId !== accountId) {
      throw new AwsError(
        'RepositoryNotFoundException',
        `The repository with name '${name}' does not exist in the registry with id '${String(registryId)}'`,
      );
    }
    try {
      return state.repository(name);
    } catch (error) {
      throw toAwsError(error);
    }
  };

  const repositoryOutput = (
    repo: RepositoryRecord,
    ctx: RequestContext,
  ): Record<string, unknown> => ({
    repositoryArn: repo.arn,
    registryId: repo.registryId,
    repositoryName: repo.name,
    repositoryUri: `${ctx.endpointHost}/${repo.name}`,
    createdAt: seconds(repo.createdAt),
    imageTagMutability: repo.mutability,
    ...(repo.exclusionFilters.length
      ? { imageTagMutabilityExclusionFilters: repo.exclusionFilters }
      : {}),
    imageScanningConfiguration: { scanOnPush: repo.scanOnPush },
    encryptionConfiguration: repo.encryption,
  });

  const imageDetail = (repo: RepositoryRecord, image: ImageRecord): Record<string, unknown> => {
    const tags = state.tagsOf(repo, image.digest);
    return {
      registryId: repo.registryId,
      repositoryName: repo.name,
      imageDigest: image.digest,
      ...(tags.length ? { imageTags: tags } : {}),
      imageSizeInBytes: image.sizeInBytes,
      imagePushedAt: seconds(image.pushedAt),
      imageManifestMediaType: image.mediaType,
      ...(image.artifactMediaType ? { artifactMediaType: image.artifactMediaType } : {}),
      ...(image.lastPulledAt ? { lastRecordedPullTime: seconds(image.lastPulledAt) } : {}),
    };
  };

  const tagFilter = (
    filter: unknown,
  ): ((repo: RepositoryRecord, image: ImageRecord) => boolean) => {
    const status = (filter as { tagStatus?: string } | undefined)?.tagStatus ?? 'ANY';
    if (!['ANY', 'TAGGED', 'UNTAGGED'].includes(status)) {
      throw invalid(
        `Invalid parameter at 'filter.tagStatus' failed to satisfy constraint: 'Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]'`,
      );
    }
    return (repo, image) => {
      if (status === 'ANY') return true;
      const tagged = state.tagsOf(repo, image.digest).length > 0;
      return status === 'TAGGED' ? tagged : !tagged;
    };
  };

  const imageIdsOf = (input: Record<string, unknown>, max: number): ImageIdentifier[] => {
    const ids = input.imageIds;
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > max) {
      throw invalid(
        `Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length between 1 and ${max}'`,
      );
    }
    const seen = new Set<string>();
    return (ids as ImageIdentifier[]).filter((id) => {
      const key = `${id?.imageDigest ?? ''}|${id?.imageTag ?? ''}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  };

  type Lookup = { image: ImageRecord } | { failureCode: string; failureReason: string };

  const lookup = (repo: RepositoryRecord, id: ImageIdentifier): Lookup => {
    if (!id?.imageDigest && !id?.imageTag) {
      return { failureCode: 'MissingDigestAndTag', failureReason: 'Missing image digest and tag' };
    }
    if (id.imageDigest && !isDigest(id.imageDigest)) {
      return { failureCode: 'InvalidImageDigest', failureReason: 'Invalid image digest' };
    }
    if (id.imageTag && !isValidTag(id.imageTag)) {
      return { failureCode: 'InvalidImageTag', failureReason: 'Invalid image tag' };
    }
    if (id.imageTag) {
      const digest = repo.tagIndex.get(id.imageTag);
      if (!digest)
        return { failureCode: 'ImageNotFound', failureReason: 'Requested image not found' };
      if (id.imageDigest && id.imageDigest !== digest) {
        return {
          failureCode: 'ImageTagDoesNotMatchDigest',
          failureReason: 'Image tag does not match digest',
        };
      }
      return { image: repo.images.get(digest)! };
    }
    const image = repo.images.get(id.imageDigest!);
    return image
      ? { image }
      : { failureCode: 'ImageNotFound', failureReason: 'Requested image not found' };
  };

  const resourceRepo = (input: Record<string, unknown>): RepositoryRecord => {
    const arn = requireString(input, 'resourceArn');
    const match = /^arn:aws:ecr:([a-z0-9-]+):(\d{12}):repository\/(.+)$/.exec(arn);
    if (!match)
      throw invalid(`Invalid parameter at 'resourceArn': \`${arn}\` is not an ECR repository ARN`);
    const repo = state.repositories.get(match[3]);
    if (!repo || repo.arn !== arn) {
      throw new AwsError(
        'RepositoryNotFoundException',
        `The repository with name '${match[3]}' does not exist in the registry with id '${match[2]}'`,
      );
    }
    return repo;
  };

  const operations: Record<
    string,
    (input: Record<string, unknown>, ctx: RequestContext) => unknown
  > = {
    GetAuthorizationToken(_input, ctx) {
      const { password, expiresAt } = tokens.issue();
      return {
        authorizationData: [
          {
            authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
            expiresAt: seconds(expiresAt),
            proxyEndpoint: `http://${ctx.endpointHost}`,
          },
        ],
      };
    },

    CreateRepository(input, ctx) {
      const name = requireString(input, 'repositoryName');
      if (!isValidRepositoryName(name)) {
        throw invalid(
          `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''`,
        );
      }
      if (
        input.registryId !== undefined &&
        input.registryId !== null &&
        input.registryId !== accountId
      ) {
        throw invalid(
          `Invalid parameter at 'registryId': \`${String(input.registryId)}\` is not this account's registry`,
        );
      }
      if (state.repositories.has(name)) {
        throw new AwsError(
          'RepositoryAlreadyExistsException',
          `The repository with name '${name}' already exists in the registry with id '${accountId}'`,
        );
      }
      const { mutability, filters } = validateMutability(
        input.imageTagMutability,
        input.imageTagMutabilityExclusionFilters,
      );
      const tags = mergeTags([], validateTags(input.tags));
      const encryption = (input.encryptionConfiguration ?? { encryptionType: 'AES256' }) as {
        encryptionType?: string;
        kmsKey?: string;
      };
      if (!['AES256', 'KMS', 'KMS_DSSE'].includes(encryption.encryptionType ?? '')) {
        throw invalid(
          `Invalid parameter at 'encryptionConfiguration.encryptionType': \`${String(encryption.encryptionType)}\``,
        );
      }
      const repo: RepositoryRecord = {
        name,
        arn: `arn:aws:ecr:${ctx.region}:${accountId}:repository/${name}`,
        region: ctx.region,
        registryId: accountId,
        createdAt: Date.now(),
        mutability,
        exclusionFilters: filters,
        scanOnPush: Boolean(
          (input.imageScanningConfiguration as { scanOnPush?: boolean } | undefined)?.scanOnPush,
        ),
        encryption: {
          encryptionType: encryption.encryptionType!,
          ...(encryption.encryptionType !== 'AES256'
            ? { kmsKey: encryption.kmsKey ?? `arn:aws:kms:${ctx.region}:${accountId}:key/aws/ecr` }
            : {}),
        },
        tags,
        images: new Map(),
        tagIndex: new Map(),
        blobs: new Set(),
      };
      state.repositories.set(name, repo);
      return { repository: repositoryOutput(repo, ctx) };
    },

    DescribeRepositories(input, ctx) {
      const names = input.repositoryNames as string[] | undefined;
      if (names !== undefined && names !== null) {
        if (!Array.isArray(names) || names.length < 1 || names.length > 100) {
          throw invalid(
            `Invalid parameter at 'repositoryNames' failed to satisfy constraint: 'Member must have length between 1 and 100'`,
          );
        }
        if (input.maxResults !== undefined || input.nextToken !== undefined) {
          throw invalid('maxResults and nextToken cannot be used together with repositoryNames');
        }
        const repos = names.map((name) =>
          repoOf({ repositoryName: name, registryId: input.registryId }),
        );
        return { repositories: repos.map((r) => repositoryOutput(r, ctx)) };
      }
      if (
        input.registryId !== undefined &&
        input.registryId !== null &&
        input.registryId !== accountId
      ) {
        return { repositories: [] };
      }
      const all = [...state.repositories.values()];
      const { page, nextToken } = paginate(all, input.nextToken, pageSize(input.maxResults, 100));
      return {
        repositories: page.map((r) => repositoryOutput(r, ctx)),
        ...(nextToken ? { nextToken } : {}),
      };
    },

    DeleteRepository(input, ctx) {
      const repo = repoOf(input);
      if (repo.images.size > 0 && input.force !== true) {
        throw new AwsError(
          'RepositoryNotEmptyException',
          `The repository with name '${repo.name}' in registry with id '${accountId}' cannot be deleted because it still contains images`,
        );
      }
      state.repositories.delete(repo.name);
      return { repository: repositoryOutput(repo, ctx) };
    },

    PutImageTagMutability(input) {
      const repo = repoOf(input);
      if (input.imageTagMutability === undefined || input.imageTagMutability === null) {
        throw invalid(
          `Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'must not be null'`,
        );
      }
      const { mutability, filters } = validateMutability(
        input.imageTagMutability,
        input.imageTagMutabilityExclusionFilters,
      );
      repo.mutability = mutability;
      repo.exclusionFilters = filters;
      return {
        registryId: repo.registryId,
        repositoryName: repo.name,
        imageTagMutability: mutability,
        ...(filters.length ? { imageTagMutabilityExclusionFilters: filters } : {}),
      };
    },

    DescribeImages(input) {
      const repo = repoOf(input);
      if (input.imageIds !== undefined && input.imageIds !== null) {
        if (input.maxResults !== undefined || input.nextToken !== undefined) {
          throw invalid('maxResults and nextToken cannot be used together with imageIds');
        }
        const ids = imageIdsOf(input, 100);
        const seen = new Set<string>();
        const details: Record<string, unknown>[] = [];
        for (const id of ids) {
          const found = lookup(repo, id);
          if (!('image' in found)) {
            if (
              found.failureCode === 'InvalidImageDigest' ||
              found.failureCode === 'InvalidImageTag' ||
              found.failureCode === 'MissingDigestAndTag'
            ) {
              throw invalid(
                `Invalid parameter at 'imageIds': ${found.failureReason} in ${describeId(id)}`,
              );
            }
            throw new AwsError(
              'ImageNotFoundException',
              `The image with imageId ${describeId(id)} does not exist within the repository with name '${repo.name}' in the registry with id '${repo.registryId}'`,
            );
          }
          if (!seen.has(found.image.digest)) {
            seen.add(found.image.digest);
            details.push(imageDetail(repo, found.image));
          }
        }
        return { imageDetails: details };
      }
      const keep = tagFilter(input.filter);
      const images = [...repo.images.values()].filter((i) => keep(repo, i));
      const { page, nextToken } = paginate(
        images,
        input.nextToken,
        pageSize(input.maxResults, 100),
      );
      return {
        imageDetails: page.map((i) => imageDetail(repo, i)),
        ...(nextToken ? { nextToken } : {}),
      };
    },

    ListImages(input) {
      const repo = repoOf(input);
      const keep = tagFilter(input.filter);
      const ids: ImageIdentifier[] = [];
      for (const image of repo.images.values()) {
        if (!keep(repo, image)) continue;
        const tags = state.tagsOf(repo, image.digest);
        if (tags.length === 0) ids.push({ imageDigest: image.digest });
        for (const tag of tags) ids.push({ imageDigest: image.digest, imageTag: tag });
      }
      const { page, nextToken } = paginate(ids, input.nextToken, pageSize(input.maxResults, 100));
      return { imageIds: page, ...(nextToken ? { nextToken } : {}) };
    },

    BatchGetImage(input) {
      const repo = repoOf(input);
      const images: Record<string, unknown>[] = [];
      const failures: Record<string, unknown>[] = [];
      for (const id of imageIdsOf(input, 100)) {
        const found = lookup(repo, id);
        if (!('image' in found)) {
          failures.push({ imageId: id, ...found });
          continue;
        }
        found.image.lastPulledAt = Date.now();
        images.push({
          registryId: repo.registryId,
          repositoryName: repo.name,
          imageId: {
            imageDigest: found.image.digest,
            ...(id.imageTag ? { imageTag: id.imageTag } : {}),
          },
          imageManifest: found.image.manifest,
          imageManifestMediaType: found.image.mediaType,
        });
      }
      return { images, failures };
    },

    BatchCheckLayerAvailability(input) {
      const repo = repoOf(input);
      const digests = input.layerDigests;
      if (!Array.isArray(digests) || digests.length < 1 || digests.length > 100) {
        throw invalid(
          `Invalid parameter at 'layerDigests' failed to satisfy constraint: 'Member must have length between 1 and 100'`,
        );
      }
      const layers: Record<string, unknown>[] = [];
      const failures: Record<string, unknown>[] = [];
      for (const digest of digests as string[]) {
        if (!digest) {
          failures.push({
            layerDigest: digest,
            failureCode: 'MissingLayerDigest',
            failureReason: 'Missing layer digest',
          });
        } else if (!isDigest(digest)) {
          failures.push({
            layerDigest: digest,
            failureCode: 'InvalidLayerDigest',
            failureReason: 'Invalid layer digest',
          });
        } else {
          const size = repo.blobs.has(digest) ? state.blobs.size(digest) : undefined;
          layers.push({
            layerDigest: digest,
            layerAvailability: size === undefined ? 'UNAVAILABLE' : 'AVAILABLE',
            ...(size === undefined ? {} : { layerSize: size }),
          });
        }
      }
      return { layers, failures };
    },

    PutImage(input) {
      const repo = repoOf(input);
      const manifest = requireString(input, 'imageManifest');
      const tag =
        typeof input.imageTag === 'string' && input.imageTag !== '' ? input.imageTag : undefined;
      if (tag !== undefined && !isValidTag(tag)) {
        throw invalid(
          `Invalid parameter at 'imageTag' failed to satisfy constraint: 'must satisfy regular expression '[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}''`,
        );
      }
      const expected =
        typeof input.imageDigest === 'string' && input.imageDigest !== ''
          ? input.imageDigest
          : undefined;
      const body = Buffer.from(manifest, 'utf8');
      const digest = sha256Digest(body);
      if (expected !== undefined && expected !== digest) {
        throw new AwsError(
          'ImageDigestDoesNotMatchException',
          `The digest '${expected}' does not match the digest '${digest}' of the image manifest`,
        );
      }
      const alreadyThere =
        tag !== undefined ? repo.tagIndex.get(tag) === digest : repo.images.has(digest);
      if (alreadyThere) {
        throw new AwsError(
          'ImageAlreadyExistsException',
          `Image with digest '${digest}' ${tag !== undefined ? `and tag '${tag}' ` : ''}already exists in the repository with name '${repo.name}' in registry with id '${repo.registryId}'`,
        );
      }
      const declared =
        typeof input.imageManifestMediaType === 'string' ? input.imageManifestMediaType : undefined;
      let image: ImageRecord;
      try {
        image = state.putManifest(repo, body, declared, tag, expected).image;
      } catch (error) {
        if (
          error instanceof EcrStateError &&
          (error.kind === 'ManifestInvalid' || error.kind === 'ManifestUnsupported')
        ) {
          throw invalid(
            `Invalid parameter at 'ImageManifest' failed to satisfy constraint: '${error.message}'`,
          );
        }
        throw toAwsError(error);
      }
      return {
        image: {
          registryId: repo.registryId,
          repositoryName: repo.name,
          imageId: { imageDigest: image.digest, ...(tag !== undefined ? { imageTag: tag } : {}) },
          imageManifest: image.manifest,
          imageManifestMediaType: image.mediaType,
        },
      };
    },

    BatchDeleteImage(input) {
      const repo = repoOf(input);
      const imageIds: ImageIdentifier[] = [];
      const failures: Record<string, unknown>[] = [];
      for (const id of imageIdsOf(input, 100)) {
        const found = lookup(repo, id);
        if (!('image' in found)) {
          failures.push({ imageId: id, ...found });
          continue;
        }
        const digest = found.image.digest;
        if (id.imageTag && !id.imageDigest) {
          repo.tagIndex.delete(id.imageTag);
          imageIds.push({ imageDigest: digest, imageTag: id.imageTag });
          if (
            state.tagsOf(repo, digest).length === 0 &&
            state.referencingIndexes(repo, digest).length === 0
          ) {
            repo.images.delete(digest);
          }
          continue;
        }
        try {
          const tags = state.deleteImage(repo, digest);
          if (tags.length === 0) imageIds.push({ imageDigest: digest });
          for (const t of tags) imageIds.push({ imageDigest: digest, imageTag: t });
        } catch (error) {
          if (error instanceof EcrStateError && error.kind === 'ReferencedByIndex') {
            failures.push({
              imageId: id,
              failureCode: 'ImageReferencedByManifestList',
              failureReason: error.message,
            });
          } else {
            throw error;
          }
        }
      }
      return { imageIds, failures };
    },

    TagResource(input) {
      const repo = resourceRepo(input);
      const tags = validateTags(input.tags);
      if (tags.length === 0)
        throw invalid(`Invalid parameter at 'tags': at least one tag is required`);
      repo.tags = mergeTags(repo.tags, tags);
      return {};
    },

    UntagResource(input) {
      const repo = resourceRepo(input);
      const keys = input.tagKeys;
      if (!Array.isArray(keys)) throw invalid(`Invalid parameter at 'tagKeys': must be a list`);
      repo.tags = repo.tags.filter((t) => !keys.includes(t.Key));
      return {};
    },

    ListTagsForResource(input) {
      return { tags: resourceRepo(input).tags };
    },
  };

  return operations as Record<string, JsonOperation>;
}
