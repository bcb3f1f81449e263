/**
 * Reading ECR API (control plane) inputs with ECR's checks and errors: required members, page
 * sizes and tokens, tag mutability, resource tags, image id lists, repositories by name, and
 * the exception names registry-state errors carry on the API.
 */
import { AwsError } from '../contracts';
import {
  EcrStateError,
  type EcrStateErrorKind,
  type MutabilityExclusionFilter,
  type RegistryState,
  type RepositoryRecord,
  type ResourceTag,
  type TagMutability,
} from './registry-state';

/** A JSON request body. */
export type Input = Record<string, unknown>;

/** An `imageIds` member: a digest, a tag or both. */
export interface ImageIdentifier {
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

/** An `InvalidParameterException`. */
export function invalid(message: string): AwsError {
  return new AwsError('InvalidParameterException', message);
}

/** A required non-empty string member. */
export function requireString(input: Input, member: string): string {
  const value = input[member];
  if (typeof value !== 'string' || value === '') {
    throw invalid(
      `Invalid parameter at '${member}' failed to satisfy constraint: 'must not be null or empty'`,
    );
  }
  return value;
}

/** `maxResults` (1–1000), or `fallback` when absent. */
export function pageSize(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1000) {
    throw invalid(
      `Invalid parameter at 'maxResults' failed to satisfy constraint: 'must be between 1 and 1000'`,
    );
  }
  return value;
}

/** One page of `items` from the offset an opaque `nextToken` holds, and the next token. */
export function paginate<T>(
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

/** `imageTagMutability` with its exclusion filters (required exactly for `*_WITH_EXCLUSION`). */
export function validateMutability(
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

/** Resource tags (keys 1–128 characters, not `aws:`; values up to 256). */
export function validateTags(tags: unknown): ResourceTag[] {
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

/** Tags after adding `added` (same keys replaced); at most 50 per repository. */
export function mergeTags(existing: ResourceTag[], added: ResourceTag[]): ResourceTag[] {
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

/** `imageIds` (1 to `max` of them), duplicates dropped. */
export function imageIdsOf(input: Input, max: number): ImageIdentifier[] {
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
}

/** An image id as ECR's messages show it. */
export function describeId(id: ImageIdentifier): string {
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

/** A registry-state error as the API names it; anything else unchanged. */
export function toAwsError(error: unknown): unknown {
  if (error instanceof EcrStateError)
    return new AwsError(STATE_EXCEPTIONS[error.kind], error.message);
  return error;
}

/** The repository `repositoryName` (and `registryId`, when given) names. */
export function repositoryOf(state: RegistryState, input: Input): RepositoryRecord {
  const name = requireString(input, 'repositoryName');
  const registryId = input.registryId;
  if (registryId !== undefined && registryId !== null && registryId !== state.accountId) {
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
}
