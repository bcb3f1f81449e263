import * as core from '../../../packages/kit/src/core';
import { formatBytes } from '../../../packages/kit/src/bytes';
import { formatDuration } from '../../../packages/kit/src/duration';
import { logSafe, markdownSafe } from '../../../packages/kit/src/log-text';
import { SummaryBuilder } from '../../../packages/kit/src/summary';
import type { TagResult } from '../../../packages/image/src/ecr';
import type { PromoteResult } from '../../../packages/image/src/publish';
import type { BuildOutcome } from '../../../packages/image/src/builder';
import type { TransferStats } from '../../../packages/image/src/registry';
import type { Inputs } from './inputs';

/** What one run did, for outputs and the summary. */
export interface Outcome {
  action: 'built' | 'promoted' | 'reused' | 'unchanged';
  digest: string;
  registry: string;
  repository: string;
  tags: TagResult[];
  pushed: boolean;
  sizeBytes?: number;
  buildMs?: number;
  build?: BuildOutcome & { builder: string; settings: string[] };
  cacheRef?: string;
  stats?: TransferStats;
  promotion?: { source: string; mode: string };
  /** The content tag the image was looked up by, or got when built (`skip-unchanged`). */
  contentTag?: string;
  /** `unchanged`: the commit the image was built from, when its labels say. */
  builtFrom?: string;
  repositoryCreated: boolean;
}

/** Logs a sentence that carries text from outside (AWS, the registry, a builder) as one safe line. */
export function say(text: string): void {
  core.info(logSafe(text));
}

/** Text from outside as inline code in the summary, or escaped prose when it cannot be code. */
export function code(text: string): string {
  return /^[^`|\\<>\r\n\u2028\u2029]*$/.test(text) ? `\`${text}\`` : markdownSafe(text);
}

/** A commit as the summary shows it: its short SHA when it is one. */
export function shortCommit(sha: string): string {
  return /^[0-9a-f]{40}$/.test(sha) ? sha.slice(0, 7) : sha;
}

/** `unchanged since <sha>` (or without the commit when the image does not say it). */
export function unchangedSince(builtFrom: string | undefined): string {
  return builtFrom ? `unchanged since ${code(shortCommit(builtFrom))}` : 'unchanged';
}

/** One tag's line in the log. */
export function tagLine(t: TagResult): string {
  return `  ${t.tag}: ${t.status === 'unchanged' ? 'already there' : 'tagged'}`;
}

/** How a promotion moved the image, as the log says it: `<source> is <digest>; <how>.` */
export function promotionLine(result: PromoteResult): string {
  const { stats } = result;
  const how =
    result.mode === 'retag'
      ? 'retagged with ECR PutImage (no layers moved)'
      : result.mode === 'mount'
        ? `copied by digest: ${stats.blobsMounted} blob(s) mounted, ${stats.blobsPresent} already present, ${formatBytes(stats.bytesUploaded, { exact: true })} uploaded`
        : `copied by digest from another registry: ${stats.blobsUploaded} blob(s), ${formatBytes(stats.bytesUploaded, { exact: true })}`;
  return `${result.source} is ${result.digest}; ${how}.`;
}

/** How each promotion mode moves an image, for the summary. */
export const PROMOTION_MODES: Record<string, string> = {
  retag: 'retagged with ECR PutImage',
  mount: 'copied by digest, blobs mounted',
  copy: 'copied by digest across registries',
};

/** Writes the job summary of one run. */
export async function writeSummary(o: Outcome, inputs: Inputs): Promise<void> {
  const s = new SummaryBuilder('Build and push');
  const verb =
    o.action === 'built' ? (o.pushed ? 'built and pushed' : 'built (not pushed)') : o.action;
  const image = code(`${o.repository}@${o.digest.slice(0, 19)}…`);
  s.verdict(
    'success',
    o.action === 'unchanged' ? `${image} ${unchangedSince(o.builtFrom)}` : `${verb} ${image}`,
  );
  const cache = !inputs.cache
    ? 'off'
    : o.build
      ? `${o.build.cacheHits ? 'used' : 'not used'}: ${o.build.cacheHits} of ${o.build.steps} steps from the cache (${markdownSafe(o.cacheRef)})`
      : 'not needed';
  s.facts([
    ['Image', code(`${o.registry}/${o.repository}@${o.digest}`)],
    ['Action', o.action],
    [
      'Content tag',
      o.contentTag
        ? `${code(o.contentTag)}${o.action === 'unchanged' ? ` (already in the repository: ${unchangedSince(o.builtFrom)}, not rebuilt, no layers moved)` : ''}`
        : undefined,
    ],
    [
      'Source',
      o.promotion
        ? `${code(o.promotion.source)} (${PROMOTION_MODES[o.promotion.mode] ?? o.promotion.mode})`
        : undefined,
    ],
    [
      'Image size (compressed layers)',
      o.sizeBytes !== undefined ? formatBytes(o.sizeBytes) : undefined,
    ],
    ['Build time', o.buildMs !== undefined ? formatDuration(o.buildMs) : undefined],
    [
      'Builder',
      o.build
        ? `${o.build.builder}${o.build.settings.length ? ` (${markdownSafe(o.build.settings.join(', '))})` : ''}`
        : undefined,
    ],
    ['Cache', o.action === 'built' ? cache : undefined],
    [
      'Blobs uploaded (layers and config)',
      o.stats
        ? `${o.stats.blobsUploaded} (${formatBytes(o.stats.bytesUploaded)}), ${o.stats.blobsMounted} mounted, ${o.stats.blobsPresent} already present`
        : undefined,
    ],
    ['Repository', o.repositoryCreated ? `${code(o.repository)} (created by this run)` : undefined],
  ]);
  if (o.tags.length) {
    s.table(
      ['Tag', 'Digest', 'Status'],
      o.tags.map((t) => [
        code(`${o.registry}/${o.repository}:${t.tag}`),
        code(o.digest),
        !o.pushed
          ? 'not written (`push` is false)'
          : t.status === 'unchanged'
            ? 'already there'
            : 'tagged',
      ]),
    );
  }
  await s.write();
}
