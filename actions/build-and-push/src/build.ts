import * as core from '../../../packages/kit/src/core';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionFailure } from '../../../packages/kit/src/errors';
import { systemClock } from '../../../packages/kit/src/poll';
import { resolveTarget, type RunContext } from './context';
import { say, type Outcome } from './outcome';
import { STATE, WORK_DIR_PREFIX } from './state';

function privateWorkDir(): string {
  const base = process.env.RUNNER_TEMP || tmpdir();
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, WORK_DIR_PREFIX));
  chmodSync(dir, 0o700);
  return dir;
}

/** Builds the image once, pushes it by digest and tags it (see `buildAndPublish`). */
export async function build(ctx: RunContext): Promise<Outcome> {
  const { inputs, ecr, repository, host, getLogin, client, signal } = ctx;
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
