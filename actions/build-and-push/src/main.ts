import * as core from '../../../packages/kit/src/core';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionFailure, ConfigurationError } from '../../../packages/kit/src/errors';
import { awsClientConfig, resolveRegion, withErrorContext } from '../../../packages/kit/src/aws';
import { formatBytes } from '../../../packages/kit/src/bytes';
import { formatDuration } from '../../../packages/kit/src/duration';
import { runAction } from '../../../packages/kit/src/run';
import { SummaryBuilder } from '../../../packages/kit/src/summary';
import { parseEcrHost, formatRef } from '../../../packages/image/src/reference';
import type { EcrApi, RepositoryInfo, TagResult } from '../../../packages/image/src/ecr';
import type { RegistryLogin } from '../../../packages/image/src/publish';
import type { Builder, BuildOutcome } from '../../../packages/image/src/builder';
import type { TransferStats } from '../../../packages/image/src/registry';
import { getInputs, type Inputs } from './inputs';
import { STATE, WORK_DIR_PREFIX } from './state';

/** What the action can be given instead of the real world (tests). */
export interface Deps {
  /** ECR for a region. */
  ecr?: (region: string) => Promise<EcrApi>;
}


/** What one run did, for outputs and the summary. */
interface Outcome {
  action: 'built' | 'promoted' | 'reused';
  digest: string;
  registry: string;
  repository: string;
  tags: TagResult[];
  pushed: boolean;
  sizeBytes?: number;
  buildMs?: number;
  build?: BuildOutcome & { builder: string; settings: string[] };
  cacheRef?: string;
  stats?: TransferStats;
  promotion?: { source: string; mode: string };
  repositoryCreated: boolean;
}

async function defaultEcr(region: string): Promise<EcrApi> {
  const { ECRClient } = await import('@aws-sdk/client-ecr');
  const { sdkEcr } = await import('../../../packages/image/src/ecr');
  return sdkEcr(withErrorContext(new ECRClient(awsClientConfig(region)), 'ECR'));
}

/** Masks every form a registry credential could be printed in. */
function maskLogin(login: RegistryLogin): void {
  core.setSecret(login.auth.password);
  core.setSecret(Buffer.from(`${login.auth.username}:${login.auth.password}`).toString('base64'));
}

function privateWorkDir(): string {
  const base = process.env.RUNNER_TEMP || tmpdir();
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, WORK_DIR_PREFIX));
  chmodSync(dir, 0o700);
  return dir;
}

async function writeSummary(o: Outcome, inputs: Inputs): Promise<void> {
  const s = new SummaryBuilder('Build and push');
  const verb =
    o.action === 'built' ? (o.pushed ? 'built and pushed' : 'built (not pushed)') : o.action;
  s.verdict('success', `${verb} \`${o.repository}@${o.digest.slice(0, 19)}…\``);
  const cache = !inputs.cache
    ? 'off'
    : o.build
      ? `${o.build.cacheHits ? 'used' : 'not used'}: ${o.build.cacheHits} of ${o.build.steps} steps from the cache (${o.cacheRef})`
      : 'not needed';
  s.facts([
    ['Image', `\`${o.registry}/${o.repository}@${o.digest}\``],
    ['Action', o.action],
    [
      'Source',
      o.promotion
        ? `\`${o.promotion.source}\` (${o.promotion.mode === 'retag' ? 'retagged with ECR PutImage' : o.promotion.mode === 'mount' ? 'copied by digest, blobs mounted' : 'copied by digest across registries'})`
        : undefined,
    ],
    ['Image size', o.sizeBytes !== undefined ? formatBytes(o.sizeBytes) : undefined],
    ['Build time', o.buildMs !== undefined ? formatDuration(o.buildMs) : undefined],
    [
      'Builder',
      o.build
        ? `${o.build.builder}${o.build.settings.length ? ` (${o.build.settings.join(', ')})` : ''}`
        : undefined,
    ],
    ['Cache', o.action === 'built' ? cache : undefined],
    [
      'Blobs uploaded',
      o.stats
        ? `${o.stats.blobsUploaded} (${formatBytes(o.stats.bytesUploaded)}), ${o.stats.blobsMounted} mounted, ${o.stats.blobsPresent} already present`
        : undefined,
    ],
    ['Repository', o.repositoryCreated ? `\`${o.repository}\` (created by this run)` : undefined],
  ]);
  if (o.tags.length) {
    s.table(
      ['Tag', 'Digest', ''],
      o.tags.map((t) => [
        `\`${o.registry}/${o.repository}:${t.tag}\``,
        `\`${o.digest}\``,
        t.status === 'unchanged' ? 'already there' : 'tagged',
      ]),
    );
  }
  await s.write();
}

