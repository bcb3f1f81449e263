import * as core from '../../../packages/kit/src/core';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import { awsClientConfig, resolveRegion, withErrorContext } from '../../../packages/kit/src/aws';
import { logSafe } from '../../../packages/kit/src/log-text';
import { runAction } from '../../../packages/kit/src/run';
import { parseEcrHost, formatRef } from '../../../packages/image/src/reference';
import type { EcrApi } from '../../../packages/image/src/ecr';
import type { RegistryLogin } from '../../../packages/image/src/publish';
import type { RegistryClient } from '../../../packages/image/src/registry';
import { build } from './build';
import { contentTags } from './content-tags';
import { publishAll } from './images';
import { maskLogin, repositoryLine, resolveTarget, type RunContext } from './context';
import { getInputs } from './inputs';
import { say, writeSummary, type Outcome } from './outcome';
import { promote } from './promote';
import { promoteAll } from './promote-images';
import { reuse } from './reuse';
import { unchanged } from './unchanged';

/** What the action can be given instead of the real world (tests). */
export interface Deps {
  /** ECR for a region; its calls stop when `signal` aborts (the run is cancelled). */
  ecr?: (region: string, signal: AbortSignal) => Promise<EcrApi>;
}

async function defaultEcr(region: string, signal: AbortSignal): Promise<EcrApi> {
  const { ECRClient } = await import('@aws-sdk/client-ecr');
  const { sdkEcr } = await import('../../../packages/image/src/ecr');
  return sdkEcr(withErrorContext(new ECRClient(awsClientConfig(region)), 'ECR'), signal);
}

/**
 * Builds once and pushes to ECR with traceable tags, or promotes existing images by digest (one,
 * or one per line of `promote-from`).
 */
export async function run(deps: Deps = {}): Promise<void> {
  await runAction(async ({ signal }) => {
    const inputs = getInputs();
    const tags = await contentTags(inputs);
    const ecrHost = inputs.repository.registry
      ? parseEcrHost(inputs.repository.registry)
      : undefined;
    const region = ecrHost?.region ?? resolveRegion(undefined);
    const ecrFor = (r: string): Promise<EcrApi> => (deps.ecr ?? defaultEcr)(r, signal);
    const ecr = await ecrFor(region);
    if (inputs.images) {
      await publishAll({
        inputs: { ...inputs, images: inputs.images },
        ecr,
        contentTags: tags,
        signal,
      });
      return;
    }
    if (inputs.promotions) {
      await promoteAll({
        inputs: { ...inputs, promotions: inputs.promotions },
        ecr,
        ecrFor,
        signal,
      });
      return;
    }
    const publish = await import('../../../packages/image/src/publish');
    const { RegistryClient } = await import('../../../packages/image/src/registry');

    if (inputs.promoteFrom) {
      await publish.checkSourcesExist(ecr, [
        { target: inputs.repository, from: inputs.promoteFrom },
      ]);
    }
    const { repository, created } = await core.group('Repository', async () => {
      const r = await resolveTarget(
        ecr,
        inputs.repository,
        inputs,
        (name) =>
          `Repository \`${name}\` does not exist. Create it (or set \`create-repository: true\` to let the action create it).`,
      );
      say(repositoryLine(r));
      return r;
    });
    const host = publish.hostOf(repository.uri);
    if (inputs.repository.registry && inputs.repository.registry !== host) {
      throw new ConfigurationError(
        `Input \`repository\` names the registry \`${inputs.repository.registry}\`, but the repository lives in \`${logSafe(host)}\`.`,
      );
    }
    core.setOutput('registry', host);

    let login: RegistryLogin | undefined;
    const getLogin = async (): Promise<RegistryLogin> => {
      if (!login) {
        login = await publish.registryLogin(ecr, repository.registryId);
        maskLogin(login);
        if (login.host !== host) {
          core.debug(
            logSafe(`ECR's proxy endpoint is ${login.host}; the repository URI names ${host}.`),
          );
        }
        if (login.insecure)
          say(`The registry ${host} speaks plain HTTP: TLS verification is off for it.`);
      }
      return login;
    };
    const client = async (): Promise<RegistryClient> =>
      new RegistryClient((await getLogin()).auth, signal);

    const ctx: RunContext = {
      inputs,
      ecr,
      repository,
      host,
      getLogin,
      client,
      ecrFor,
      signal,
      contentTag: tags?.[0],
    };
    let outcome: Outcome;
    if (inputs.promoteFrom) {
      outcome = await promote(ctx);
    } else {
      const reused = inputs.skipIfExists ? await reuse(ctx) : undefined;
      const same = !reused && ctx.contentTag ? await unchanged(ctx) : undefined;
      outcome = reused ?? same ?? (await build(ctx));
    }
    outcome.repositoryCreated = created;

    const image = formatRef(host, repository.name, outcome.digest);
    if (outcome.pushed) core.setOutput('image', image);
    core.setOutput('digest', outcome.digest);
    core.setOutput(
      'tags',
      outcome.tags.map((t) => formatRef(host, repository.name, t.tag)).join('\n'),
    );
    core.setOutput('action', outcome.action);
    await writeSummary(outcome, inputs);
    const done = {
      built: outcome.pushed ? 'Built and pushed' : 'Built (push is false)',
      promoted: 'Promoted',
      reused: 'Reused',
      unchanged: 'Unchanged since an earlier build, tagged',
    }[outcome.action];
    say(`${done} ${image} as ${outcome.tags.map((t) => t.tag).join(', ')}.`);
  });
}
