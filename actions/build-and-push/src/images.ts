import * as core from '../../../packages/kit/src/core';
import { formatBytes } from '../../../packages/kit/src/bytes';
import { formatDuration } from '../../../packages/kit/src/duration';
import { systemClock } from '../../../packages/kit/src/poll';
import { SummaryBuilder } from '../../../packages/kit/src/summary';
import type { EcrApi, RepositoryInfo } from '../../../packages/image/src/ecr';
import type { ImageJob, ImageJobResult } from '../../../packages/image/src/publish-images';
import { buildProgress, cacheRefOf, explainMissing, setUpBuild } from './build';
import { maskLogin } from './context';
import { imageRefs, resolveLineRepositories, setImageOutputs } from './image-lines';
import type { ImageInput } from './images-input';
import type { Inputs } from './inputs';
import { code, say, unchangedSince } from './outcome';

/** What the `images` form works with. */
export interface ImagesRun {
  inputs: Inputs & { images: ImageInput[] };
  ecr: EcrApi;
  /** Each image's content tag, in the order of `images` (when `skip-unchanged` is on). */
  contentTags?: string[];
  signal: AbortSignal;
}

/** One image's row: its line, repository and what happened. */
interface Row {
  image: ImageInput;
  repository: RepositoryInfo;
  created: boolean;
  result: ImageJobResult;
}

function detail(r: ImageJobResult): string {
  if (r.action === 'unchanged')
    return `${unchangedSince(r.builtFrom)}: not rebuilt, no layers moved`;
  if (r.action === 'reused') return "this commit's tag was already there: nothing built";
  const p = r.publish;
  if (!p) return 'built';
  const parts = [`built in ${formatDuration(p.buildMs)}`];
  if (p.stats) {
    parts.push(
      `${p.stats.blobsUploaded} blob(s) uploaded (${formatBytes(p.stats.bytesUploaded)}), ${p.stats.blobsPresent} already present`,
    );
  }
  if (!p.pushed) parts.push('not pushed');
  return parts.join(', ');
}

async function writeImagesSummary(rows: Row[], host: string): Promise<void> {
  const count = (a: string): number => rows.filter((r) => r.result.action === a).length;
  const counts = (['built', 'unchanged', 'reused'] as const)
    .filter((a) => count(a))
    .map((a) => `${count(a)} ${a}`)
    .join(', ');
  const s = new SummaryBuilder('Build and push');
  s.verdict('success', `${rows.length} image${rows.length === 1 ? '' : 's'}: ${counts}`);
  s.table(
    ['Image', 'Container', 'Action', 'Digest', 'Tags', 'Details'],
    rows.map(({ image, repository, created, result }) => [
      `${code(`${host}/${repository.name}`)}${created ? ' (repository created by this run)' : ''}`,
      code(image.container),
      result.action,
      code(result.digest),
      result.tags.map((t) => code(t.tag)).join(', '),
      detail(result),
    ]),
  );
  await s.write();
}

/**
 * The `images` form: every repository resolved, one login and one builder for all, then each
 * image built, or tagged by digest when its content (or this commit's) tag is already there;
 * outputs `images` and `container-images`, and one summary row per image.
 */
export async function publishAll(run: ImagesRun): Promise<void> {
  const { inputs, ecr, signal } = run;
  const publish = await import('../../../packages/image/src/publish');
  const { RegistryClient } = await import('../../../packages/image/src/registry');
  const { RegistrySource } = await import('../../../packages/image/src/copy');
  const { publishImages } = await import('../../../packages/image/src/publish-images');

  const { targets, host } = await resolveLineRepositories(ecr, inputs.images, inputs, 'images');

  const login = await publish.registryLogin(ecr, targets[0].repository.registryId);
  maskLogin(login);
  if (login.insecure)
    say(`The registry ${host} speaks plain HTTP: TLS verification is off for it.`);
  const client = new RegistryClient(login.auth, signal);

  const jobs: ImageJob[] = [];
  for (const [i, image] of inputs.images.entries()) {
    const { repository } = targets[i];
    jobs.push({
      repository,
      spec: {
        context: image.context,
        file: image.file,
        target: inputs.target,
        buildArgs: inputs.buildArgs,
        secrets: inputs.secrets,
        labels: inputs.labels,
        platforms: inputs.platforms,
      },
      tags: inputs.tags,
      commitTag: inputs.skipIfExists ? inputs.commitTag : undefined,
      contentTag: run.contentTags?.[i],
      cacheRef: inputs.cache
        ? await cacheRefOf({ ecr, inputs }, host, `${repository.name}-cache`)
        : undefined,
    });
  }

  const setup = await setUpBuild(host, inputs, signal);
  let results: ImageJobResult[];
  try {
    results = await publishImages({
      ecr,
      host,
      builder: setup.builder,
      login,
      registry: client,
      jobs,
      push: inputs.push,
      workDir: setup.workDir,
      authFile: setup.authFile,
      env: setup.env,
      signal,
      clock: systemClock,
      progress: buildProgress,
      reader: (repository) => new RegistrySource(client, repository),
    });
  } catch (error) {
    throw await explainMissing(error, setup.builder, inputs.target);
  }

  const rows: Row[] = results.map((result, i) => ({
    image: inputs.images[i],
    repository: targets[i].repository,
    created: targets[i].created,
    result,
  }));
  const outputRows = rows.map((r) => ({
    container: r.image.container,
    repository: r.repository.name,
    digest: r.result.digest,
    tags: r.result.tags,
  }));
  const refs = imageRefs(host, outputRows);
  setImageOutputs(host, outputRows, inputs.push);
  if (!inputs.push) core.info('Input `push` is false: nothing was pushed.');
  await writeImagesSummary(rows, host);
  for (const [i, r] of rows.entries()) {
    say(
      `${r.result.action === 'unchanged' ? `Unchanged (${r.result.builtFrom ? `built from ${r.result.builtFrom}` : 'built before'})` : r.result.action === 'reused' ? 'Reused' : r.result.pushed ? 'Built and pushed' : 'Built (push is false)'} ${refs[i]} as ${r.result.tags.map((t) => t.tag).join(', ')}.`,
    );
  }
}
