// A CodeDeploy deployment group's history, read for a rollback: which deployments ran, which
// task definition each one deployed (from its AppSpec), and how each ended, in the shape the
// ECS history has, so the same rules pick `previous`.
import type { DeploymentInfo } from '@aws-sdk/client-codedeploy';
import { parse } from 'yaml';
import type { HistoryEntry } from '../rollback-target';
import type { CodeDeployRollbackApi } from './api';

/**
 * The statuses of a deployment still under way (ListDeployments `includeOnlyStatuses`); `Baking`
 * (in CodeDeploy's status list, not produced by every compute platform) counts as under way.
 */
export const IN_FLIGHT_STATUSES = ['Created', 'Queued', 'InProgress', 'Ready', 'Baking'] as const;

/** What {@link loadCodeDeployHistory} read. */
export interface CodeDeployHistory {
  /** Newest first, in the ECS history's terms (`SUCCESSFUL`, `ROLLBACK_SUCCESSFUL`, …). */
  entries: HistoryEntry[];
  /** The AppSpec of the newest deployment shipkit or a user created, parsed, with its id. */
  latestAppSpec?: { deploymentId: string; json: unknown };
  /** Deployments whose AppSpec could not be read (their task definition is unknown). */
  unreadable: string[];
}

/** The task definition an ECS AppSpec (YAML or JSON) deploys; undefined when it names none. */
export function taskDefinitionOfAppSpec(content: string | undefined): string | undefined {
  const json = parseAppSpec(content);
  const resources = (json as { Resources?: unknown } | undefined)?.Resources;
  if (!Array.isArray(resources)) return undefined;
  for (const r of resources) {
    const td = (r as { TargetService?: { Properties?: { TaskDefinition?: unknown } } })
      ?.TargetService?.Properties?.TaskDefinition;
    if (typeof td === 'string' && td) return td;
  }
  return undefined;
}

