import * as core from '../../../packages/kit/src/core';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionFailure, ConfigurationError } from '../../../packages/kit/src/errors';
import { awsClientConfig, resolveRegion, withErrorContext } from '../../../packages/kit/src/aws';
import { formatBytes } from '../../../packages/kit/src/bytes';
import { formatDuration } from '../../../packages/kit/src/duration';
import { logSafe, markdownSafe } from '../../../packages/kit/src/log-text';
import { systemClock } from '../../../packages/kit/src/poll';
import { runAction } from '../../../packages/kit/src/run';
import { SummaryBuilder } from '../../../packages/kit/src/summary';
import { parseEcrHost, formatRef } from '../../../packages/image/src/reference';
import type { EcrApi, RepositoryInfo, TagResult } from '../../../packages/image/src/ecr';
import type { RegistryLogin } from '../../../packages/image/src/publish';
import type { BuildOutcome } from '../../../packages/image/src/builder';
import type { RegistryClient, TransferStats } from '../../../packages/image/src/registry';
import { getInputs, type Inputs } from './inputs';
import { STATE, WORK_DIR_PREFIX } from './state';

/** What the action can be given instead of the real world (tests). */
export interface Deps {
  /** ECR for a region; its calls stop when `signal` aborts (the run is cancelled). */
  ecr?: (region: string, signal: AbortSignal) => Promise<EcrApi>;
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

/** Logs a sentence that carries text from outside (AWS, the registry, a builder) as one safe line. */
function say(text: string): void {
  core.info(logSafe(text));
}

/** Text from outside as inline code in the summary, or escaped prose when it cannot be code. */
function code(text: string): string {
  return /^[^`|\\<>\r\n\u2028\u2029]*$/.test(text) ? `\`${text}\`` : markdownSafe(text);
}

function tagLine(t: TagResult): string {
  return `  ${t.tag}: ${t.status === 'unchanged' ? 'already there' : 'tagged'}`;
}

async function defaultEcr(region: string, signal: AbortSignal): Promise<EcrApi> {
  const { ECRClient } = await import('@aws-sdk/client-ecr');
  const { sdkEcr } = await import('../../../packages/image/src/ecr');
  return sdkEcr(withErrorContext(new ECRClient(awsClientConfig(region)), 'ECR'), signal);
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

const PROMOTION_MODES: Record<string, string> = {
  retag: 'retagged with ECR PutImage',
  mount: 'copied by digest, blobs mounted',
  copy: 'copied by digest across registries',
};

async function writeSummary(o: Outcome, inputs: Inputs): Promise<void> {
  const s = new SummaryBuilder('Build and push');
  const verb =
    o.action === 'built' ? (o.pushed ? 'built and pushed' : 'built (not pushed)') : o.action;
  s.verdict('success', `${verb} ${code(`${o.repository}@${o.digest.slice(0, 19)}…`)}`);
  const cache = !inputs.cache
    ? 'off'
    : o.build
      ? `${o.build.cacheHits ? 'used' : 'not used'}: ${o.build.cacheHits} of ${o.build.steps} steps from the cache (${markdownSafe(o.cacheRef)})`
      : 'not needed';
  s.facts([
    ['Image', code(`${o.registry}/${o.repository}@${o.digest}`)],
    ['Action', o.action],
    [
      'Source',
      o.promotion
        ? `${code(o.promotion.source)} (${PROMOTION_MODES[o.promotion.mode] ?? o.promotion.mode})`
        : undefined,
    ],
    ['Image size', o.sizeBytes !== undefined ? formatBytes(o.sizeBytes) : undefined],
    ['Build time', o.buildMs !== undefined ? formatDuration(o.buildMs) : undefined],
    [
      'Builder',
      o.build
        ? `${o.build.builder}${o.build.settings.length ? ` (${markdownSafe(o.build.settings.join(', '))})` : ''}`
        : undefined,
    ],
    ['Cache', o.action === 'built' ? cache : undefined],
    [
      'Blobs uploaded',
      o.stats
        ? `${o.stats.blobsUploaded} (${formatBytes(o.stats.bytesUploaded)}), ${o.stats.blobsMounted} mounted, ${o.stats.blobsPresent} already present`
        : undefined,
    ],
    ['Repository', o.repositoryCreated ? `${code(o.repository)} (created by this run)` : undefined],
  ]);
  if (o.tags.length) {
    s.table(
      ['Tag', 'Digest', ''],
      o.tags.map((t) => [
        code(`${o.registry}/${o.repository}:${t.tag}`),
        code(o.digest),
        t.status === 'unchanged' ? 'already there' : 'tagged',
      ]),
    );
  }
  await s.write();
}

/** The repository, created when `create-repository` allows; a missing one names the input. */
async function resolveTarget(
  ecr: EcrApi,
  ref: Inputs['repository'],
  create: boolean,
  missing: (name: string) => string,
): Promise<{ repository: RepositoryInfo; created: boolean }> {
  const publish = await import('../../../packages/image/src/publish');
  try {
    return await publish.resolveRepository(ecr, ref, create);
  } catch (error) {
    if (error instanceof publish.RepositoryMissingError) {
      throw new ActionFailure(missing(error.repository));
    }
    throw error;
  }
}

/** Builds once and pushes to ECR with traceable tags, or promotes an existing image by digest. */
export async function run(deps: Deps = {}): Promise<void> {
  await runAction(async ({ signal }) => {
    const inputs = getInputs();
    const ecrHost = inputs.repository.registry
      ? parseEcrHost(inputs.repository.registry)
      : undefined;
    const region = ecrHost?.region ?? resolveRegion(undefined);
    const ecrFor = (r: string): Promise<EcrApi> => (deps.ecr ?? defaultEcr)(r, signal);
    const ecr = await ecrFor(region);
    const publish = await import('../../../packages/image/src/publish');
    const { RegistryClient } = await import('../../../packages/image/src/registry');

    const { repository, created } = await core.group('Repository', async () => {
      const r = await resolveTarget(
        ecr,
        inputs.repository,
        inputs.createRepository,
        (name) =>
          `Repository \`${name}\` does not exist. Create it (or set \`create-repository: true\` to let the action create it).`,
      );
      say(
        `${r.created ? 'Created' : 'Using'} repository ${r.repository.uri} (tags ${r.repository.tagMutability.toLowerCase()}).`,
      );
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

    let outcome: Outcome;
    if (inputs.promoteFrom) {
      outcome = await promote(inputs, ecr, repository, host, client, ecrFor, signal);
    } else {
      const reused = inputs.skipIfExists ? await reuse(inputs, ecr, repository, host) : undefined;
      outcome = reused ?? (await build(inputs, ecr, repository, host, getLogin, client, signal));
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
    say(
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

async function promote(
  inputs: Inputs,
  ecr: EcrApi,
  repository: RepositoryInfo,
  host: string,
  client: () => Promise<RegistryClient>,
  ecrFor: (region: string) => Promise<EcrApi>,
  signal: AbortSignal,
): Promise<Outcome> {
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

async function build(
  inputs: Inputs,
  ecr: EcrApi,
  repository: RepositoryInfo,
  host: string,
  getLogin: () => Promise<RegistryLogin>,
  client: () => Promise<RegistryClient>,
  signal: AbortSignal,
): Promise<Outcome> {
  const { buildAndPublish, chooseBuilder } =
    await import('../../../packages/image/src/build-and-publish');
  const { CommandNotFoundError } = await import('../../../packages/image/src/exec');

  let cacheRef: string | undefined;
  if (inputs.cacheRepository) {
    const cacheRepo = await resolveTarget(
      ecr,
      { repository: inputs.cacheRepository },
      inputs.createRepository,
      (name) =>
        `Input \`cache\` keeps the layer cache in the repository \`${name}\`, which does not exist. Create it, or set \`create-repository: true\`.`,
    );
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
  const { builder, reason } = await chooseBuilder(inputs.builder, env, undefined, signal);
  if (reason) core.info(reason);
  core.saveState(STATE.builder, builder.name);
  core.saveState(STATE.registry, host);

  try {
    const login = await getLogin();
    const result = await buildAndPublish({
      ecr,
      repository,
      host,
      builder,
      login,
      registry: await client(),
      spec: {
        context: inputs.context,
        file: inputs.file,
        target: inputs.target,
        buildArgs: inputs.buildArgs,
        secrets: inputs.secrets,
        labels: inputs.labels,
        platforms: inputs.platforms,
      },
      tags: inputs.tags,
      push: inputs.push,
      cacheRef,
      workDir,
      authFile,
      env,
      signal,
      clock: systemClock,
      progress: {
        info: say,
        output: say,
        phase: (title, work) => core.group(title, work),
      },
    });
    if (inputs.push) core.setOutput('digest', result.digest);
    else core.info('Input `push` is false: nothing was pushed.');
    return {
      action: 'built',
      digest: result.digest,
      registry: host,
      repository: repository.name,
      tags: result.tags,
      pushed: result.pushed,
      sizeBytes: result.sizeBytes,
      buildMs: result.buildMs,
      build: { ...result.build, builder: builder.name, settings: result.settings },
      cacheRef,
      stats: result.stats,
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
