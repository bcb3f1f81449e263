import * as core from '../../../packages/kit/src/core';
import { failureMessage, runAction } from '../../../packages/kit/src/run';
import { backupMode } from './backup-mode';
import { getInputs } from './inputs';
import { newReport, writeSummary } from './report';
import { restoreMode } from './restore-mode';
import { snapshotMode } from './snapshot-mode';

/** Runs db-backup: validates every input, then backs up, restores or snapshots. */
export async function run(): Promise<void> {
  await runAction(async ({ signal }) => {
    const inputs = getInputs();
    const report = newReport();
    core.setOutput('deleted', '0');
    try {
      if (inputs.mode === 'restore') await restoreMode(inputs, signal, report);
      else if (inputs.mode === 'rds-snapshot') await snapshotMode(inputs, signal, report);
      else await backupMode(inputs, signal, report);
    } catch (error) {
      await writeSummary(inputs, report, failureMessage(error)).catch(() => undefined);
      throw error;
    }
    await writeSummary(inputs, report);
  });
}
