import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '../../../packages/kit/src/core';
import { formatDuration } from '../../../packages/kit/src/duration';
import { markdownSafe } from '../../../packages/kit/src/log-text';
import { bytesText } from '../../../packages/backup/src/run-backup';
import type { RestoreInputs } from './inputs';
import { actionLog } from './log';
import type { Report } from './report';
import { s3Client, tempParent } from './environment';

/** `mode: restore`: checks a backup's checksum, then restores it into `database-url`. */
export async function restoreMode(
  inputs: RestoreInputs,
  signal: AbortSignal,
  report: Report,
): Promise<void> {
  try {
    await restore(inputs, signal, report);
  } catch (error) {
    // `latest` looks under `<prefix><name>/`, and `name` defaults to the database restored into,
    // which is seldom the one that was backed up.
    if ((error as Error).name === 'NoBackupFoundError' && inputs.nameFromDatabase)
      (error as Error).message +=
        ` Input \`name\` was not set, so the folder is named after the database restored into (\`${inputs.name}\`): set \`name\` to the folder of the database that was backed up (its database name, unless its backups set \`name\`).`;
    throw error;
  }
}

async function restore(inputs: RestoreInputs, signal: AbortSignal, report: Report): Promise<void> {
  const s3 = await s3Client(inputs.region, inputs.forcePathStyle);
  const { checkBucket } = await import('../../../packages/backup/src/store');
  const { backupFolder } = await import('../../../packages/backup/src/keys');
  const { restoreBackup, planRestore } = await import('../../../packages/backup/src/restore');
  const { bucket, database: target } = inputs;
  const folder = backupFolder(inputs.prefix, inputs.name);
  await checkBucket(s3, bucket);
  if (inputs.dryRun) {
    // Every check the restore makes before it reads the backup: the object, its checksum, the
    // connection to the target and a client for its server.
    const plan = await planRestore({ s3, bucket, key: inputs.backupKey, folder, target, signal });
    core.setOutput('key', plan.key);
    core.setOutput('location', `s3://${bucket}/${plan.key}`);
    report.verdict = 'neutral';
    report.headline = `dry run: would restore ${markdownSafe(plan.key)} into ${markdownSafe(target.database)}`;
    report.facts.push(
      ['Backup', `s3://${bucket}/${markdownSafe(plan.key)}`],
      [
        'Target',
        `${markdownSafe(target.display)} (PostgreSQL ${markdownSafe(plan.server.version)})`,
      ],
      ['SHA-256', `\`${plan.sha256}\` (in its metadata; checked when it is restored)`],
      ['Size', bytesText(plan.bytes)],
      ['Client', `${plan.kind === 'custom' ? 'pg_restore' : 'psql'} ${plan.client.version}`],
    );
    return;
  }
  const dir = mkdtempSync(join(tempParent(), 'shipkit-db-backup-'));
  try {
    const result = await actionLog.group('Restoring', () =>
      restoreBackup({
        s3,
        bucket,
        key: inputs.backupKey,
        folder,
        target,
        dir,
        signal,
        log: actionLog.info,
      }),
    );
    core.setOutput('key', result.key);
    core.setOutput('location', `s3://${bucket}/${result.key}`);
    core.setOutput('bytes', String(result.bytes));
    core.setOutput('sha256', result.sha256);
    core.setOutput('duration-ms', String(result.durationMs));
    report.verdict = 'success';
    report.headline = `restored into ${markdownSafe(target.database)}`;
    report.facts.push(
      ['Backup', `s3://${bucket}/${markdownSafe(result.key)}`],
      [
        'Target',
        `${markdownSafe(target.display)} (PostgreSQL ${markdownSafe(result.server.version)})`,
      ],
      ['SHA-256', `\`${result.sha256}\` (verified before restoring)`],
      ['Size', bytesText(result.bytes)],
      ['Client', `${result.kind === 'custom' ? 'pg_restore' : 'psql'} ${result.client.version}`],
      ['Duration', formatDuration(result.durationMs)],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
