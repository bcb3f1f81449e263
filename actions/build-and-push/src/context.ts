import * as core from '../../../packages/kit/src/core';
import { ActionFailure } from '../../../packages/kit/src/errors';
import type { EcrApi, RepositoryInfo } from '../../../packages/image/src/ecr';
import type { RegistryLogin } from '../../../packages/image/src/publish';
import type { RegistryClient } from '../../../packages/image/src/registry';
import type { Inputs } from './inputs';

/** What every mode of the action (build, reuse, promote) works with, set up once by `run`. */
export interface RunContext {
  inputs: Inputs;
  ecr: EcrApi;
  /** The target repository (it exists). */
  repository: RepositoryInfo;
  /** `host[:port]` of the target registry. */
  host: string;
  /** The registry login, asked of ECR once and masked. */
  getLogin(): Promise<RegistryLogin>;
  /** A client for the target registry, logged in. */
  client(): Promise<RegistryClient>;
  /** ECR of another region (promotion from another registry). */
  ecrFor(region: string): Promise<EcrApi>;
  /** Aborted when the run is cancelled. */
  signal: AbortSignal;
  /** The image's content tag, when `skip-unchanged` is on. */
  contentTag?: string;
}

/** Masks every form a registry credential could be printed in. */
export function maskLogin(login: RegistryLogin): void {
  core.setSecret(login.auth.password);
  core.setSecret(Buffer.from(`${login.auth.username}:${login.auth.password}`).toString('base64'));
}

/**
 * The repository, created when `create-repository` allows; a missing one names the input. With
 * `push: false` a missing repository is never created (`planned`: the one it would be).
 */
export async function resolveTarget(
  ecr: EcrApi,
  ref: Inputs['repository'],
  inputs: Pick<Inputs, 'createRepository' | 'push'>,
  missing: (name: string) => string,
): Promise<{ repository: RepositoryInfo; created: boolean; planned?: boolean }> {
  const publish = await import('../../../packages/image/src/publish');
  try {
    return await publish.resolveRepository(ecr, ref, inputs.createRepository, {
      dryRun: !inputs.push,
    });
  } catch (error) {
    if (error instanceof publish.RepositoryMissingError) {
      throw new ActionFailure(missing(error.repository));
    }
    throw error;
  }
}

/** The log line for a resolved repository: created, used, or (with `push: false`) not created. */
export function repositoryLine(r: {
  repository: RepositoryInfo;
  created: boolean;
  planned?: boolean;
}): string {
  if (r.planned)
    return `Repository ${r.repository.uri} does not exist; \`push\` is false, so it is not created.`;
  return `${r.created ? 'Created' : 'Using'} repository ${r.repository.uri} (tags ${r.repository.tagMutability.toLowerCase()}).`;
}
