import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const CLI = resolve(__dirname, '..', '..', '..', 'scripts', 'workflow.ts');
/** tsx's loader by URL, so that it is found from any working directory. */
const TSX = pathToFileURL(require.resolve('tsx')).href;

const WORKFLOW = `
on: push
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "workspace=$GITHUB_WORKSPACE pwd=$(pwd)"
  deploy:
    needs: build
    runs-on: ubuntu-24.04
    steps:
      - run: echo deployed
`;

let repo: string;
beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), 'shipkit-cli-repo-'));
  mkdirSync(join(repo, '.github', 'workflows'), { recursive: true });
  writeFileSync(join(repo, '.github', 'workflows', 'ci.yml'), WORKFLOW);
  writeFileSync(
    join(repo, '.github', 'workflows', 'nightly.yml'),
    `name: nightly
on: [push, schedule]
jobs:
  backup:
    if: github.event_name == 'schedule'
    runs-on: ubuntu-24.04
    steps:
      - run: echo backing up
`,
  );
});
afterAll(() => rmSync(repo, { recursive: true, force: true }));

/** Runs `npm run workflow -- …args` as started in `cwd` (npm passes that as INIT_CWD). */
function cli(args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  const env: Record<string, string | undefined> = { ...process.env, INIT_CWD: cwd };
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd, env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => done({ code, out }));
  });
}

test('the workflow file and the workspace default to the directory the command was started in', async () => {
  const outDir = join(repo, 'out-1');
  const r = await cli(['.github/workflows/ci.yml', '--out', 'out-1', '--job', 'build'], repo);
  expect(r.code).toBe(0);
  const buildDir = readdirSync(outDir).find((d) => d.startsWith('build'))!;
  const log = readdirSync(join(outDir, buildDir)).find((f) => f.endsWith('.log'))!;
  expect(readFileSync(join(outDir, buildDir, log), 'utf8')).toContain(
    `workspace=${repo} pwd=${repo}`,
  );
});

test('a selected job whose needs are not selected is refused with the jobs to select', async () => {
  const r = await cli(['.github/workflows/ci.yml', '--out', 'out-2', '--job', 'deploy'], repo);
  expect(r.code).toBe(1);
  expect(r.out).toContain(
    'error: job `deploy` needs `build`, which is not selected: a job runs only after the jobs it needs succeeded, so select them too (--job build --job deploy)',
  );
  expect(r.out).not.toContain('success');
});

test('a run whose jobs were all skipped says skipped, not success', async () => {
  const r = await cli(['.github/workflows/nightly.yml', '--out', 'out-3'], repo);
  expect(r.code).toBe(0);
  expect(r.out).toContain("– job backup: backup (if: github.event_name == 'schedule')");
  expect(r.out).toMatch(/– nightly: skipped \(no job ran/);
  expect(r.out).not.toContain('success');
});
