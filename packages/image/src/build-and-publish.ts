import { formatBytes } from '../../kit/src/bytes';
import { formatDuration } from '../../kit/src/duration';
import type { Clock } from '../../kit/src/poll';
import { BuildahBuilder } from './buildah';
import type { BuildOutcome, BuildRequest, Builder } from './builder';
import { BuildxBuilder, dockerEngineAnswers } from './buildx';
import { pushImage, sizeOfImage } from './copy';
import type { EcrApi, RepositoryInfo, StoredManifest, TagResult } from './ecr';
import { ImageError } from './errors';
import { runCommand, type Run } from './exec';
import { tagImage, type RegistryLogin } from './publish';
import { emptyStats, type RegistryTarget, type TransferStats } from './registry';

/** Which builder to use: one by name, or `auto` (buildx where a Docker engine answers, else buildah). */
export type BuilderChoice = 'auto' | 'buildx' | 'buildah';

/** The builder {@link chooseBuilder} picked, and why when it had to look. */
export interface ChosenBuilder {
  builder: Builder;
  /** Set when the choice was `auto`: what answered and what that decided. */
  reason?: string;
}

/** Picks the builder; for `auto`, asks whether a Docker engine with buildx answers. */
export async function chooseBuilder(
  choice: BuilderChoice,
  env: NodeJS.ProcessEnv,
  run: Run = runCommand,
  signal?: AbortSignal,
): Promise<ChosenBuilder> {
  if (choice === 'buildah') return { builder: new BuildahBuilder(run) };
  if (choice === 'buildx') return { builder: new BuildxBuilder(run) };
  if (await dockerEngineAnswers(env, run, signal)) {
    return {
      builder: new BuildxBuilder(run),
      reason: 'A Docker engine answers: building with docker buildx.',
    };
  }
  return {
    builder: new BuildahBuilder(run),
    reason: 'No Docker engine answers: building with buildah.',
  };
}

/** What is built: the Dockerfile side of a {@link BuildRequest}. */
export type BuildSpec = Pick<
  BuildRequest,
  'context' | 'file' | 'target' | 'buildArgs' | 'secrets' | 'labels' | 'platforms'
>;

/** Where {@link buildAndPublish} reports progress; the action turns it into log lines and groups. */
export interface PublishProgress {
  /** A sentence about what happened (settings picked, login, build, push, tags). */
  info(text: string): void;
  /** One line of the builder's own output, as it comes (text from outside: print it safely). */
  output(line: string): void;
  /** Runs one phase (`Registry login`, `Build (buildah)`, `Push`) as a unit of the log. */
  phase<T>(title: string, work: () => Promise<T>): Promise<T>;
}

/** Everything one build-and-publish needs, clients and clock included. */
export interface BuildAndPublishOptions {
  ecr: EcrApi;
  /** The target repository (it exists). */
  repository: RepositoryInfo;
  /** `host[:port]` of the target registry. */
  host: string;
  builder: Builder;
  /** The registry login; the builder logs in with it. */
  login: RegistryLogin;
  /** The target registry, for pushing an image the builder left in a local layout. */
  registry: RegistryTarget;
  spec: BuildSpec;
  /** Tags to put on the image with ECR's API once it is pushed by digest. */
  tags: string[];
  /** False: build only; nothing is pushed or tagged. */
  push: boolean;
  /** `host/name` of the repository that keeps the layer cache, when the cache is on. */
  cacheRef?: string;
  /** A directory private to this run (secrets, the layout); the caller removes it. */
  workDir: string;
  /** The builder's registry login file, inside `workDir`. */
  authFile: string;
  /** Environment of the builder commands (private `DOCKER_CONFIG`, `REGISTRY_AUTH_FILE`). */
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  clock: Pick<Clock, 'now'>;
  progress: PublishProgress;
}

/** What {@link buildAndPublish} did. */
export interface PublishResult {
  digest: string;
  /** The tags, as written (or, when not pushed, as they would have been). */
  tags: TagResult[];
  pushed: boolean;
  /** Compressed layer size, as ECR counts it, when known. */
  sizeBytes?: number;
  buildMs: number;
  build: BuildOutcome;
  /** The builder's notes on the settings it picked for this machine. */
  settings: string[];
  /** What crossed the wire when this package pushed the image itself. */
  stats?: TransferStats;
  /** True when the registry already held the image (nothing was sent). */
  alreadyPresent: boolean;
}

/** One log line per tag: `  <tag>: tagged` or `  <tag>: already there`. */
export function tagLines(tags: TagResult[]): string[] {
  return tags.map((t) => `  ${t.tag}: ${t.status === 'unchanged' ? 'already there' : 'tagged'}`);
}

