import * as core from '../../../packages/kit/src/core';
import { formatBytes } from '../../../packages/kit/src/bytes';
import { formatDuration } from '../../../packages/kit/src/duration';
import { logSafe, markdownSafe } from '../../../packages/kit/src/log-text';
import { SummaryBuilder } from '../../../packages/kit/src/summary';
import type { TagResult } from '../../../packages/image/src/ecr';
import type { BuildOutcome } from '../../../packages/image/src/builder';
import type { TransferStats } from '../../../packages/image/src/registry';
import type { Inputs } from './inputs';

/** What one run did, for outputs and the summary. */
export interface Outcome {
  action: 'built' | 'promoted' | 'reused';
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
  repositoryCreated: boolean;
}

/** Logs a sentence that carries text from outside (AWS, the registry, a builder) as one safe line. */
export function say(text: string): void {
  core.info(logSafe(text));
}

/** Text from outside as inline code in the summary, or escaped prose when it cannot be code. */
function code(text: string): string {
  return /^[^`|\\<>\r\n\u2028\u2029]*$/.test(text) ? `\`${text}\`` : markdownSafe(text);
}

/** One tag's line in the log. */
export function tagLine(t: TagResult): string {
  return `  ${t.tag}: ${t.status === 'unchanged' ? 'already there' : 'tagged'}`;
}

const PROMOTION_MODES: Record<string, string> = {
  retag: 'retagged with ECR PutImage',
  mount: 'copied by digest, blobs mounted',
  copy: 'copied by digest across registries',
};

/** Writes the job summary of one run. */
export async function writeSummary(o: Outcome, inputs: Inputs): Promise<void> {
  const s = new SummaryBuilder('Build and push');
  const verb =
    o.action === 'built' ? (o.pushed ? 'built and pushed' : 'built (not pushed)') : o.action;
  s.verdict('success', `${verb} ${code(`${o.repository}@${o.digest.slice(0, 19)}…`)}`);
  const cache = !inputs.cache
    ? 'off'
    : o.build
      ? `${o.build.cacheHits ? 'used' : 'not used'}: ${o.build.cacheHits} of ${o.build.steps} steps from the cache (${markdownSafe(o.cacheRef)})`
      : 'not needed';
  s.facts([
    ['Image', code(`${o.registry}/${o.repository}@${o.digest}`)],
    ['Action', o.action],
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
        t.status === 'unchanged' ? 'already there' : 'tagged',
      ]),
    );
  }
  await s.write();
}
