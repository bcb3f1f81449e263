// Resolving what a rollback goes to: `previous`, a revision, a commit or an image, against the
// service's history and the family's revisions.
import { ActionFailure } from '../../kit/src/errors';
import {
  candidateRevisions,
  loadHistory,
  taskDefinitionOfRevisions,
  type RevisionCache,
} from './history';
import { withImageVersion } from './image-ref';
import type { RollbackOptions } from './rollback';
import {
  deployedContainers,
  findByImage,
  findBySha,
  resolvePrevious,
  RollbackTargetError,
  type HistoryEntry,
  type Resolution,
} from './rollback-target';
import type { ServiceDeployment } from '@aws-sdk/client-ecs';
import { fromDescribed, mergeTags, shortTaskDefinition, TAGS, tagValue } from './task-definition';

/**
 * Resolves `opts.to` to a revision of the service that runs `current` (a revision to register: see
 * {@link prepareImageRevision}). `readHistory` gives the service's deployment history (default: the
 * service deployments ECS keeps; a CodeDeploy service gives its deployment group's).
 */
export async function resolveTarget(
  opts: RollbackOptions,
  current: string,
  cache: RevisionCache,
  readHistory: () => Promise<HistoryEntry[]> = () =>
    loadHistory(opts.api, opts.cluster, opts.service),
): Promise<Resolution> {
  const { api, to } = opts;
  const family = shortTaskDefinition(current).replace(/:\d+$/, '');
  switch (to.kind) {
    case 'arn':
    case 'revision': {
      const { td } = await cache.get(to.value);
      if (!td?.taskDefinitionArn) {
        throw new RollbackTargetError(`task definition \`${to.value}\` was not found.`);
      }
      // Another family the service never ran (its deployments that completed, or one started
      // from it: a family renamed) is most likely a sibling service's family mistyped. v1 keeps
      // accepting it (no accepted value starts to fail), so it is said loudly before anything
      // changes.
      if (td.family && td.family !== family) {
        const history = await readHistory();
        const ran = history.some(
          (h) =>
            (h.target === td.taskDefinitionArn && h.status === 'SUCCESSFUL') ||
            h.sources.includes(td.taskDefinitionArn!),
        );
        if (!ran)
          opts.log.warning(
            `Input \`to\`: task definition ${shortTaskDefinition(td.taskDefinitionArn)} is of family \`${td.family}\`, but service \`${opts.service}\` runs family \`${family}\` (${shortTaskDefinition(current)}) and never ran ${shortTaskDefinition(td.taskDefinitionArn)} in the deployments ECS keeps: this rollback puts another application on the service. If that is not meant, cancel and name a revision of \`${family}\`.`,
          );
      }
      return { kind: 'target', target: td.taskDefinitionArn, why: `requested ${to.value}` };
    }
    case 'previous': {
      const history = await readHistory();
      const toDescribe = new Set<string>();
      const latest = history[0];
      for (const s of latest?.sources ?? []) toDescribe.add(s);
      for (const h of history) if (h.status === 'SUCCESSFUL' && h.target) toDescribe.add(h.target);
      for (const arn of [...toDescribe].slice(0, 25)) await cache.get(arn);
      return resolvePrevious(current, history, (arn) => cache.tags(arn));
    }
    case 'sha':
    case 'image': {
      const history = await readHistory();
      const search = (match: Parameters<typeof candidateRevisions>[4]) =>
        candidateRevisions(api, cache, history, family, match);
      if (to.kind === 'sha') {
        const bySha = await search((r) => !!findBySha(to.value, [r]));
        if (bySha.found) {
          return {
            kind: 'target',
            target: bySha.found.arn,
            why: `${shortTaskDefinition(bySha.found.arn)} is tagged with commit ${tagValue(bySha.found.tags, TAGS.gitSha)}`,
          };
        }
      }
      const byImage = await search((r) => !!findByImage(to.value, [r]));
      if (byImage.found) {
        return {
          kind: 'target',
          target: byImage.found.arn,
          why: `${shortTaskDefinition(byImage.found.arn)} runs image ${to.value}`,
        };
      }
      if (to.kind === 'sha') {
        // A commit-like value is never guessed into a new image tag: that would deploy an image nobody named.
        throw new RollbackTargetError(
          `no revision of \`${family}\` is tagged with commit \`${to.value}\` or runs an image tagged \`${to.value}\` (searched ${byImage.searched} revisions).`,
        );
      }
      // An image tag or digest no revision ran: the running revision with that image, checked
      // now and registered when the rollback starts.
      return {
        kind: 'register',
        register: await prepareImageRevision(opts, current, cache, to.value),
        why: `the running revision with image ${to.value}`,
      };
    }
  }
}

