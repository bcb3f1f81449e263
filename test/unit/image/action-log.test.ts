/**
 * The action's log and job summary when ECR answers with hostile text: every line stays one line
 * with no runner command, and the summary keeps its table shape with no HTML.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../actions/build-and-push/src/main';
import { FakeEcr } from './fake-ecr';

const HOSTILE = 'evil`|<img src=x onerror=alert(1)>\n::add-mask::oops\r\n##[warning]x';

let dir: string;
let saved: NodeJS.ProcessEnv;
let stdout: string;
let writeSpy: jest.SpyInstance;

beforeEach(() => {
  saved = { ...process.env };
  dir = mkdtempSync(join(tmpdir(), 'build-and-push-log-'));
  for (const f of ['output', 'summary', 'state']) writeFileSync(join(dir, f), '');
  Object.assign(process.env, {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_WORKSPACE: dir,
    GITHUB_SHA: 'feedfacecafebeef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    AWS_REGION: 'eu-west-1',
    INPUT_REPOSITORY: 'api',
    'INPUT_PROMOTE-FROM': 'abc1234',
    INPUT_TAGS: 'production',
  });
  stdout = '';
  writeSpy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    stdout += String(chunk);
    return true;
  });
});

afterEach(() => {
  writeSpy.mockRestore();
  process.env = saved;
  process.exitCode = undefined;
  rmSync(dir, { recursive: true, force: true });
});

it('keeps hostile repository text from ECR on one log line and out of the summary structure', async () => {
  const ecr = new FakeEcr();
  const repo = ecr.addRepository('api');
  repo.uri = `${HOSTILE}/api`;
  repo.tagMutability = `MUTABLE\n::set-output name=image::forged`;
  ecr.addImage('api', 'tested', ['abc1234']);

  await run({ ecr: async () => ecr });
  expect(process.exitCode).toBeUndefined();

  const lines = stdout.split(/\r\n|\r|\n/);
  const using = lines.find((l) => l.startsWith('Using repository '));
  expect(using).toMatch(/^Using repository evil.*\/api \(tags mutable ⏎ .*forged\)\.$/);
  const commands = lines.filter((l) => /^\s*::/.test(l) || l.includes('##['));
  expect(commands.every((l) => /^::(group|endgroup)::/.test(l))).toBe(true);

  const summary = readFileSync(join(dir, 'summary'), 'utf8');
  expect(summary).not.toMatch(/<img/i);
  for (const row of summary.split('\n').filter((l) => l.startsWith('|'))) {
    // Two columns in the facts table, three in the tags table: unescaped pipes only as borders.
    const borders = row.replace(/\\\|/g, '').split('|').length - 1;
    expect([3, 4]).toContain(borders);
  }
  expect(readFileSync(join(dir, 'output'), 'utf8')).not.toContain('forged');
});
