// What the two several-images forms (`images`, `promote-from` lines) share: every line's
// repository resolved before anything moves, all of them in one registry, and the outputs that
// list the images (`images`, `container-images`, `tags`).
import * as core from '../../../packages/kit/src/core';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import { logSafe } from '../../../packages/kit/src/log-text';
import type { EcrApi, RepositoryInfo, TagResult } from '../../../packages/image/src/ecr';
import { formatRef } from '../../../packages/image/src/reference';
import { repositoryLine, resolveTarget } from './context';
import type { RepositoryLine } from './images-input';
import { say } from './outcome';
import type { Inputs } from './inputs';

/** A line's repository, found (or created with `create-repository`). */
export interface ResolvedRepository {
  repository: RepositoryInfo;
  created: boolean;
}

/**
 * Resolves every line's repository (in the log's "Repositories" group; created when
 * `create-repository` allows, never with `push: false`), then checks they are all in one registry; returns them in line order with that
 * registry's host, which is set as the `registry` output. `input` names the input in messages.
 */
export async function resolveLineRepositories(
  ecr: EcrApi,
  lines: readonly RepositoryLine[],
  inputs: Pick<Inputs, 'createRepository' | 'push'>,
  input: 'images' | 'promote-from',
): Promise<{ targets: ResolvedRepository[]; host: string }> {
  const publish = await import('../../../packages/image/src/publish');
  const targets = await core.group('Repositories', async () => {
    const found: ResolvedRepository[] = [];
    for (const l of lines) {
      const r = await resolveTarget(
        ecr,
        l.repository,
        inputs,
        (name) =>
          `Repository \`${name}\` (input \`${input}\`, \`${l.line}\`) does not exist. Create it (or set \`create-repository: true\` to let the action create it).`,
      );
      say(repositoryLine(r));
      found.push(r);
    }
    return found;
  });
  const host = publish.hostOf(targets[0].repository.uri);
  for (const [i, t] of targets.entries()) {
    const at = publish.hostOf(t.repository.uri);
    const named = lines[i].repository.registry;
    if (at !== host || (named && named !== at)) {
      throw new ConfigurationError(
        `Input \`${input}\` (\`${lines[i].line}\`) names a repository in \`${logSafe(at)}\`, but the images go to \`${logSafe(host)}\`: one step ${input === 'images' ? 'pushes to' : 'promotes into'} one registry.`,
      );
    }
  }
  core.setOutput('registry', host);
  return { targets, host };
}

/** One image that ended up in its repository: under which container, digest and tags. */
export interface ImageOutputRow {
  container: string;
  repository: string;
  digest: string;
  tags: TagResult[];
}

/** Each row's image by digest, `registry/repository@sha256:…`. */
export function imageRefs(host: string, rows: readonly ImageOutputRow[]): string[] {
  return rows.map((r) => formatRef(host, r.repository, r.digest));
}

/**
 * Sets the outputs that list several images: `images` (repository → image by digest) and
 * `container-images` (`<container>=<image by digest>` lines) when `pushed`, and `tags` (every
 * image's full references) always.
 */
export function setImageOutputs(
  host: string,
  rows: readonly ImageOutputRow[],
  pushed: boolean,
): void {
  const refs = imageRefs(host, rows);
  if (pushed) {
    core.setOutput(
      'images',
      JSON.stringify(Object.fromEntries(rows.map((r, i) => [r.repository, refs[i]]))),
    );
    core.setOutput('container-images', rows.map((r, i) => `${r.container}=${refs[i]}`).join('\n'));
  }
  core.setOutput(
    'tags',
    rows.flatMap((r) => r.tags.map((t) => formatRef(host, r.repository, t.tag))).join('\n'),
  );
}
