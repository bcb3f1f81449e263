import * as core from '../../../packages/kit/src/core';
import type { RunContext } from './context';
import { tagExisting } from './existing';
import { say, type Outcome } from './outcome';

/** With `skip-if-exists`: the image this commit's tag already names, retagged; undefined to build. */
export async function reuse(ctx: RunContext): Promise<Outcome | undefined> {
  const { inputs, ecr, repository, host } = ctx;
  const publish = await import('../../../packages/image/src/publish');
  return core.group("Look for this commit's image", async () => {
    const found = await publish.findReusable(ecr, repository, inputs.commitTag as string);
    if (!found) {
      say(`${host}/${repository.name}:${inputs.commitTag} does not exist yet: building.`);
      return undefined;
    }
    say(
      `${host}/${repository.name}:${inputs.commitTag} is ${found.digest}: reusing it, nothing is built.`,
    );
    return tagExisting(ctx, found, { action: 'reused' });
  });
}
