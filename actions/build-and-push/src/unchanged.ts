import * as core from '../../../packages/kit/src/core';
import type { RunContext } from './context';
import { tagExisting } from './existing';
import { say, type Outcome } from './outcome';

/**
 * With `skip-unchanged`: the image already under this build's content tag, put under `tags` by
 * digest with ECR's API (no layer moves); undefined to build.
 */
export async function unchanged(ctx: RunContext): Promise<Outcome | undefined> {
  const { ecr, repository, host, client } = ctx;
  const contentTag = ctx.contentTag as string;
  const { findUnchanged, imageRevision } =
    await import('../../../packages/image/src/publish-images');
  const { RegistrySource } = await import('../../../packages/image/src/copy');
  return core.group('Look for the image of the same build inputs', async () => {
    const found = await findUnchanged(ecr, repository, contentTag, async (digest) =>
      imageRevision(new RegistrySource(await client(), repository.name), digest),
    );
    if (!found) {
      say(`${host}/${repository.name}:${contentTag} does not exist yet: building.`);
      return undefined;
    }
    say(
      `${host}/${repository.name}:${contentTag} is ${found.digest}${found.builtFrom ? `, built from ${found.builtFrom}` : ''}: its build inputs are unchanged, so it is tagged for this commit instead of rebuilt.`,
    );
    return tagExisting(ctx, found, {
      action: 'unchanged',
      contentTag,
      builtFrom: found.builtFrom,
    });
  });
}
