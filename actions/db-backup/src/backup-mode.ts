import * as core from '../../../packages/kit/src/core';
import { formatDuration } from '../../../packages/kit/src/duration';
import { ActionFailure } from '../../../packages/kit/src/errors';
import { logSafe, markdownSafe } from '../../../packages/kit/src/log-text';
import { missingPath } from '../../../packages/backup/src/source';
import { bytesText, runBackup, type BackupFacts } from '../../../packages/backup/src/run-backup';
import type { FilesInputs, PgDumpInputs } from './inputs';
import { actionLog } from './log';
import type { Report } from './report';
import { s3Client, tempParent } from './environment';

/** `mode: pg-dump` and `mode: files`: one backup to S3, proven, then retention. */
export async function backupMode(
  inputs: PgDumpInputs | FilesInputs,
  signal: AbortSignal,
  report: Report,
): Promise<void> {
  const facts: BackupFacts = {};
  const cwd = process.env.GITHUB_WORKSPACE || process.cwd();
  const missing = inputs.mode === 'files' ? missingPath(inputs.paths, cwd) : undefined;
  if (missing !== undefined)
    throw new ActionFailure(`Path \`${logSafe(missing)}\` (input \`paths\`) does not exist.`);
  try {
    await runBackup(
      {
        s3: () => s3Client(inputs.region, inputs.forcePathStyle),
        bucket: inputs.bucket,
        prefix: inputs.prefix,
        name: inputs.name,
        environment: inputs.environment,
        sha: inputs.sha,
        source:
          inputs.mode === 'files'
            ? { type: 'files', paths: inputs.paths, cwd }
            : {
                type: 'pg-dump',
                database: inputs.database,
                format: inputs.format,
                pgDumpArgs: inputs.pgDumpArgs,
              },
        compressionLevel: inputs.compressionLevel,
        verify: inputs.verify,
        sse: inputs.sse,
        kmsKeyId: inputs.kmsKeyId,
        storageClass: inputs.storageClass,
        keepDays: inputs.keepDays,
        keepLast: inputs.keepLast,
        dryRun: inputs.dryRun,
        tempDir: tempParent(),
        log: actionLog,
        signal,
        onKey: (key, location) => {
          core.setOutput('key', key);
          core.setOutput('location', location);
        },
        onStored: (bytes, sha256) => {
          core.setOutput('bytes', String(bytes));
          core.setOutput('sha256', sha256);
        },
        // Nothing is stored any more: no output may name it.
        onRemoved: () => {
          for (const output of ['location', 'key', 'bytes', 'sha256']) core.setOutput(output, '');
        },
      },
      facts,
    );
  } catch (error) {
    // Set as soon as the key was chosen; a run that stored nothing must not name a backup.
    if (!facts.stored && !inputs.dryRun) {
      core.setOutput('key', '');
      core.setOutput('location', '');
    }
    throw error;
  } finally {
    describe(inputs, facts, report);
  }
}

/** Turns what the run found (all of it, or what was known when it failed) into the report. */
function describe(inputs: PgDumpInputs | FilesInputs, facts: BackupFacts, report: Report): void {
  if (facts.location)
    report.facts.push([
      'Location',
      `${markdownSafe(facts.location)}${facts.removed ? ' (removed: its verification failed)' : ''}`,
    ]);
  if (facts.database)
    report.facts.push(
      [
        'Database',
        `${markdownSafe(facts.database.display)} (PostgreSQL ${markdownSafe(facts.database.serverVersion)})`,
      ],
      ['Client', facts.database.client],
    );
  if (facts.stored)
    report.facts.push(
      ['Size', bytesText(facts.stored.bytes)],
      ['SHA-256', `\`${facts.stored.sha256}\``],
    );
  if (facts.verified) report.facts.push(['Verified', markdownSafe(facts.verified)]);
  else if (facts.stored && inputs.verify.kind === 'none')
    report.facts.push(['Verified', 'no (`verify: none`)']);
  if (facts.counts) report.counts = facts.counts;
  if (facts.removed) report.notes.push(markdownSafe(facts.removed));
  if (facts.durationMs !== undefined) {
    core.setOutput('duration-ms', String(facts.durationMs));
    report.facts.push(['Duration', formatDuration(facts.durationMs)]);
  }
  if (inputs.dryRun && facts.key) {
    report.verdict = 'neutral';
    report.headline = `dry run: would write ${markdownSafe(facts.key)}`;
  } else if (facts.stored) {
    report.verdict = 'success';
    report.headline = `${bytesText(facts.stored.bytes).split(' (')[0]} written and ${inputs.verify.kind === 'none' ? 'not verified' : 'verified'}`;
  }
  const retention = facts.retention;
  if (retention) {
    report.retention = retention.decisions;
    const decisions = retention.decisions;
    const wouldDelete = decisions.filter((d) => d.action === 'delete').length;
    core.setOutput('deleted', String(retention.deleted.length));
    if (retention.leftovers.length)
      report.notes.push(
        `${retention.leftovers.length} object(s) without a checksum (cannot be restored) are not counted toward keep-last: ${retention.leftovers.map((k) => `\`${markdownSafe(k)}\``).join(', ')}.`,
      );
    report.facts.push([
      'Retention',
      `${decisions.length} object(s) under s3://${inputs.bucket}/${markdownSafe(facts.folder)}: ${inputs.dryRun ? `${wouldDelete} would be deleted (dry run)` : `${retention.deleted.length} deleted`}, ${decisions.length - wouldDelete} kept (keep-days ${inputs.keepDays}, keep-last ${inputs.keepLast}, counting only backups with a checksum)`,
    ]);
  }
}
