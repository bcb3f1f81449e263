// The service's deployment history as ECS keeps it, and the task definition revisions rollback
// reads (memoised), for resolving a rollback target.
import type { ServiceDeployment, Tag, TaskDefinition } from '@aws-sdk/client-ecs';
import type { EcsApi } from './api';
import type { HistoryEntry, RevisionInfo } from './rollback-target';
import { shortTaskDefinition } from './task-definition';

/** The task definition of each service revision, by revision ARN (DescribeServiceRevisions, 20 at a time). */
export async function taskDefinitionOfRevisions(
  api: EcsApi,
  revisionArns: string[],
): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  const unique = [...new Set(revisionArns.filter(Boolean))];
  for (let i = 0; i < unique.length; i += 20) {
    const out = await api.describeServiceRevisions({
      serviceRevisionArns: unique.slice(i, i + 20),
    });
    for (const r of out.serviceRevisions ?? []) {
      if (r.serviceRevisionArn && r.taskDefinition) map.set(r.serviceRevisionArn, r.taskDefinition);
    }
  }
  return map;
}

/**
 * The service's deployment history as ECS keeps it (ListServiceDeployments keeps deployments
 * longer than `deployments[]`), newest first, with target, source and rollback revisions
 * resolved to task definitions. At most `max` entries.
 */
export async function loadHistory(
  api: EcsApi,
  cluster: string | undefined,
  service: string,
  max = 40,
): Promise<HistoryEntry[]> {
  const briefs: { arn: string; createdAt?: Date }[] = [];
  let nextToken: string | undefined;
  do {
    const out = await api.listServiceDeployments({ cluster, service, nextToken, maxResults: 100 });
    for (const b of out.serviceDeployments ?? []) {
      if (b.serviceDeploymentArn)
        briefs.push({ arn: b.serviceDeploymentArn, createdAt: b.createdAt });
    }
    nextToken = out.nextToken;
  } while (nextToken && briefs.length < max);
  briefs.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
  const wanted = briefs.slice(0, max).map((b) => b.arn);
  const details: ServiceDeployment[] = [];
  for (let i = 0; i < wanted.length; i += 20) {
    const out = await api.describeServiceDeployments({
      serviceDeploymentArns: wanted.slice(i, i + 20),
    });
    details.push(...(out.serviceDeployments ?? []));
  }
  const revisions = await taskDefinitionOfRevisions(
    api,
    details.flatMap((d) => [
      d.targetServiceRevision?.arn ?? '',
      d.rollback?.serviceRevisionArn ?? '',
      ...(d.sourceServiceRevisions ?? []).map((s) => s.arn ?? ''),
    ]),
  );
  const td = (arn?: string): string | undefined => (arn ? revisions.get(arn) : undefined);
  return details
    .map((d) => ({
      serviceDeploymentArn: d.serviceDeploymentArn ?? '',
      status: d.status ?? 'UNKNOWN',
      createdAt: d.createdAt,
      finishedAt: d.finishedAt,
      target: td(d.targetServiceRevision?.arn),
      sources: (d.sourceServiceRevisions ?? [])
        .map((s) => td(s.arn))
        .filter((s): s is string => !!s),
      rolledBackTo:
        td(d.rollback?.serviceRevisionArn) ??
        (d.status === 'ROLLBACK_SUCCESSFUL' ? td(d.sourceServiceRevisions?.[0]?.arn) : undefined),
      strategy: d.deploymentConfiguration?.strategy,
      lifecycleStage: d.lifecycleStage,
    }))
    .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
}

/** Describes task definitions with their tags, memoised. */
export class RevisionCache {
  private readonly cache = new Map<string, { td?: TaskDefinition; tags: Tag[] }>();

  constructor(private readonly api: EcsApi) {}

  /** The task definition `arn` and its tags (no definition when ECS does not know it). */
  async get(arn: string): Promise<{ td?: TaskDefinition; tags: Tag[] }> {
    const hit = this.cache.get(arn);
    if (hit) return hit;
    let value: { td?: TaskDefinition; tags: Tag[] };
    try {
      const out = await this.api.describeTaskDefinition({ taskDefinition: arn, include: ['TAGS'] });
      value = { td: out.taskDefinition, tags: out.tags ?? [] };
    } catch (error) {
      if ((error as { name?: string }).name !== 'ClientException') throw error;
      value = { tags: [] };
    }
    this.cache.set(arn, value);
    if (value.td?.taskDefinitionArn && value.td.taskDefinitionArn !== arn)
      this.cache.set(value.td.taskDefinitionArn, value);
    return value;
  }

  /** The tags of `arn`, when it was read before. */
  tags(arn: string): Tag[] | undefined {
    return this.cache.get(arn)?.tags;
  }

  /** `arn` reduced to what rollback matches on: tags and container images. */
  async info(arn: string): Promise<RevisionInfo | undefined> {
    const { td, tags } = await this.get(arn);
    if (!td?.taskDefinitionArn) return undefined;
    return {
      arn: td.taskDefinitionArn,
      tags,
      images: (td.containerDefinitions ?? []).map((c) => ({
        container: c.name ?? '',
        image: c.image,
      })),
    };
  }
}

/** Revisions to search for a commit or image: the history's first, then the family's newest 50. */
export async function candidateRevisions(
  api: EcsApi,
  cache: RevisionCache,
  history: HistoryEntry[],
  family: string | undefined,
  accept: (r: RevisionInfo) => boolean,
): Promise<{ found?: RevisionInfo; searched: number }> {
  const seen = new Set<string>();
  const fromHistory = history
    .flatMap((h) => [h.target, ...h.sources])
    .filter((a): a is string => !!a);
  for (const arn of fromHistory) {
    if (seen.has(arn)) continue;
    seen.add(arn);
    const info = await cache.info(arn);
    if (info && accept(info)) return { found: info, searched: seen.size };
  }
  if (family) {
    const listed = await api.listTaskDefinitions({
      familyPrefix: family,
      sort: 'DESC',
      maxResults: 50,
    });
    for (const arn of listed.taskDefinitionArns ?? []) {
      if (shortTaskDefinition(arn).replace(/:\d+$/, '') !== family || seen.has(arn)) continue;
      seen.add(arn);
      const info = await cache.info(arn);
      if (info && accept(info)) return { found: info, searched: seen.size };
    }
  }
  return { searched: seen.size };
}
