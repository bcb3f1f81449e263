/**
 * The action's log and job summary when ECR answers with hostile text: every line stays one line
 * with no runner command, and the summary keeps its table shape with no HTML.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../actions/build-and-push/src/main';
import { FakeEcr } from './fake-ecr';
import { inProcessAction } from './in-process-action';

const HOSTILE = 'evil`|<img src=x onerror=alert(1)>\n::add-mask::oops\r\n##[warning]x';

const action = inProcessAction('build-and-push-log-', () => ({
  GITHUB_SHA: 'feedfacecafebeef0123456789abcdef01234567',
  GITHUB_REF: 'refs/heads/main',
  AWS_REGION: 'eu-west-1',
  INPUT_REPOSITORY: 'api',
  'INPUT_PROMOTE-FROM': 'abc1234',
  INPUT_TAGS: 'production',
}));

it('keeps hostile repository text from ECR on one log line and out of the summary structure', async () => {
  const ecr = new FakeEcr();
  const repo = ecr.addRepository('api');
  repo.uri = `${HOSTILE}/api`;
  repo.tagMutability = `MUTABLE\n::set-output name=image::forged`;
  ecr.addImage('api', 'tested', ['abc1234']);

  await run({ ecr: async () => ecr });
  expect(process.exitCode).toBeUndefined();

  const lines = action.stdout.split(/\r\n|\r|\n/);
  const using = lines.find((l) => l.startsWith('Using repository '));
  expect(using).toMatch(/^Using repository evil.*\/api \(tags mutable ⏎ .*forged\)\.$/);
  const commands = lines.filter((l) => /^\s*::/.test(l) || l.includes('##['));
  expect(commands.every((l) => /^::(group|endgroup)::/.test(l))).toBe(true);

  const summary = action.summary();
  expect(summary).not.toMatch(/<img/i);
  for (const row of summary.split('\n').filter((l) => l.startsWith('|'))) {
    // Two columns in the facts table, three in the tags table: unescaped pipes only as borders.
    const borders = row.replace(/\\\|/g, '').split('|').length - 1;
    expect([3, 4]).toContain(borders);
  }
  expect(readFileSync(join(action.dir, 'output'), 'utf8')).not.toContain('forged');
});
