import * as core from '../../../packages/kit/src/core';
import { SummaryBuilder } from '../../../packages/kit/src/summary';
import type { EcrApi, RepositoryInfo } from '../../../packages/image/src/ecr';
import type { PromoteResult, RegistryLogin } from '../../../packages/image/src/publish';
import type { RegistryClient } from '../../../packages/image/src/registry';
import { formatRef } from '../../../packages/image/src/reference';
import { maskLogin, type RunContext } from './context';
import { imageRefs, resolveLineRepositories, setImageOutputs } from './image-lines';
import type { PromotionInput } from './images-input';
import type { Inputs } from './inputs';
import { code, promotionLine, PROMOTION_MODES, say, tagLine } from './outcome';
import { checkSource, foreignReader } from './promote';

/** What the one-image-per-line form of `promote-from` works with. */
export interface PromotionsRun {
  inputs: Inputs & { promotions: PromotionInput[] };
  ecr: EcrApi;
  ecrFor: RunContext['ecrFor'];
  signal: AbortSignal;
}

/** One image's row: its line, repository and what the promotion did. */
interface Row {
  line: PromotionInput;
  repository: RepositoryInfo;
  created: boolean;
  result: PromoteResult;
}

async function writePromotionsSummary(rows: Row[], host: string): Promise<void> {
  const s = new SummaryBuilder('Build and push');
  s.verdict(
    'success',
    `${rows.length} image${rows.length === 1 ? '' : 's'} promoted by digest, nothing built`,
  );
  s.table(
    ['Container', 'Source', 'Image', 'How', 'Tags'],
    rows.map(({ line, repository, created, result }) => [
      code(line.container),
      code(result.source),
      `${code(formatRef(host, repository.name, result.digest))}${created ? ' (repository created by this run)' : ''}`,
      `${result.mode} (${PROMOTION_MODES[result.mode] ?? result.mode})`,
      result.tags.map((t) => code(t.tag)).join(', '),
    ]),
  );
  await s.write();
}

/**
 * `promote-from` with one `[<container>@]<repository>=<image reference>` per line: every target
 * repository resolved (created when `create-repository` allows), every source checked, then each
 * image promoted by digest as the one-image form promotes it, under `tags`; outputs `images`,
 * `container-images`, `tags` and `registry`, and one summary row per image.
 */
export async function promoteAll(run: PromotionsRun): Promise<void> {
  const { inputs, ecr, ecrFor, signal } = run;
  const publish = await import('../../../packages/image/src/publish');
  const { RegistryClient } = await import('../../../packages/image/src/registry');
  const { promoteImages } = await import('../../../packages/image/src/promote-images');

  await publish.checkSourcesExist(
    ecr,
    inputs.promotions.map((p) => ({ target: p.repository, from: p.from })),
  );
  const { targets, host } = await resolveLineRepositories(
    ecr,
    inputs.promotions,
    inputs,
    'promote-from',
  );
  for (const { from, line } of inputs.promotions) checkSource(from, host, line);

  let login: Promise<RegistryLogin> | undefined;
  const getLogin = (): Promise<RegistryLogin> => {
    login ??= publish.registryLogin(ecr, targets[0].repository.registryId).then((l) => {
      maskLogin(l);
      if (l.insecure)
        say(`The registry ${host} speaks plain HTTP: TLS verification is off for it.`);
      return l;
    });
    return login;
  };
  let client: RegistryClient | undefined;
  const target = async (): Promise<RegistryClient> =>
    (client ??= new RegistryClient((await getLogin()).auth, signal));

  const results = await core.group('Promote', () =>
    promoteImages({
      ecr,
      host,
      jobs: targets.map((t, i) => ({
        repository: t.repository,
        from: inputs.promotions[i].from,
      })),
      tags: inputs.tags,
      target,
      foreign: foreignReader(ecrFor),
      signal,
      onPromoted: (result) => {
        say(promotionLine(result));
        for (const t of result.tags) say(tagLine(t));
      },
    }),
  );

  const rows: Row[] = results.map((result, i) => ({
    line: inputs.promotions[i],
    repository: targets[i].repository,
    created: targets[i].created,
    result,
  }));
  const outputRows = rows.map((r) => ({
    container: r.line.container,
    repository: r.repository.name,
    digest: r.result.digest,
    tags: r.result.tags,
  }));
  const refs = imageRefs(host, outputRows);
  setImageOutputs(host, outputRows, true);
  await writePromotionsSummary(rows, host);
  for (const [i, r] of rows.entries()) {
    say(`Promoted ${refs[i]} as ${r.result.tags.map((t) => t.tag).join(', ')}.`);
  }
}