/** What {@link prepareAndLogin} needs: the builder, the registry login and where to report. */
export type LoginOptions = Pick<
  BuildAndPublishOptions,
  'builder' | 'host' | 'login' | 'authFile' | 'env' | 'signal' | 'progress'
>;

/**
 * Finds the builder's settings for this machine and logs it in to the registry, once for any
 * number of builds; returns the builder's notes on its settings.
 */
export async function prepareAndLogin(opts: LoginOptions): Promise<string[]> {
  const { builder, host, login, progress } = opts;
  let settings: string[] = [];
  if (builder.prepare) {
    settings = (await builder.prepare(opts.env, opts.signal)).notes;
    progress.info(`${builder.name} settings for this machine: ${settings.join('; ')}.`);
  }
  await progress.phase('Registry login', async () => {
    await builder.login(host, login.auth.username, login.auth.password, {
      authFile: opts.authFile,
      env: opts.env,
      insecure: login.insecure,
      signal: opts.signal,
    });
    progress.info(
      `Logged in to ${host} (password through standard input; config private to this job, removed by the post step).`,
    );
  });
  return settings;
}

/**
 * Builds the image once, pushes it by digest (uploading only the blobs the repository lacks) and
 * then tags it with ECR's API, so an immutable tag conflict is found before anything is
 * half-tagged. With `push: false` it only builds. The digest reported is the one the registry
 * holds; the tags all name it.
 */
export async function buildAndPublish(opts: BuildAndPublishOptions): Promise<PublishResult> {
  return buildAndPush(opts, await prepareAndLogin(opts));
}

/**
 * {@link buildAndPublish} for a builder already logged in by {@link prepareAndLogin} (`settings`
 * are its notes). With `name`, the log's phases name the image (`Build api (buildah)`), for runs
 * that build several.
 */
export async function buildAndPush(
  opts: BuildAndPublishOptions,
  settings: string[],
  name?: string,
): Promise<PublishResult> {
  const { ecr, repository, host, builder, login, progress } = opts;
  const which = name ? ` ${name}` : '';
  const started = opts.clock.now();
  const build = await progress.phase(`Build${which} (${builder.name})`, () =>
    builder.build({
      ...opts.spec,
      destination: `${host}/${repository.name}`,
      insecure: login.insecure,
      push: opts.push,
      cacheRef: opts.cacheRef,
      workDir: opts.workDir,
      authFile: opts.authFile,
      env: opts.env,
      signal: opts.signal,
      onLine: (line) => progress.output(line),
      onNote: (note) => progress.info(note),
    }),
  );
  const buildMs = opts.clock.now() - started;
  progress.info(`Built ${build.digest} in ${formatDuration(buildMs)}.`);
  const result: PublishResult = {
    digest: build.digest,
    tags: [],
    pushed: opts.push,
    buildMs,
    build,
    settings,
    alreadyPresent: false,
  };

  if (!opts.push) {
    if (build.layout) result.sizeBytes = await sizeOfImage(build.layout, build.digest);
    result.tags = opts.tags.map((tag) => ({ tag, status: 'tagged' as const }));
    return result;
  }

  await progress.phase(`Push${which}`, async () => {
    let manifest: StoredManifest | undefined;
    if (build.layout) {
      const stats = emptyStats();
      const pushed = await pushImage({
        source: build.layout,
        digest: build.digest,
        target: opts.registry,
        repository: repository.name,
        stats,
      });
      result.stats = stats;
      result.sizeBytes = pushed.sizeBytes;
      result.alreadyPresent = pushed.alreadyPresent;
      manifest = {
        digest: pushed.digest,
        manifest: pushed.manifest.toString('utf8'),
        mediaType: pushed.mediaType,
      };
      progress.info(
        pushed.alreadyPresent
          ? `${repository.name}@${pushed.digest} was already in the registry.`
          : `Pushed ${repository.name}@${pushed.digest}: ${stats.blobsUploaded} blob(s) uploaded (${formatBytes(stats.bytesUploaded, { exact: true })}), ${stats.blobsPresent} already present.`,
      );
    } else {
      manifest = await ecr.getManifest(
        repository.name,
        { digest: build.digest },
        repository.registryId,
      );
      if (!manifest) {
        throw new ImageError(
          `The builder pushed ${build.digest}, but the repository ${repository.name} does not hold it.`,
        );
      }
    }
    result.tags = await tagImage(ecr, repository, manifest, opts.tags);
    for (const line of tagLines(result.tags)) progress.info(line);
    result.sizeBytes ??= (
      await ecr.describeImage(repository.name, { digest: build.digest }, repository.registryId)
    )?.sizeBytes;
  });
  return result;
}
