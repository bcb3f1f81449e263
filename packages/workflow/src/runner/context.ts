// The facts of a local run: git facts of the workspace, the event payload and the names the
// runner derives from labels.
import { execFileSync } from 'node:child_process';
import type { ExprValue } from '../expressions';
import type { Workflow } from '../model';
import type { RunnerOptions } from './types';

/** A file-name-safe form of a label (at most 60 characters). */
export const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60) || 'step';

/** Output of a git command in `cwd`, undefined when it fails. */
export function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

/** The payload of the event that triggers the run (`github.event`). */
export function eventPayload(
  opts: RunnerOptions,
  wf: Workflow,
  g: { sha: string; ref: string; refName: string; repository: string },
): Record<string, ExprValue> {
  const repository = {
    full_name: g.repository,
    name: g.repository.split('/')[1] ?? g.repository,
    default_branch: 'main',
  };
  switch (opts.event) {
    case 'push':
      return { ref: g.ref, after: g.sha, head_commit: { id: g.sha }, repository };
    case 'workflow_dispatch':
      return { ref: g.ref, inputs: { ...(opts.inputs ?? {}) }, repository };
    case 'workflow_run': {
      const spec = wf.on.workflow_run as { workflows?: string[] } | null;
      return {
        action: 'completed',
        repository,
        workflow_run: {
          name: spec?.workflows?.[0] ?? '',
          conclusion: 'success',
          status: 'completed',
          head_sha: g.sha,
          head_branch: g.refName,
          event: 'push',
          ...(opts.workflowRun ?? {}),
        },
      };
    }
    case 'schedule': {
      const cron = (wf.on.schedule as { cron?: string }[] | undefined)?.[0]?.cron ?? '';
      return { schedule: cron, repository };
    }
    default:
      return { repository };
  }
}
