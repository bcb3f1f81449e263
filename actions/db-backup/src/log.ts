import * as core from '../../../packages/kit/src/core';
import { logSafe } from '../../../packages/kit/src/log-text';
import type { BackupLog } from '../../../packages/backup/src/run-backup';

/**
 * The run's log for the domain code: every line may hold text from outside (server messages,
 * database and table names, object keys), so each goes through `logSafe` (one line, no runner
 * command).
 */
export const actionLog: BackupLog = {
  info: (line) => core.info(logSafe(line)),
  debug: (line) => core.debug(logSafe(line)),
  warning: (line) => core.warning(logSafe(line)),
  group: (name, fn) => core.group(logSafe(name), fn),
};
