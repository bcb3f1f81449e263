import * as core from '../../../packages/kit/src/core';
import type { RunContext } from './context';
import { say, tagLine, type Outcome } from './outcome';

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
    core.setOutput('digest', found.digest);
    const tags = await publish.tagImage(ecr, repository, found.image, inputs.tags);
    for (const t of tags) say(tagLine(t));
    return {
      action: 'reused',
      digest: found.digest,
      registry: host,
      repository: repository.name,
      tags,
      pushed: true,
      sizeBytes: found.sizeBytes,
      repositoryCreated: false,
    } satisfies Outcome;
  });
}
