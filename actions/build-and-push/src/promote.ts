import * as core from '../../../packages/kit/src/core';
import { formatBytes } from '../../../packages/kit/src/bytes';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import { logSafe } from '../../../packages/kit/src/log-text';
import { parseEcrHost } from '../../../packages/image/src/reference';
import { maskLogin, type RunContext } from './context';
import { say, tagLine, type Outcome } from './outcome';

/** With `promote-from`: puts the exact image it names under `tags`, without building. */
export async function promote(ctx: RunContext): Promise<Outcome> {
  const { inputs, ecr, repository, host, client, ecrFor, signal } = ctx;
  const publish = await import('../../../packages/image/src/publish');
  return core.group('Promote', async () => {
    const from = inputs.promoteFrom!;
    if (from.registry && from.registry !== host && !parseEcrHost(from.registry)) {
      throw new ConfigurationError(
        `Input \`promote-from\` names the registry \`${from.registry}\`, which is neither this repository's registry (\`${logSafe(host)}\`) nor an ECR registry.`,
      );
    }
    const result = await publish.promote({
      ecr,
      repository,
      host,
      from,
      tags: inputs.tags,
      target: client,
      signal,
      foreign: async (sourceHost) => {
        const where = parseEcrHost(sourceHost)!;
        const foreignEcr = await ecrFor(where.region);
        const login = await publish.registryLogin(foreignEcr, where.accountId);
        maskLogin(login);
        return { ecr: foreignEcr, login };
      },
    });
    core.setOutput('digest', result.digest);
    say(
      `${result.source} is ${result.digest}; ${result.mode === 'retag' ? 'retagged with ECR PutImage (no layers moved)' : result.mode === 'mount' ? `copied by digest: ${result.stats.blobsMounted} blob(s) mounted, ${result.stats.blobsPresent} already present, ${formatBytes(result.stats.bytesUploaded, { exact: true })} uploaded` : `copied by digest from another registry: ${result.stats.blobsUploaded} blob(s), ${formatBytes(result.stats.bytesUploaded, { exact: true })}`}.`,
    );
    for (const t of result.tags) say(tagLine(t));
    const info =
      result.sizeBytes === undefined
        ? await ecr.describeImage(repository.name, { digest: result.digest }, repository.registryId)
        : undefined;
    return {
      action: 'promoted',
      digest: result.digest,
      registry: host,
      repository: repository.name,
      tags: result.tags,
      pushed: true,
      sizeBytes: info?.sizeBytes ?? result.sizeBytes,
      stats: result.stats,
      promotion: { source: result.source, mode: result.mode },
      repositoryCreated: false,
    } satisfies Outcome;
  });
}
