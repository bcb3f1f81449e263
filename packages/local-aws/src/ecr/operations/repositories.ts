/**
 * CreateRepository, DescribeRepositories, DeleteRepository, PutImageTagMutability, and the
 * repository tags: TagResource, UntagResource, ListTagsForResource.
 */
import { AwsError, type RequestContext } from '../../contracts';
import {
  invalid,
  mergeTags,
  pageSize,
  paginate,
  repositoryOf,
  requireString,
  validateMutability,
  validateTags,
  type Input,
} from '../api-input';
import { repositoryView } from '../api-views';
import { isValidRepositoryName } from '../names';
import type { RegistryState, RepositoryRecord } from '../registry-state';

type Operation = (input: Input, rc: RequestContext) => unknown;

/** The repository operations. */
export function repositoryOperations(state: RegistryState): Record<string, Operation> {
  const accountId = state.accountId;

  const resourceRepo = (input: Input): RepositoryRecord => {
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

  return {
    CreateRepository(input, rc) {
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
        arn: `arn:aws:ecr:${rc.region}:${accountId}:repository/${name}`,
        region: rc.region,
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
            ? { kmsKey: encryption.kmsKey ?? `arn:aws:kms:${rc.region}:${accountId}:key/aws/ecr` }
            : {}),
        },
        tags,
        images: new Map(),
        tagIndex: new Map(),
        blobs: new Set(),
      };
      state.repositories.set(name, repo);
      return { repository: repositoryView(repo, rc) };
    },

    DescribeRepositories(input, rc) {
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
          repositoryOf(state, { repositoryName: name, registryId: input.registryId }),
        );
        return { repositories: repos.map((r) => repositoryView(r, rc)) };
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
        repositories: page.map((r) => repositoryView(r, rc)),
        ...(nextToken ? { nextToken } : {}),
      };
    },

    DeleteRepository(input, rc) {
      const repo = repositoryOf(state, input);
      if (repo.images.size > 0 && input.force !== true) {
        throw new AwsError(
          'RepositoryNotEmptyException',
          `The repository with name '${repo.name}' in registry with id '${accountId}' cannot be deleted because it still contains images`,
        );
      }
      state.repositories.delete(repo.name);
      return { repository: repositoryView(repo, rc) };
    },

    PutImageTagMutability(input) {
      const repo = repositoryOf(state, input);
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
}
