import type { Tag } from '@aws-sdk/client-ecs';
import { ConfigurationError } from '../../kit/src/errors';
import { imageHasVersion } from './image-ref';
import { shortTaskDefinition, TAGS, tagValue } from './task-definition';

/** One service deployment, reduced to what rollback needs. */
export interface HistoryEntry {
  serviceDeploymentArn: string;
  status: string;
  createdAt?: Date;
  finishedAt?: Date;
  /** Task definition the deployment rolled out. */
  target?: string;
  /** Task definitions the service ran when it started. */
  sources: string[];
  /** Task definition ECS went back to when the deployment was rolled back. */
  rolledBackTo?: string;
  /** Strategy of the deployment (`ROLLING`, `BLUE_GREEN`, …), when known. */
  strategy?: string;
  lifecycleStage?: string;
}

/** How `to` is to be read. */
export type TargetSpec =
  | { kind: 'previous' }
  | { kind: 'arn'; value: string }
  | { kind: 'revision'; value: string }
  | { kind: 'sha'; value: string }
  | { kind: 'image'; value: string };

/** Classifies the `to` input. Returns undefined when it fits no form. */
export function parseTargetSpec(text: string): TargetSpec | undefined {
  const to = text.trim();
  if (!to || to === 'previous') return { kind: 'previous' };
  if (/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}:\d+$/.test(to))
    return { kind: 'arn', value: to };
  if (/^[A-Za-z0-9_-]{1,255}:\d+$/.test(to)) return { kind: 'revision', value: to };
  if (/^sha256:[a-f0-9]{64}$/.test(to)) return { kind: 'image', value: to };
  if (/^[0-9a-f]{7,40}$/i.test(to)) return { kind: 'sha', value: to.toLowerCase() };
  if (/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(to)) return { kind: 'image', value: to };
  return undefined;
}

/**
 * The revision to roll back to cannot be what was asked for (not found, an image that is not in
 * its repository). The message states the facts; the action says which input named the target.
 */
export class RollbackTargetError extends ConfigurationError {
  constructor(message: string) {
    super(message);
    this.name = 'RollbackTargetError';
  }
}

/** Words people write for `previous` that are not it; never read as image tags. */
const PREVIOUS_SYNONYMS = new Set(['prev', 'last', 'latest', 'prior', 'before', 'back']);

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/**
 * True when `text` looks like a mistaken `previous` (`Previous`, `PREVIOUS`, `prev`, `previos`,
 * `last`, …): such a value must not be taken for an image tag and deploy an image nobody meant.
 */
export function nearMissOfPrevious(text: string): boolean {
  const raw = text.trim();
  const t = raw.toLowerCase();
  if (raw === 'previous') return false;
  if (t === 'previous' || PREVIOUS_SYNONYMS.has(t)) return true;
  if (t.length >= 4 && 'previous'.startsWith(t)) return true;
  return t.length >= 5 && editDistance(t, 'previous') <= 2;
}

/** What rollback should do. */
export type Resolution =
  | { kind: 'noop'; message: string; target?: string }
  | { kind: 'target'; target: string; why: string }
  /** A revision to register first (checked, not yet registered): `register` registers it. */
  | { kind: 'register'; why: string; register: () => Promise<string> }
  | { kind: 'not-found'; message: string };

const ROLLBACK_STATUSES = new Set([
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
  'ROLLBACK_SUCCESSFUL',
]);

function newestFirst(history: HistoryEntry[]): HistoryEntry[] {
  return [...history].sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
}

/** Statuses of a rollback's own deployment that mean it did not happen (ECS undid or stopped it). */
const UNDONE = new Set([
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
  'ROLLBACK_SUCCESSFUL',
  'ROLLBACK_FAILED',
  'STOP_REQUESTED',
  'STOPPED',
]);

/**
 * True when `tags` carry a shipkit rollback mark that holds: the rollback's service deployment
 * (when the mark names it) was not undone or stopped by ECS. A mark without that name (older
 * marks, or a stopped blue/green deployment) holds.
 */
function rollbackMarkHolds(tags: Tag[] | undefined, entries: HistoryEntry[]): boolean {
  if (!tagValue(tags, TAGS.rolledBackAt)) return false;
  const by = tagValue(tags, TAGS.rolledBackBy);
  if (!by) return true;
  const deployment = entries.find((e) => e.serviceDeploymentArn === by);
  return !deployment || !UNDONE.has(deployment.status);
}

/** True when `tags` say a shipkit rollback (one that held) left this revision for `current`. */
function markedRolledBackTo(
  tags: Tag[] | undefined,
  current: string,
  entries: HistoryEntry[],
): boolean {
  const to = tagValue(tags, TAGS.rolledBackTo);
  return (
    !!to &&
    (to === shortTaskDefinition(current) || to === current) &&
    rollbackMarkHolds(tags, entries)
  );
}

