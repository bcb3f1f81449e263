import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { actionlint } from '../../../packages/workflow/src/actionlint';
import { checkWorkflow, fileCheckContext } from '../../../packages/workflow/src/checks';
import { parseWorkflow } from '../../../packages/workflow/src/model';

const ROOT = join(__dirname, '..', '..', '..');
const RELEASE = join(ROOT, '.github', 'workflows', 'release.yml');
const text = readFileSync(RELEASE, 'utf8');
const release = parse(text) as {
  on: { push: { tags: string[] } };
  permissions: unknown;
  jobs: Record<string, { permissions?: Record<string, string>; needs?: string; steps: Step[] }>;
};
interface Step {
  name?: string;
  uses?: string;
  run?: string;
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
};
const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');

/** The changelog section of `version` as the release workflow extracts it (same rule). */
function section(version: string): string {
  const lines = changelog.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`## [${version}]`));
  if (start < 0) return '';
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => l.startsWith('## ['));
  return rest.slice(0, end < 0 ? undefined : end).join('\n');
}

describe('the release workflow', () => {
  test('passes actionlint and the workflow checks', async () => {
    expect(await actionlint(text, 'release.yml')).toEqual([]);
    expect(checkWorkflow(parseWorkflow(text, RELEASE), fileCheckContext(ROOT))).toEqual([]);
  });

  test('runs on version tags only', () => {
    expect(release.on).toEqual({ push: { tags: ['v*.*.*'] } });
  });

  test('pins every third-party action to a full commit SHA with its version in a comment', () => {
    const uses = [...text.matchAll(/uses:\s*(\S+)(.*)/g)];
    expect(uses.length).toBeGreaterThan(0);
    for (const [, ref, comment] of uses) {
      expect(ref).toMatch(/@[0-9a-f]{40}$/);
      expect(comment).toMatch(/# v\d+\.\d+\.\d+$/);
    }
  });

  test('grants write access only to the job that publishes, after the checks passed', () => {
    expect(release.permissions).toEqual({});
    expect(release.jobs.check.permissions).toEqual({ contents: 'read' });
    expect(release.jobs.release.permissions).toEqual({ contents: 'write' });
    expect(release.jobs.release.needs).toBe('check');
  });

  test('the checks run CI, which fails on stale bundles or docs and on failing tests', () => {
    const runs = release.jobs.check.steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('.ci/run');
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    expect(ci).toContain('git status --porcelain -- dist action-docs');
  });

  test('creates the release from the changelog and moves the major tag', () => {
    const runs = release.jobs.release.steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('gh release create "$TAG"');
    expect(runs).toContain('--notes-file');
    expect(runs).toMatch(/git push --force origin "refs\/tags\/\$major"/);
  });
});

describe('the release being made', () => {
  test('the changelog has a non-empty section for the version in package.json', () => {
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(section(pkg.version).trim()).not.toBe('');
  });

  test('the 1.0.0 section names every action that version shipped', () => {
    const notes = section('1.0.0');
    for (const action of ['build-and-push', 'ecs-deploy', 'health-gate', 'rollback', 'db-backup'])
      expect(notes).toContain(`**${action}**`);
  });

  test('the LICENSE file holds the license package.json declares', () => {
    expect(pkg.license).toBe('MIT');
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(license.split('\n')[0]).toBe('MIT License');
    expect(license).toContain('Copyright (c) 2026 the shipkit authors');
  });
});

describe("npm's install scripts", () => {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { hasInstallScript?: boolean }>;
  };
  const allow = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      allowScripts?: Record<string, boolean>;
    }
  ).allowScripts;
  const withScripts = Object.entries(lock.packages)
    .filter(([, p]) => p.hasInstallScript)
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));

  test('every locked package with an install script has a decision in allowScripts', () => {
    expect(withScripts.length).toBeGreaterThan(0);
    for (const name of withScripts) expect(Object.keys(allow ?? {})).toContain(name);
  });

  test('allowScripts names no package that is not installed with a script', () => {
    for (const name of Object.keys(allow ?? {})) expect(withScripts).toContain(name);
  });
});

describe('the release scripts, run as the runner runs them', () => {
  const step = (job: string, name: string): Step => {
    const found = release.jobs[job].steps.find((s) => s.name === name);
    if (!found?.run) throw new Error(`no step ${name} in job ${job}`);
    return found;
  };
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'release-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function bash(
    script: string,
    cwd: string,
    env: Record<string, string>,
  ): SpawnSyncReturns<string> {
    return spawnSync('bash', ['-e', '-c', script], {
      cwd,
      env: { PATH: process.env.PATH, HOME: dir, ...env },
      encoding: 'utf8',
      // A socket on standard input makes bash read ~/.bashrc; the runner gives it none.
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }
  const git = (cwd: string, ...args: string[]): string =>
    execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@example.com',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@example.com',
      },
    }).trim();

  test('the version check accepts the tag of package.json and refuses another', () => {
    const check = step('check', 'The tag names the version in package.json and CHANGELOG.md');
    expect(bash(check.run!, ROOT, { TAG: `v${pkg.version}` }).status).toBe(0);
    const wrong = bash(check.run!, ROOT, { TAG: 'v0.0.1' });
    expect(wrong.status).toBe(1);
    expect(wrong.stdout).toContain(
      `::error::tag v0.0.1 does not match package.json version ${pkg.version}`,
    );
  });

  test('the release notes are the changelog section of the tag', () => {
    const notes = step('release', 'Release notes from CHANGELOG.md');
    const run = bash(notes.run!, ROOT, { TAG: 'v1.0.0', RUNNER_TEMP: dir });
    expect(run.status).toBe(0);
    const text = readFileSync(join(dir, 'notes.md'), 'utf8');
    expect(text.trim()).toBe(section('1.0.0').trim());
    expect(text).toContain('**ecs-deploy**');
    expect(text).not.toContain('## [');
  });

  test('the major tag moves to the newest release of its major only', () => {
    const move = step('release', 'Move the major tag').run!;
    const remote = join(dir, 'remote.git');
    const work = join(dir, 'work');
    git(dir, 'init', '--quiet', '--bare', remote);
    git(dir, 'init', '--quiet', work);
    git(work, 'remote', 'add', 'origin', remote);
    const commit = (tag: string): string => {
      git(work, 'commit', '--quiet', '--allow-empty', '-m', tag);
      git(work, 'tag', tag);
      return git(work, 'rev-parse', 'HEAD');
    };
    const first = commit('v1.0.0');
    const second = commit('v1.1.0');
    commit('v1.2.0-rc.1');
    git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main', '--tags');
    const v1 = (): string => git(remote, 'rev-parse', 'refs/tags/v1^{commit}');

    expect(bash(move, work, { TAG: 'v1.1.0' }).status).toBe(0);
    expect(v1()).toBe(second);
    const older = bash(move, work, { TAG: 'v1.0.0' });
    expect(older.stdout).toContain('v1.1.0 is newer than v1.0.0: v1 stays on v1.1.0');
    expect(v1()).toBe(second);
    bash(move, work, { TAG: 'v1.2.0-rc.1' });
    expect(v1()).toBe(second);
    expect(first).not.toBe(second);
  });
});
