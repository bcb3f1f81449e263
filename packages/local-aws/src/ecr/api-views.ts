/** What the ECR API returns for repositories and images (timestamps in epoch seconds). */
import type { RequestContext } from '../contracts';
import type { ImageRecord, RegistryState, RepositoryRecord } from './registry-state';

/** Milliseconds as the epoch seconds the JSON protocol carries. */
export const seconds = (ms: number): number => ms / 1000;

/** A repository; its URI names the host the client reached this server under. */
export function repositoryView(
  repo: RepositoryRecord,
  rc: RequestContext,
): Record<string, unknown> {
  return {
    repositoryArn: repo.arn,
    registryId: repo.registryId,
    repositoryName: repo.name,
    repositoryUri: `${rc.endpointHost}/${repo.name}`,
    createdAt: seconds(repo.createdAt),
    imageTagMutability: repo.mutability,
    ...(repo.exclusionFilters.length
      ? { imageTagMutabilityExclusionFilters: repo.exclusionFilters }
      : {}),
    imageScanningConfiguration: { scanOnPush: repo.scanOnPush },
    encryptionConfiguration: repo.encryption,
  };
}

/** An image as DescribeImages returns it. */
export function imageDetailView(
  state: RegistryState,
  repo: RepositoryRecord,
  image: ImageRecord,
): Record<string, unknown> {
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
}
