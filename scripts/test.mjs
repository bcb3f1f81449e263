// `npm test`: says which tools the end-to-end tests drive are missing, builds the bundles
// the tests run, runs every jest suite and ends with one line: `N passed, N failed, N skipped`.
//
// Usage: npm test [-- <jest args>]      SHIPKIT_SKIP_BUILD=1 skips the build step.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

// buildah and skopeo build and copy images in the build-and-push and local-aws suites. npm test
// never changes the machine: it says what is missing (`.ci/run` installs them when run as root).
const missing = ['buildah', 'skopeo'].filter((c) => !has(c));
if (missing.length) {
  console.warn(
    `warning: ${missing.join(' and ')} not found: the suites that build images will fail. Install ${missing.length > 1 ? 'them' : 'it'} (Debian: apt-get install ${missing.join(' ')}), or run .ci/run as root, which installs ${missing.length > 1 ? 'them' : 'it'}.`,
  );
}

if (process.env.SHIPKIT_SKIP_BUILD !== '1') {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {
    stdio: 'inherit',
    cwd: root,
  });
}

const resultsFile = join(root, '.jest-results.json');
rmSync(resultsFile, { force: true });
const jest = spawnSync(
  process.execPath,
  [
    join(root, 'node_modules', 'jest', 'bin', 'jest.js'),
    '--json',
    `--outputFile=${resultsFile}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', cwd: root },
);

let line = '0 passed, 1 failed';
if (existsSync(resultsFile)) {
  const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
  // A suite that fails to load counts as a failure even though it has no test results.
  const brokenSuites = r.testResults.filter(
    (s) => s.status === 'failed' && s.assertionResults.length === 0,
  ).length;
  const skipped = r.numPendingTests + r.numTodoTests;
  line = `${r.numPassedTests} passed, ${r.numFailedTests + brokenSuites} failed${skipped ? `, ${skipped} skipped` : ''}`;
}
console.log(`\n${line}`);
process.exit(jest.status ?? 1);
