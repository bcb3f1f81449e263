// A step that uses one of shipkit's actions: its committed bundle runs with the inputs of its
// action.yml (defaults evaluated), and its post step is registered for the end of the job.
import { appendFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { conditionSource } from '../../expressions';
import { loadActionMeta } from '../../model';
import { inputEnvironment } from '../environment';
import { runNode } from '../process';
import type { StepKindRun, StepOutcome } from '../step';

/** Runs shipkit action `action` (`uses` as written in the workflow). */
export async function runShipkitAction(
  run: StepKindRun,
  action: string,
  uses: string,
): Promise<StepOutcome> {
  const { state, s, stepEnv, withValues } = run;
  const metaPath = join(state.root, 'actions', action, 'action.yml');
  if (!existsSync(metaPath))
    return run.fail(
      `shipkit action \`${action}\` does not exist (no actions/${action}/action.yml)`,
    );
  const meta = loadActionMeta(metaPath);
  const actionDir = dirname(metaPath);
  const main = meta.runs?.main ? resolve(actionDir, meta.runs.main) : '';
  if (!main || !existsSync(main))
    return run.fail(
      `the bundle of \`${action}\` is not built (${meta.runs?.main ?? 'no runs.main'}): run npm run build`,
    );
  const inputs: Record<string, string> = {};
  try {
    for (const [name, spec] of Object.entries(meta.inputs ?? {})) {
      const givenKey = Object.keys(withValues).find((k) => k.toLowerCase() === name.toLowerCase());
      inputs[name] =
        givenKey !== undefined
          ? withValues[givenKey]
          : spec?.default !== undefined
            ? run.evaluate(spec.default)
            : '';
    }
  } catch (error) {
    return run.fail((error as Error).message);
  }
  for (const k of Object.keys(withValues))
    if (!Object.keys(meta.inputs ?? {}).some((n) => n.toLowerCase() === k.toLowerCase()))
      appendFileSync(
        s.logPath,
        `warning: unexpected input \`${k}\` (not in ${action}'s action.yml)\n`,
      );
  const env = {
    ...stepEnv,
    ...inputEnvironment(inputs),
    GITHUB_ACTION: s.id,
    GITHUB_ACTION_PATH: actionDir,
  };
  const r = await runNode(state, {
    file: main,
    env,
    logPath: s.logPath,
    key: s.key,
    label: s.label,
    summaryPath: s.summaryPath,
    extraPath: s.extraPath,
    timeoutMinutes: Number(s.step['timeout-minutes'] ?? 0),
  });
  if (meta.runs?.post) {
    s.posts.push({
      id: s.id,
      action: uses,
      file: resolve(actionDir, meta.runs.post),
      condition: conditionSource(meta.runs['post-if'] ?? 'always()') || 'always()',
      state: r.state,
      env,
      label: s.label,
    });
  }
  return run.done({ ...r, envChanges: r.envChanges });
}