function parseAppSpec(content: string | undefined): unknown {
  if (!content) return undefined;
  try {
    return parse(content) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The AppSpec content of a deployment: from the deployment's `revision` when CodeDeploy returns
 * it, else from GetApplicationRevision of that revision (its sha256). Undefined when neither says.
 */
export async function appSpecContentOf(
  api: CodeDeployRollbackApi,
  d: DeploymentInfo,
): Promise<string | undefined> {
  const inline = d.revision?.appSpecContent?.content;
  if (inline) return inline;
  if (!d.revision || !d.applicationName) return undefined;
  try {
    const out = await api.getApplicationRevision({
      applicationName: d.applicationName,
      revision: d.revision,
    });
    return out.revision?.appSpecContent?.content ?? undefined;
  } catch {
    return undefined;
  }
}

/** Ids of the group's deployments (ListDeployments, paged), at most `max`. */
export async function listGroupDeployments(
  api: CodeDeployRollbackApi,
  application: string,
  deploymentGroup: string,
  opts: { statuses?: readonly string[]; max?: number } = {},
): Promise<string[]> {
  const max = opts.max ?? 50;
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await api.listDeployments({
      applicationName: application,
      deploymentGroupName: deploymentGroup,
      ...(opts.statuses ? { includeOnlyStatuses: [...opts.statuses] as never } : {}),
      nextToken,
    });
    ids.push(...(out.deployments ?? []));
    nextToken = out.nextToken;
  } while (nextToken && ids.length < max);
  return ids.slice(0, max);
}

/** The deployments `ids` (BatchGetDeployments, 25 at a time), newest first. */
export async function getDeployments(
  api: CodeDeployRollbackApi,
  ids: string[],
): Promise<DeploymentInfo[]> {
  const out: DeploymentInfo[] = [];
  for (let i = 0; i < ids.length; i += 25) {
    const batch = await api.batchGetDeployments({ deploymentIds: ids.slice(i, i + 25) });
    out.push(...(batch.deploymentsInfo ?? []));
  }
  return out.sort((a, b) => (b.createTime?.getTime() ?? 0) - (a.createTime?.getTime() ?? 0));
}

function isRollbackDeployment(d: DeploymentInfo): boolean {
  return d.creator === 'codeDeployRollback' || !!d.rollbackInfo?.rollbackTriggeringDeploymentId;
}

/**
 * The status of a deployment in the ECS history's words. A failed or stopped deployment that
 * CodeDeploy rolled back reads as ECS's rolled-back deployment (`ROLLBACK_SUCCESSFUL` once the
 * rollback deployment succeeded); a deployment under way is `IN_PROGRESS`.
 */
export function historyStatus(d: DeploymentInfo, rollback: DeploymentInfo | undefined): string {
  const failed = d.status === 'Failed' || d.status === 'Stopped';
  if (failed && d.rollbackInfo?.rollbackDeploymentId) {
    switch (rollback?.status) {
      case 'Failed':
      case 'Stopped':
        return 'ROLLBACK_FAILED';
      case 'Succeeded':
      case undefined:
        // A rollback deployment older than the history read is taken to have succeeded.
        return 'ROLLBACK_SUCCESSFUL';
      default:
        return 'ROLLBACK_IN_PROGRESS';
    }
  }
  switch (d.status) {
    case 'Succeeded':
      return 'SUCCESSFUL';
    case 'Failed':
      return 'FAILED';
    case 'Stopped':
      return 'STOPPED';
    case 'Created':
    case 'Queued':
      return 'PENDING';
    default:
      return 'IN_PROGRESS';
  }
}

/**
 * Reads the group's history (ListDeployments, BatchGetDeployments, and each deployment's AppSpec)
 * as rollback's {@link HistoryEntry} list: the deployment id stands for ECS's service deployment
 * ARN; a deployment's source is the revision production ran before it (the one the deployment
 * before it left in place); CodeDeploy's own rollback deployments are folded into the deployment
 * they rolled back.
 */
export async function loadCodeDeployHistory(
  api: CodeDeployRollbackApi,
  application: string,
  deploymentGroup: string,
  max = 50,
): Promise<CodeDeployHistory> {
  const ids = await listGroupDeployments(api, application, deploymentGroup, { max });
  const infos = await getDeployments(api, ids);
  const byId = new Map(infos.map((d) => [d.deploymentId ?? '', d]));
  const tdOf = new Map<string, string | undefined>();
  const unreadable: string[] = [];
  let latestAppSpec: CodeDeployHistory['latestAppSpec'];
  for (const d of infos) {
    const id = d.deploymentId ?? '';
    const content = await appSpecContentOf(api, d);
    const td = taskDefinitionOfAppSpec(content);
    if (!td) unreadable.push(id);
    tdOf.set(id, td);
    if (!latestAppSpec && content && !isRollbackDeployment(d)) {
      const json = parseAppSpec(content);
      if (json && typeof json === 'object') latestAppSpec = { deploymentId: id, json };
    }
  }
  const oldestFirst = infos.filter((d) => !isRollbackDeployment(d)).reverse();
  const entries: HistoryEntry[] = [];
  let running: string | undefined;
  for (const d of oldestFirst) {
    const id = d.deploymentId ?? '';
    const rollbackId = d.rollbackInfo?.rollbackDeploymentId;
    const status = historyStatus(d, rollbackId ? byId.get(rollbackId) : undefined);
    const target = tdOf.get(id);
    const entry: HistoryEntry = {
      serviceDeploymentArn: id,
      status,
      createdAt: d.createTime,
      finishedAt: d.completeTime,
      target,
      sources: running ? [running] : [],
      strategy: 'CODE_DEPLOY',
    };
    if (status.startsWith('ROLLBACK_'))
      entry.rolledBackTo = running ?? (rollbackId ? tdOf.get(rollbackId) : undefined);
    if (status === 'SUCCESSFUL' && target) running = target;
    entries.push(entry);
  }
  return { entries: entries.reverse(), latestAppSpec, unreadable };
}
