/**
 * DescribeImages, ListImages, BatchGetImage, BatchCheckLayerAvailability, PutImage and
 * BatchDeleteImage: images by digest or tag, with ECR's per-image failures.
 */
import { AwsError, type RequestContext } from '../../contracts';
import {
  describeId,
  imageIdsOf,
  invalid,
  pageSize,
  paginate,
  repositoryOf,
  requireString,
  toAwsError,
  type ImageIdentifier,
  type Input,
} from '../api-input';
import { imageDetailView } from '../api-views';
import { isDigest, sha256Digest } from '../manifest';
import {
  EcrStateError,
  isValidTag,
  type ImageRecord,
  type RegistryState,
  type RepositoryRecord,
} from '../registry-state';

type Operation = (input: Input, rc: RequestContext) => unknown;

type Lookup = { image: ImageRecord } | { failureCode: string; failureReason: string };

/** Finds the image an id names, or the failure ECR reports for it. */
function lookup(repo: RepositoryRecord, id: ImageIdentifier): Lookup {
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
}

/** The image operations. */
export function imageOperations(state: RegistryState): Record<string, Operation> {
  /** `filter.tagStatus` (ANY, TAGGED, UNTAGGED) as a predicate. */
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

  return {
    DescribeImages(input) {
      const repo = repositoryOf(state, input);
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
            details.push(imageDetailView(state, repo, found.image));
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
        imageDetails: page.map((i) => imageDetailView(state, repo, i)),
        ...(nextToken ? { nextToken } : {}),
      };
    },

    ListImages(input) {
      const repo = repositoryOf(state, input);
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
      const repo = repositoryOf(state, input);
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
      const repo = repositoryOf(state, input);
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
      const repo = repositoryOf(state, input);
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
      const repo = repositoryOf(state, input);
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
  };
}