/**
 * Resolves `to: previous`: the newest revision whose deployment completed successfully before the
 * deployment that put `current` in place; never a revision whose deployment failed or was rolled
 * back, nor one a shipkit rollback left. When the service already stands on a rollback (ECS rolled
 * back the latest deployment, or the latest deployment was a shipkit rollback to `current`), it
 * is a no-op: rolling back twice must not ping-pong.
 */
export function resolvePrevious(
  current: string,
  history: HistoryEntry[],
  tagsOf: (taskDefinitionArn: string) => Tag[] | undefined,
): Resolution {
  const entries = newestFirst(history);
  const latest = entries[0];
  if (latest && ROLLBACK_STATUSES.has(latest.status)) {
    return {
      kind: 'noop',
      target: current,
      message: `ECS already rolled back the latest deployment (${shortTaskDefinition(latest.target)}, ${latest.status}); the service is on ${shortTaskDefinition(current)}. To go further back, name the revision to roll back to.`,
    };
  }
  if (
    latest &&
    latest.target === current &&
    ['SUCCESSFUL', 'IN_PROGRESS', 'PENDING'].includes(latest.status)
  ) {
    const left = latest.sources.find(
      (s) => s !== current && markedRolledBackTo(tagsOf(s), current, entries),
    );
    if (left) {
      return {
        kind: 'noop',
        target: current,
        message: `The service was already rolled back from ${shortTaskDefinition(left)} to ${shortTaskDefinition(current)} (${tagValue(tagsOf(left), TAGS.rolledBackAt) ?? 'earlier'}); not rolling back again. To go further back, name the revision to roll back to.`,
      };
    }
  }
  let start = entries.findIndex(
    (e) =>
      (e.target === current &&
        !ROLLBACK_STATUSES.has(e.status) &&
        e.status !== 'ROLLBACK_FAILED' &&
        e.status !== 'STOPPED') ||
      (e.status === 'ROLLBACK_SUCCESSFUL' && e.rolledBackTo === current),
  );
  if (start < 0) start = -1;
  for (const e of entries.slice(start + 1)) {
    if (e.status !== 'SUCCESSFUL' || !e.target || e.target === current) continue;
    if (rollbackMarkHolds(tagsOf(e.target), entries)) continue;
    return {
      kind: 'target',
      target: e.target,
      why: `${shortTaskDefinition(e.target)} is the newest revision that completed a deployment before ${shortTaskDefinition(current)}${
        e.finishedAt ? ` (finished ${e.finishedAt.toISOString()})` : ''
      }`,
    };
  }
  return {
    kind: 'not-found',
    message: `No earlier revision completed a deployment of this service before ${shortTaskDefinition(current)} (in the ${entries.length} service deployment(s) ECS keeps). Name the revision to roll back to.`,
  };
}

/** A task definition revision known to rollback, with its tags and container images. */
export interface RevisionInfo {
  arn: string;
  tags: Tag[];
  images: { container: string; image?: string }[];
}

function revisionNumber(arn: string): number {
  return Number(/:(\d+)$/.exec(arn)?.[1] ?? 0);
}

/** The newest revision tagged with a commit that starts with `sha` (7 to 40 hex digits). */
export function findBySha(sha: string, revisions: RevisionInfo[]): RevisionInfo | undefined {
  const wanted = sha.toLowerCase();
  return [...revisions]
    .sort((a, b) => revisionNumber(b.arn) - revisionNumber(a.arn))
    .find((r) => tagValue(r.tags, TAGS.gitSha)?.toLowerCase().startsWith(wanted));
}

/** Containers whose images shipkit set (tagged), else every container. */
export function deployedContainers(revision: RevisionInfo): string[] {
  const tagged = revision.tags
    .filter((t) => t.key?.startsWith(TAGS.imagePrefix))
    .map((t) => (t.key as string).slice(TAGS.imagePrefix.length));
  const names = revision.images.map((i) => i.container);
  const both = tagged.filter((t) => names.includes(t));
  return both.length ? both : names;
}

/** The newest revision whose deployed containers run an image with tag or digest `version`. */
export function findByImage(version: string, revisions: RevisionInfo[]): RevisionInfo | undefined {
  return [...revisions]
    .sort((a, b) => revisionNumber(b.arn) - revisionNumber(a.arn))
    .find((r) => {
      const containers = deployedContainers(r);
      return r.images.some(
        (i) => containers.includes(i.container) && imageHasVersion(i.image, version),
      );
    });
}
