import * as core from '../../../packages/kit/src/core';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import { logSafe } from '../../../packages/kit/src/log-text';
import type { ForeignRegistry } from '../../../packages/image/src/publish';
import { parseEcrHost, type ImageRef } from '../../../packages/image/src/reference';
import { maskLogin, type RunContext } from './context';
import { promotionLine, say, tagLine, type Outcome } from './outcome';

/**
 * Refuses, before any promotion, a source in a registry that is neither the target's nor ECR's
 * (no login could read it).
 */
export function checkSource(from: ImageRef, host: string, line?: string): void {
  if (from.registry && from.registry !== host && !parseEcrHost(from.registry)) {
    throw new ConfigurationError(
      `Input \`promote-from\`${line ? ` (\`${line}\`)` : ''} names the registry \`${from.registry}\`, which is neither this repository's registry (\`${logSafe(host)}\`) nor an ECR registry.`,
    );
  }
}

/** The reader of a source in another ECR registry: its ECR and a login, masked. */
export function foreignReader(
  ecrFor: RunContext['ecrFor'],
): (sourceHost: string) => Promise<ForeignRegistry> {
  return async (sourceHost) => {
    const publish = await import('../../../packages/image/src/publish');
    const where = parseEcrHost(sourceHost)!;
    const foreignEcr = await ecrFor(where.region);
    const login = await publish.registryLogin(foreignEcr, where.accountId);
    maskLogin(login);
    return { ecr: foreignEcr, login };
  };
}

/** With `promote-from`: puts the exact image it names under `tags`, without building. */
export async function promote(ctx: RunContext): Promise<Outcome> {
  const { inputs, ecr, repository, host, client, ecrFor, signal } = ctx;
  const publish = await import('../../../packages/image/src/publish');
  return core.group('Promote', async () => {
    const from = inputs.promoteFrom!;
    checkSource(from, host);
    const result = await publish.promote({
      ecr,
      repository,
      host,
      from,
      tags: inputs.tags,
      target: client,
      signal,
      foreign: foreignReader(ecrFor),
    });
    core.setOutput('digest', result.digest);
    say(promotionLine(result));
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