/**
 * Prepares the running revision with image version `version` on the containers shipkit deployed,
 * once the image is known to exist in its repository; the function returned registers it.
 */
async function prepareImageRevision(
  opts: RollbackOptions,
  current: string,
  cache: RevisionCache,
  version: string,
): Promise<() => Promise<string>> {
  const info = await cache.info(current);
  const { td, tags } = await cache.get(current);
  if (!info || !td)
    throw new ActionFailure(`Could not read the running task definition ${current}.`);
  const containers = deployedContainers(info);
  const source = fromDescribed(td, tags);
  const def = structuredClone(source.definition);
  const changed: string[] = [];
  for (const c of def.containerDefinitions ?? []) {
    if (!containers.includes(c.name ?? '') || !c.image) continue;
    const image = withImageVersion(c.image, version);
    if (image && image !== c.image) {
      c.image = image;
      changed.push(`${c.name}=${image}`);
    }
  }
  if (!changed.length) {
    throw new RollbackTargetError(
      `no revision runs image \`${version}\` and the running revision's images cannot take it.`,
    );
  }
  for (const change of changed) {
    const image = change.slice(change.indexOf('=') + 1);
    const found = opts.imageExists ? await opts.imageExists(image) : 'unknown';
    if (found === 'missing') {
      throw new RollbackTargetError(
        `no revision of \`${shortTaskDefinition(current).replace(/:\d+$/, '')}\` runs an image tagged \`${version}\`, and \`${image}\` is not in its repository; nothing was registered.`,
      );
    }
    if (found === 'unknown')
      opts.log.warning(
        `Could not check that ${image} exists (not an Amazon ECR image, or not readable); registering it as asked.`,
      );
  }
  const imageTags = (def.containerDefinitions ?? [])
    .filter((c) => containers.includes(c.name ?? ''))
    .map((c) => ({ key: `${TAGS.imagePrefix}${c.name}`, value: (c.image ?? '').slice(0, 256) }));
  def.tags = mergeTags(
    tags.filter((t) => t.key !== TAGS.gitSha),
    imageTags,
  );
  return async () => {
    const out = await opts.api.registerTaskDefinition(def);
    const arn = out.taskDefinition?.taskDefinitionArn;
    if (!arn)
      throw new ActionFailure('ECS RegisterTaskDefinition returned no task definition ARN.');
    opts.log.info(
      `Registered ${shortTaskDefinition(arn)} from the running revision with ${changed.join(', ')}.`,
    );
    return arn;
  };
}

/** True when `opts.to` names the revision an in-progress deployment started from. */
export async function isDeploymentSource(
  opts: RollbackOptions,
  active: ServiceDeployment,
  cache: RevisionCache,
): Promise<boolean> {
  const sourceRevision = active.sourceServiceRevisions?.[0]?.arn;
  if (!sourceRevision || opts.to.kind === 'previous') return false;
  const source = (await taskDefinitionOfRevisions(opts.api, [sourceRevision])).get(sourceRevision);
  return source ? namesRevision(opts, source, cache) : false;
}

/** True when `opts.to` (not `previous`) names the task definition `arn`. */
export async function namesRevision(
  opts: Pick<RollbackOptions, 'to'>,
  arn: string,
  cache: RevisionCache,
): Promise<boolean> {
  if (opts.to.kind === 'previous') return false;
  const info = await cache.info(arn);
  if (!info) return false;
  switch (opts.to.kind) {
    case 'arn':
    case 'revision':
      return (await cache.get(opts.to.value)).td?.taskDefinitionArn === info.arn;
    case 'sha':
      return !!findBySha(opts.to.value, [info]) || !!findByImage(opts.to.value, [info]);
    case 'image':
      return !!findByImage(opts.to.value, [info]);
  }
}
