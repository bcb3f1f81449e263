import * as core from '../../../packages/kit/src/core';
import type { Reusable } from '../../../packages/image/src/publish';
import type { RunContext } from './context';
import { say, tagLine, type Outcome } from './outcome';

/**
 * Puts an image that is already in the repository under this run's `tags` by digest with ECR's
 * API (no layer moves), sets `digest` and returns the outcome: what `skip-if-exists` and
 * `skip-unchanged` do once they found one.
 */
export async function tagExisting(
  ctx: RunContext,
  found: Reusable,
  outcome: Pick<Outcome, 'action'> & Pick<Partial<Outcome>, 'contentTag' | 'builtFrom'>,
): Promise<Outcome> {
  const { inputs, ecr, repository, host } = ctx;
  const publish = await import('../../../packages/image/src/publish');
  core.setOutput('digest', found.digest);
  const tags = await publish.tagImage(ecr, repository, found.image, inputs.tags);
  for (const t of tags) say(tagLine(t));
  return {
    ...outcome,
    digest: found.digest,
    registry: host,
    repository: repository.name,
    tags,
    pushed: true,
    sizeBytes: found.sizeBytes,
    repositoryCreated: false,
  };
}
