import * as core from '../../../packages/kit/src/core';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionFailure } from '../../../packages/kit/src/errors';
import { systemClock } from '../../../packages/kit/src/poll';
import type { Builder } from '../../../packages/image/src/builder';
import { resolveTarget, type RunContext } from './context';
import type { Inputs } from './inputs';
import { say, type Outcome } from './outcome';
import { STATE, WORK_DIR_PREFIX } from './state';

function privateWorkDir(): string {
  const base = process.env.RUNNER_TEMP || tmpdir();
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, WORK_DIR_PREFIX));
  chmodSync(dir, 0o700);
  return dir;
}

/** What every build of a run shares: the builder, its private login and work directory. */
export interface BuildSetup {
  builder: Builder;
  workDir: string;
  authFile: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Creates the job-private work directory and login file (the post step removes them) and
 * chooses the builder, once per run.
 */
export async function setUpBuild(
  host: string,
  inputs: Inputs,
  signal: AbortSignal,
): Promise<BuildSetup> {
  const { chooseBuilder } = await import('../../../packages/image/src/build-and-publish');
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
  return { builder, workDir, authFile, env };
}

/** How buildah and BuildKit say that the Dockerfile has no stage named as `target`. */
const TARGET_NOT_FOUND = /target (stage )?"[^"]*" (was not found|could not be found)/i;

/**
 * A missing builder program, said with what installs it; a `target` the Dockerfile has no stage
 * of, said with the input's name; other errors as they are.
 */
export async function explainMissing(
  error: unknown,
  builder: Builder,
  target?: string,
): Promise<unknown> {
  const { CommandNotFoundError } = await import('../../../packages/image/src/exec');
  if (error instanceof CommandNotFoundError) {
    return new ActionFailure(
      `${error.message}: builder \`${builder.name}\` needs it (on Debian or Ubuntu: apt-get install buildah; or use a runner with a Docker engine and \`builder: buildx\`).`,
    );
  }
  if (target && error instanceof Error && TARGET_NOT_FOUND.test(error.message)) {
    return new ActionFailure(
      `${error.message.replace(/\.$/, '')}. Input \`target\` must name a stage of the Dockerfile (\`FROM … AS <name>\`); got \`${target}\`.`,
    );
  }
  return error;
}

/**
 * The layer cache repository of `repository` (`<name>-cache`), created when allowed. With
 * `push: false` a missing one is not created and the build runs without the registry cache
 * (undefined).
 */
export async function cacheRefOf(
  ctx: Pick<RunContext, 'ecr' | 'inputs'>,
  host: string,
  cacheRepository: string,
): Promise<string | undefined> {
  const cacheRepo = await resolveTarget(
    ctx.ecr,
    { repository: cacheRepository },
    ctx.inputs,
    (name) =>
      `Input \`cache\` keeps the layer cache in the repository \`${name}\`, which does not exist. Create it, or set \`create-repository: true\`.`,
  );
  if (cacheRepo.planned) {
    say(
      `The layer cache repository ${cacheRepo.repository.uri} does not exist and \`push\` is false, so it is not created: building without the registry cache.`,
    );
    return undefined;
  }
  return `${host}/${cacheRepo.repository.name}`;
}

/**
 * Builds the image once, pushes it by digest and tags it (see `buildAndPublish`); with a content
 * tag in `ctx`, the image gets it too.
 */
export async function build(ctx: RunContext): Promise<Outcome> {
  const { inputs, repository, host, getLogin, client, signal } = ctx;
  const { buildAndPublish } = await import('../../../packages/image/src/build-and-publish');
  const cacheRef = inputs.cacheRepository
    ? await cacheRefOf(ctx, host, inputs.cacheRepository)
    : undefined;
  const { builder, workDir, authFile, env } = await setUpBuild(host, inputs, signal);

  try {
    const login = await getLogin();
    const result = await buildAndPublish({
      ecr: ctx.ecr,
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
      tags: ctx.contentTag ? [...inputs.tags, ctx.contentTag] : inputs.tags,
      push: inputs.push,
      cacheRef,
      workDir,
      authFile,
      env,
      signal,
      clock: systemClock,
      progress: buildProgress,
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
      contentTag: ctx.contentTag,
      repositoryCreated: false,
    };
  } catch (error) {
    throw await explainMissing(error, builder, inputs.target);
  }
}

/** Where the image package's progress goes: log lines and groups. */
export const buildProgress = {
  info: say,
  output: say,
  phase: <T>(title: string, work: () => Promise<T>): Promise<T> => core.group(title, work),
};
