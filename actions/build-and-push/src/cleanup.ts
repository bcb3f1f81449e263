import * as core from '../../../packages/kit/src/core';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { logSafe } from '../../../packages/kit/src/log-text';
import { runAction } from '../../../packages/kit/src/run';
import { STATE, WORK_DIR_PREFIX } from './state';

/**
 * The post step: logs out of the registry and removes the job-private Docker config and work
 * directory the main step created. Never fails the job: a problem is a warning.
 */
export async function run(): Promise<void> {
  await runAction(async () => {
    const workDir = core.getState(STATE.workDir);
    if (!workDir) {
      core.info('No registry login to remove (the main step did not log in).');
      return;
    }
    if (!basename(workDir).startsWith(WORK_DIR_PREFIX)) {
      core.warning(logSafe(`Not removing ${workDir}: it is not a directory this action created.`));
      return;
    }
    const registry = core.getState(STATE.registry);
    const builder = core.getState(STATE.builder);
    const authDir = join(workDir, 'auth');
    const authFile = join(authDir, 'config.json');
    if (registry && existsSync(authFile)) {
      const { runCommand } = await import('../../../packages/image/src/exec');
      const env = { ...process.env, DOCKER_CONFIG: authDir, REGISTRY_AUTH_FILE: authFile };
      const [command, args] =
        builder === 'buildx'
          ? ['docker', ['logout', registry]]
          : ['buildah', ['logout', '--authfile', authFile, registry]];
      try {
        const result = await runCommand(command, args, { env, timeoutMs: 30_000 });
        if (result.code !== 0) core.debug(logSafe(`${command} logout: ${result.lines.join(' ')}`));
      } catch (error) {
        core.debug(logSafe(`${command} logout: ${String(error)}`));
      }
    }
    try {
      await rm(workDir, { recursive: true, force: true });
      core.info(
        logSafe(
          `Removed the registry login${registry ? ` for ${registry}` : ''} and the job's private Docker config.`,
        ),
      );
    } catch (error) {
      core.warning(logSafe(`Could not remove ${workDir}: ${String(error)}`));
    }
  });
}
