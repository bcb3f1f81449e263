import * as core from '../../../packages/kit/src/core';
import { formatDuration } from '../../../packages/kit/src/duration';
import { markdownSafe } from '../../../packages/kit/src/log-text';
import type { SnapshotInputs } from './inputs';
import { actionLog } from './log';
import type { Report } from './report';

/** `mode: rds-snapshot`: a tagged manual snapshot, then retention of shipkit's snapshots. */
export async function snapshotMode(
  inputs: SnapshotInputs,
  signal: AbortSignal,
  report: Report,
): Promise<void> {
  const { RDSClient } = await import('@aws-sdk/client-rds');
  const { awsClientConfig, resolveRegion, withErrorContext } =
    await import('../../../packages/kit/src/aws');
  const { runSnapshot } = await import('../../../packages/backup/src/rds');
  const { systemClock } = await import('../../../packages/kit/src/poll');
  const started = systemClock.now();
  const rds = withErrorContext(new RDSClient(awsClientConfig(resolveRegion(inputs.region))), 'RDS');
  const result = await actionLog.group('RDS snapshot', () =>
    runSnapshot({
      rds,
      target: inputs.target,
      environment: inputs.environment,
      sha: inputs.sha,
      keepDays: inputs.keepDays,
      keepLast: inputs.keepLast,
      dryRun: inputs.dryRun,
      timeoutMs: inputs.timeoutMs,
      signal,
      log: actionLog.info,
      warn: (line) => core.warning(line),
    }),
  );
  if (!inputs.dryRun) core.setOutput('snapshot-id', result.snapshotId);
  core.setOutput('deleted', String(result.deleted.length));
  const durationMs = systemClock.now() - started;
  core.setOutput('duration-ms', String(durationMs));
  report.retention = result.decisions;
  report.retentionOf = 'Snapshot';
  report.verdict = inputs.dryRun ? 'neutral' : 'success';
  report.headline = inputs.dryRun
    ? `dry run: would create ${result.snapshotId}`
    : `${result.snapshotId} available`;
  const wouldDelete = result.decisions.filter((d) => d.action === 'delete').length;
  report.facts.push(
    ['Snapshot', `${result.snapshotId}${result.arn ? ` (${markdownSafe(result.arn)})` : ''}`],
    [
      'Source',
      inputs.target.instance
        ? `DB instance ${inputs.target.instance}`
        : `DB cluster ${inputs.target.cluster}`,
    ],
    [
      'Retention',
      `${result.decisions.length} shipkit snapshot(s) of ${inputs.environment}: ${inputs.dryRun ? `${wouldDelete} would be deleted (dry run)` : `${result.deleted.length} deleted`} (keep-days ${inputs.keepDays}, keep-last ${inputs.keepLast}); snapshots without shipkit's tag are never touched`,
    ],
    ['Duration', formatDuration(durationMs)],
  );
}
