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

// Programs some suites drive, by the Debian package that brings each. npm test never changes
// the machine: it says what is missing (`.ci/run` installs them when run as root).
const tools = [
  ['buildah', 'buildah', 'the suites that build images'],
  ['skopeo', 'skopeo', 'the suites that copy images'],
  ['chromium', 'chromium', "the demo's report page check"],
  ['aws', 'awscli', "the AWS CLI's S3 suite and the examples' migration step"],
  ['jq', 'jq', "the examples' migration step"],
];
const missing = tools.filter(([command]) => !has(command));
// `aws logs tail` (local-aws's Logs suite) needs version 2 of the CLI; that suite skips without it.
const awsV2 =
  existsSync('/usr/bin/aws') ||
  /^aws-cli\/2\./.test(spawnSync('aws', ['--version'], { encoding: 'utf8' }).stdout ?? '');
if (has('aws') && !awsV2) {
  console.warn(
    "note: the AWS CLI found is not version 2: the `aws logs tail` suite will be skipped (Debian's awscli package is version 2).",
  );
}
if (missing.length) {
  console.warn(
    `warning: not found: ${missing.map(([c, , needed]) => `${c} (${needed})`).join(', ')}. Those suites will fail. Install them (Debian: apt-get install ${missing.map(([, pkg]) => pkg).join(' ')}), or run .ci/run as root, which installs them.`,
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
