import * as core from '../../../packages/kit/src/core';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import { logSafe } from '../../../packages/kit/src/log-text';
import type { Inputs } from './inputs';

/**
 * The content tag of each image to build (with `images`, in their order; else one), derived from
 * the files before anything is called; undefined when `skip-unchanged` is off. A context that is
 * not in a git checkout fails naming the input.
 */
export async function contentTags(inputs: Inputs): Promise<string[] | undefined> {
  if (!inputs.skipUnchanged) return undefined;
  const { deriveContentTag, ContentTagError } =
    await import('../../../packages/image/src/content-tag');
  const builds = inputs.images ?? [{ context: inputs.context, file: inputs.file, line: undefined }];
  const tags: string[] = [];
  for (const image of builds) {
    try {
      const derived = await deriveContentTag({
        context: image.context,
        file: image.file,
        target: inputs.target,
        buildArgs: inputs.buildArgs,
        platforms: inputs.platforms,
      });
      core.info(
        logSafe(
          `Content tag${image.line ? ` of ${image.line}` : ''}: ${derived.tag} (git tree ${derived.tree}${derived.dirty ? ', from the files: the context differs from the commit' : ''}).`,
        ),
      );
      if (derived.ignored.length) {
        const shown = derived.ignored.slice(0, 5).join(', ');
        const more = derived.ignored.length > 5 ? ` and ${derived.ignored.length - 5} more` : '';
        core.info(
          logSafe(
            `Not in the content tag: ${shown}${more} (git ignores them). If the build copies one of them, set \`skip-unchanged: false\`: a change to it would not rebuild the image.`,
          ),
        );
      }
      tags.push(derived.tag);
    } catch (error) {
      if (error instanceof ContentTagError) {
        throw new ConfigurationError(
          `${inputs.images ? `Input \`images\` (\`${image.line}\`)` : 'Input `skip-unchanged`'} needs the content tag of the build inputs, but ${error.message}. Check out the repository (actions/checkout) or set \`skip-unchanged: false\`.`,
        );
      }
      throw error;
    }
  }
  return tags;
}