/** Builds once and pushes to ECR with traceable tags, or promotes an existing image by digest. */
export async function run(deps: Deps = {}): Promise<void> {
  await runAction(async ({ signal }) => {
    const inputs = getInputs();
    const ecrHost = inputs.repository.registry
      ? parseEcrHost(inputs.repository.registry)
      : undefined;
    const region = ecrHost?.region ?? resolveRegion(undefined);
    const ecrFor = deps.ecr ?? defaultEcr;
    const ecr = await ecrFor(region);
    const publish = await import('../../../packages/image/src/publish');
    const { RegistryClient } = await import('../../../packages/image/src/registry');

    const { repository, created } = await core.group('Repository', async () => {
      try {
        const r = await publish.resolveRepository(ecr, inputs.repository, inputs.createRepository);
        core.info(
          `${r.created ? 'Created' : 'Using'} repository ${r.repository.uri} (tags ${r.repository.tagMutability.toLowerCase()}).`,
        );
        return r;
      } catch (error) {
        if (error instanceof publish.RepositoryMissingError) throw new ActionFailure(error.message);
        throw error;
      }
    });
    const host = publish.hostOf(repository.uri);
    if (inputs.repository.registry && inputs.repository.registry !== host) {
      throw new ConfigurationError(
        `Input \`repository\` names the registry \`${inputs.repository.registry}\`, but the repository lives in \`${host}\`.`,
      );
    }
    core.setOutput('registry', host);

    let login: RegistryLogin | undefined;
    const getLogin = async (): Promise<RegistryLogin> => {
      if (!login) {
        login = await publish.registryLogin(ecr, repository.registryId);
        maskLogin(login);
        if (login.host !== host) {
          core.debug(`ECR's proxy endpoint is ${login.host}; the repository URI names ${host}.`);
        }
        if (login.insecure)
          core.info(`The registry ${host} speaks plain HTTP: TLS verification is off for it.`);
      }
      return login;
    };
    const client = async (): Promise<InstanceType<typeof RegistryClient>> =>
      new RegistryClient((await getLogin()).auth, signal);

    let outcome: Outcome;
    try {
      if (inputs.promoteFrom) {
        outcome = await promote(inputs, ecr, repository, host, client, ecrFor);
      } else {
        const reused = inputs.skipIfExists ? await reuse(inputs, ecr, repository, host) : undefined;
        outcome = reused ?? (await build(inputs, ecr, repository, host, getLogin, client, signal));
      }
    } catch (error) {
      const { TagConflictError } = await import('../../../packages/image/src/ecr');
      const { BuildFailure } = await import('../../../packages/image/src/builder');
      const { RegistryError } = await import('../../../packages/image/src/registry');
      if (
        error instanceof TagConflictError ||
        error instanceof BuildFailure ||
        error instanceof RegistryError ||
        error instanceof publish.SourceImageMissingError
      ) {
        throw new ActionFailure(error.message);
      }
      throw error;
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
    core.info(
      `${outcome.action === 'built' ? (outcome.pushed ? 'Built and pushed' : 'Built (push is false)') : outcome.action === 'promoted' ? 'Promoted' : 'Reused'} ${image} as ${outcome.tags.map((t) => t.tag).join(', ')}.`,
    );
  });
}

async function reuse(
  inputs: Inputs,
  ecr: EcrApi,
  repository: RepositoryInfo,
  host: string,
): Promise<Outcome | undefined> {
  const publish = await import('../../../packages/image/src/publish');
  return core.group("Look for this commit's image", async () => {
    const found = await publish.findReusable(ecr, repository, inputs.commitTag as string);
    if (!found) {
      core.info(`${host}/${repository.name}:${inputs.commitTag} does not exist yet: building.`);
      return undefined;
    }
    core.info(
      `${host}/${repository.name}:${inputs.commitTag} is ${found.digest}: reusing it, nothing is built.`,
    );
    core.setOutput('digest', found.digest);
    const tags = await publish.tagImage(ecr, repository, found.image, inputs.tags);
    for (const t of tags)
      core.info(`  ${t.tag}: ${t.status === 'unchanged' ? 'already there' : 'tagged'}`);
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

async function promote(
  inputs: Inputs,
  ecr: EcrApi,
  repository: RepositoryInfo,
  host: string,
  client: () => Promise<import('../../../packages/image/src/registry').RegistryClient>,
  ecrFor: (region: string) => Promise<EcrApi>,
): Promise<Outcome> {
  const publish = await import('../../../packages/image/src/publish');
  return core.group('Promote', async () => {
    const from = inputs.promoteFrom!;
    if (from.registry && from.registry !== host && !parseEcrHost(from.registry)) {
      throw new ConfigurationError(
        `Input \`promote-from\` names the registry \`${from.registry}\`, which is neither this repository's registry (\`${host}\`) nor an ECR registry.`,
      );
    }
    const result = await publish.promote({
      ecr,
      repository,
      host,
      from,
      tags: inputs.tags,
      target: client,
      foreign: async (sourceHost) => {
        const where = parseEcrHost(sourceHost)!;
        const foreignEcr = await ecrFor(where.region);
        const login = await publish.registryLogin(foreignEcr, where.accountId);
        maskLogin(login);
        return { ecr: foreignEcr, login };
      },
    });
    core.setOutput('digest', result.digest);
    core.info(
      `${result.source} is ${result.digest}; ${result.mode === 'retag' ? 'retagged with ECR PutImage (no layers moved)' : result.mode === 'mount' ? `copied by digest: ${result.stats.blobsMounted} blob(s) mounted, ${result.stats.blobsPresent} already present, ${result.stats.bytesUploaded} bytes uploaded` : `copied by digest from another registry: ${result.stats.blobsUploaded} blob(s), ${result.stats.bytesUploaded} bytes`}.`,
    );
    for (const t of result.tags)
      core.info(`  ${t.tag}: ${t.status === 'unchanged' ? 'already there' : 'tagged'}`);
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

async function pickBuilder(choice: Inputs['builder'], env: NodeJS.ProcessEnv): Promise<Builder> {
  const { BuildahBuilder } = await import('../../../packages/image/src/buildah');
  const { BuildxBuilder, dockerEngineAnswers } = await import('../../../packages/image/src/buildx');
  if (choice === 'buildah') return new BuildahBuilder();
  if (choice === 'buildx') return new BuildxBuilder();
  if (await dockerEngineAnswers(env)) {
    core.info('A Docker engine answers: building with docker buildx.');
    return new BuildxBuilder();
  }
  core.info('No Docker engine answers: building with buildah.');
  return new BuildahBuilder();
}

async function build(
  inputs: Inputs,
  ecr: EcrApi,
  repository: RepositoryInfo,
  host: string,
  getLogin: () => Promise<RegistryLogin>,
  client: () => Promise<import('../../../packages/image/src/registry').RegistryClient>,
  signal: AbortSignal,
): Promise<Outcome> {
  const publish = await import('../../../packages/image/src/publish');
  const { pushImage } = await import('../../../packages/image/src/copy');
  const { emptyStats } = await import('../../../packages/image/src/registry');
  const { BuildahBuilder } = await import('../../../packages/image/src/buildah');
  const { CommandNotFoundError } = await import('../../../packages/image/src/exec');

  let cacheRef: string | undefined;
  if (inputs.cache) {
    const cacheName = inputs.cacheRepository as string;
    const cacheRepo = await publish
      .resolveRepository(ecr, { repository: cacheName }, inputs.createRepository)
      .catch((error: unknown) => {
        if (error instanceof publish.RepositoryMissingError) {
          throw new ActionFailure(
            `Input \`cache\` keeps the layer cache in the repository \`${cacheName}\`, which does not exist. Create it, or set \`create-repository: true\`.`,
          );
        }
        throw error;
      });
    cacheRef = `${host}/${cacheRepo.repository.name}`;
  }

  const workDir = privateWorkDir();
  const authDir = join(workDir, 'auth');
  mkdirSync(authDir, { mode: 0o700 });
  const authFile = join(authDir, 'config.json');
  core.saveState(STATE.workDir, workDir);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DOCKER_CONFIG: authDir,
    REGISTRY_AUTH_FILE: authFile,
  };
  const builder = await pickBuilder(inputs.builder, env);
  core.saveState(STATE.builder, builder.name);
  core.saveState(STATE.registry, host);

  let settings: string[] = [];
  try {
    if (builder instanceof BuildahBuilder) {
      settings = (await builder.prepare(env)).notes;
      core.info(`buildah settings for this machine: ${settings.join('; ')}.`);
    }
    const login = await getLogin();
    await core.group('Registry login', async () => {
      await builder.login(host, login.auth.username, login.auth.password, {
        authFile,
        env,
        insecure: login.insecure,
        signal,
      });
      core.info(
        `Logged in to ${host} (password through standard input; config private to this job, removed by the post step).`,
      );
    });

    const started = Date.now();
    const outcome = await core.group(`Build (${builder.name})`, () =>
      builder.build({
        context: inputs.context,
        file: inputs.file,
        target: inputs.target,
        buildArgs: inputs.buildArgs,
        secrets: inputs.secrets,
        labels: inputs.labels,
        platforms: inputs.platforms,
        destination: `${host}/${repository.name}`,
        insecure: login.insecure,
        push: inputs.push,
        cacheRef,
        workDir,
        authFile,
        env,
        signal,
        onLine: (line) => core.info(line),
        onNote: (note) => core.info(note),
      }),
    );
    const buildMs = Date.now() - started;
    core.info(`Built ${outcome.digest} in ${formatDuration(buildMs)}.`);

    const stats = emptyStats();
    let sizeBytes: number | undefined;
    let tags: TagResult[] = [];
    if (inputs.push) {
      await core.group('Push', async () => {
        let manifest: { digest: string; manifest: string; mediaType: string } | undefined;
        if (outcome.layout) {
          const pushed = await pushImage({
            source: outcome.layout,
            digest: outcome.digest,
            target: await client(),
            repository: repository.name,
            stats,
          });
          sizeBytes = pushed.sizeBytes;
          manifest = {
            digest: pushed.digest,
            manifest: pushed.manifest.toString('utf8'),
            mediaType: pushed.mediaType,
          };
          core.info(
            pushed.alreadyPresent
              ? `${repository.name}@${pushed.digest} was already in the registry.`
              : `Pushed ${repository.name}@${pushed.digest}: ${stats.blobsUploaded} blob(s) uploaded (${formatBytes(stats.bytesUploaded, { exact: true })}), ${stats.blobsPresent} already present.`,
          );
        } else {
          manifest = await ecr.getManifest(
            repository.name,
            { digest: outcome.digest },
            repository.registryId,
          );
          if (!manifest)
            throw new ActionFailure(
              `The builder pushed ${outcome.digest}, but the repository does not hold it.`,
            );
        }
        core.setOutput('digest', outcome.digest);
        tags = await publish.tagImage(ecr, repository, manifest, inputs.tags);
        for (const t of tags)
          core.info(`  ${t.tag}: ${t.status === 'unchanged' ? 'already there' : 'tagged'}`);
        if (sizeBytes === undefined) {
          sizeBytes = (
            await ecr.describeImage(
              repository.name,
              { digest: outcome.digest },
              repository.registryId,
            )
          )?.sizeBytes;
        }
      });
    } else {
      if (outcome.layout) {
        const { sizeOfImage } = await import('../../../packages/image/src/copy');
        sizeBytes = await sizeOfImage(outcome.layout, outcome.digest);
      }
      tags = inputs.tags.map((tag) => ({ tag, status: 'tagged' as const }));
      core.info('Input `push` is false: nothing was pushed.');
    }
    return {
      action: 'built',
      digest: outcome.digest,
      registry: host,
      repository: repository.name,
      tags,
      pushed: inputs.push,
      sizeBytes,
      buildMs,
      build: { ...outcome, builder: builder.name, settings },
      cacheRef,
      stats: inputs.push ? stats : undefined,
      repositoryCreated: false,
    };
  } catch (error) {
    if (error instanceof CommandNotFoundError) {
      throw new ActionFailure(
        `${error.message}: builder \`${builder.name}\` needs it (on Debian or Ubuntu: apt-get install buildah; or use a runner with a Docker engine and \`builder: buildx\`).`,
      );
    }
    throw error;
  }
}
