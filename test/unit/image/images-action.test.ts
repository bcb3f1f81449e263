/**
 * The `images` form of the action when every image is unchanged: nothing is built (no builder
 * program runs), each image is tagged for this commit by digest, and the outputs and the summary
 * have one entry per image.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../actions/build-and-push/src/main';
import { deriveContentTag } from '../../../packages/image/src/content-tag';
import { FakeEcr } from './fake-ecr';
import { inProcessAction } from './in-process-action';

const SHA = 'feedfacecafebeef0123456789abcdef01234567';
const action = inProcessAction('build-and-push-images-', (dir) => ({
  RUNNER_TEMP: join(dir, 'temp'),
  GITHUB_SHA: SHA,
  GITHUB_REF: 'refs/heads/feature',
  AWS_REGION: 'eu-west-1',
  INPUT_IMAGES: 'team/api=api\njobs@team/worker=worker',
  INPUT_BUILDER: 'buildah',
}));

// Two build contexts in a git repository: their content tags come from the git tree.
beforeEach(() => {
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: action.dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  git('init', '-q', '-b', 'main');
  for (const name of ['api', 'worker']) {
    mkdirSync(join(action.dir, name));
    writeFileSync(join(action.dir, name, 'Dockerfile'), `FROM scratch\nCOPY ${name}.js /\n`);
    writeFileSync(join(action.dir, name, `${name}.js`), `${name}\n`);
  }
});

it('tags every unchanged image for this commit by digest and builds nothing', async () => {
  const ecr = new FakeEcr();
  // A registry address that refuses at once: the commit an image came from stays unknown.
  ecr.host = '127.0.0.1:9';
  const digests: Record<string, string> = {};
  for (const [name, context] of [
    ['team/api', 'api'],
    ['team/worker', 'worker'],
  ]) {
    ecr.addRepository(name);
    const { tag } = await deriveContentTag({
      context: join(action.dir, context),
      buildArgs: new Map(),
      platforms: [],
    });
    digests[name] = ecr.addImage(name, `${name} built before`, [tag]).digest;
  }

  await run({ ecr: async () => ecr });
  expect(process.exitCode).toBeUndefined();

  const outputs = action.outputs();
  expect(JSON.parse(outputs.images)).toEqual({
    'team/api': `127.0.0.1:9/team/api@${digests['team/api']}`,
    'team/worker': `127.0.0.1:9/team/worker@${digests['team/worker']}`,
  });
  expect(outputs['container-images']).toBe(
    `api=127.0.0.1:9/team/api@${digests['team/api']}\njobs=127.0.0.1:9/team/worker@${digests['team/worker']}`,
  );
  expect(outputs.tags).toBe('127.0.0.1:9/team/api:feedfac\n127.0.0.1:9/team/worker:feedfac');
  expect(ecr.calls.filter((c) => c.startsWith('PutImage'))).toEqual([
    'PutImage team/api:feedfac',
    'PutImage team/worker:feedfac',
  ]);
  expect(action.stdout).not.toMatch(/Logged in to|STEP /);

  const summary = action.summary();
  expect(summary).toContain('2 images: 2 unchanged');
  const rows = summary.split('\n').filter((l) => l.startsWith('| `127.0.0.1:9/'));
  expect(rows).toEqual([
    `| \`127.0.0.1:9/team/api\` | \`api\` | unchanged | \`${digests['team/api']}\` | \`feedfac\` | unchanged: not rebuilt, no layers moved |`,
    `| \`127.0.0.1:9/team/worker\` | \`jobs\` | unchanged | \`${digests['team/worker']}\` | \`feedfac\` | unchanged: not rebuilt, no layers moved |`,
  ]);
});
