/**
 * The one-image-per-line form of `promote-from` in the action, against an in-memory ECR: each
 * image retagged within its repository (no registry traffic), outputs like the `images` form,
 * one summary row per image, and a failure that says what was promoted already.
 */
import { join } from 'node:path';
import { run } from '../../../actions/build-and-push/src/main';
import { FakeEcr } from './fake-ecr';
import { inProcessAction } from './in-process-action';

const SHA = 'feedfacecafebeef0123456789abcdef01234567';
const action = inProcessAction('build-and-push-promote-lines-', (dir) => ({
  RUNNER_TEMP: join(dir, 'temp'),
  GITHUB_SHA: SHA,
  GITHUB_REF: 'refs/heads/main',
  AWS_REGION: 'eu-west-1',
  INPUT_TAGS: 'production',
}));

it('retags each image in its repository and outputs them by repository and by container', async () => {
  const ecr = new FakeEcr();
  ecr.addRepository('team/api');
  ecr.addRepository('team/worker');
  const apiImage = ecr.addImage('team/api', 'api tested', ['abc1234']);
  const workerImage = ecr.addImage('team/worker', 'worker tested', ['abc1234']);
  process.env['INPUT_PROMOTE-FROM'] = `team/api=abc1234\njobs@team/worker=${workerImage.digest}`;

  await run({ ecr: async () => ecr });
  expect(process.exitCode).toBeUndefined();

  const host = ecr.host;
  const apiRef = `${host}/team/api@${apiImage.digest}`;
  const workerRef = `${host}/team/worker@${workerImage.digest}`;
  const out = action.outputs();
  expect(JSON.parse(out.images)).toEqual({ 'team/api': apiRef, 'team/worker': workerRef });
  expect(out['container-images']).toBe(`api=${apiRef}\njobs=${workerRef}`);
  expect(out.tags).toBe(`${host}/team/api:production\n${host}/team/worker:production`);
  expect(out.registry).toBe(host);
  expect([out.image, out.digest, out.action]).toEqual([undefined, undefined, undefined]);
  expect(ecr.calls.filter((c) => c.startsWith('PutImage'))).toEqual([
    'PutImage team/api:production',
    'PutImage team/worker:production',
  ]);
  // Retags move no layer: no registry login is asked for.
  expect(ecr.calls).not.toContain('GetAuthorizationToken');
  expect(action.stdout).toContain(
    `${host}/team/api:abc1234 is ${apiImage.digest}; retagged with ECR PutImage (no layers moved).`,
  );
  expect(action.stdout).toContain(
    `${host}/team/worker@${workerImage.digest} is ${workerImage.digest}; retagged with ECR PutImage (no layers moved).`,
  );
  expect(action.stdout).toContain(`Promoted ${apiRef} as production.`);

  const summary = action.summary();
  expect(summary).toContain('2 images promoted by digest, nothing built');
  expect(summary.split('\n').filter((l) => /^\| `(api|jobs)` \|/.test(l))).toEqual([
    `| \`api\` | \`${host}/team/api:abc1234\` | \`${apiRef}\` | retag (retagged with ECR PutImage) | \`production\` |`,
    `| \`jobs\` | \`${host}/team/worker@${workerImage.digest}\` | \`${workerRef}\` | retag (retagged with ECR PutImage) | \`production\` |`,
  ]);
});

it('fails naming the image promoted already (its tags stay) and the one that was not', async () => {
  const ecr = new FakeEcr();
  ecr.addRepository('team/api');
  ecr.addRepository('team/worker', 'IMMUTABLE');
  const apiImage = ecr.addImage('team/api', 'api tested', ['abc1234']);
  ecr.addImage('team/worker', 'worker tested', ['abc1234']);
  // The immutable tag already names another image: the second promotion fails at PutImage.
  ecr.addImage('team/worker', 'worker of yesterday', ['production']);
  process.env['INPUT_PROMOTE-FROM'] = 'team/api=abc1234\nteam/worker=abc1234';

  await run({ ecr: async () => ecr });
  expect(process.exitCode).toBe(1);
  expect(action.stdout).toContain(
    `::error::Promoting \`${ecr.host}/team/worker\` (from \`${ecr.host}/team/worker:abc1234\`) failed: `,
  );
  expect(action.stdout).toContain(
    `Promoted already (their tags stay: tags only add, there is nothing to undo): \`${ecr.host}/team/api@${apiImage.digest}\`. Not promoted: \`${ecr.host}/team/worker\``,
  );
  expect((await ecr.describeImage('team/api', { tag: 'production' }))?.digest).toBe(
    apiImage.digest,
  );
  expect(action.outputs().images).toBeUndefined();
});

it('names a missing source of the target registry before promoting anything', async () => {
  const ecr = new FakeEcr();
  ecr.addRepository('team/api');
  ecr.addRepository('team/worker');
  ecr.addImage('team/api', 'api tested', ['abc1234']);
  process.env['INPUT_PROMOTE-FROM'] = 'team/api=abc1234\nteam/worker=abc1234';

  await run({ ecr: async () => ecr });
  expect(process.exitCode).toBe(1);
  expect(action.stdout).toContain(
    `::error::The image to promote, \`${ecr.host}/team/worker:abc1234\`, does not exist.`,
  );
  expect(ecr.calls.filter((c) => c.startsWith('PutImage'))).toEqual([]);
  expect(await ecr.describeImage('team/api', { tag: 'production' })).toBeUndefined();
});

it('refuses a missing target repository before promoting anything', async () => {
  const ecr = new FakeEcr();
  ecr.addRepository('team/api');
  ecr.addImage('team/api', 'api tested', ['abc1234']);
  process.env['INPUT_PROMOTE-FROM'] = `team/api=abc1234\nteam/worker-production=team/api:abc1234`;

  await run({ ecr: async () => ecr });
  expect(process.exitCode).toBe(1);
  expect(action.stdout).toContain(
    '::error::Repository `team/worker-production` (input `promote-from`, `team/worker-production=team/api:abc1234`) does not exist.',
  );
  expect(ecr.calls.filter((c) => c.startsWith('PutImage'))).toEqual([]);
});

it('refuses a source in a registry that is neither the target’s nor ECR’s before promoting anything', async () => {
  const ecr = new FakeEcr();
  ecr.addRepository('team/api');
  ecr.addRepository('team/worker');
  ecr.addImage('team/api', 'api tested', ['abc1234']);
  // The configured ECR endpoint passes the input check; the repositories live in another registry.
  process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:4566';
  process.env['INPUT_PROMOTE-FROM'] =
    'team/api=abc1234\nteam/worker=127.0.0.1:4566/team/worker-staging:abc1234';

  await run({ ecr: async () => ecr });
  expect(process.exitCode).toBe(1);
  expect(action.stdout).toContain(
    `::error::Invalid configuration: Input \`promote-from\` (\`team/worker=127.0.0.1:4566/team/worker-staging:abc1234\`) names the registry \`127.0.0.1:4566\`, which is neither this repository's registry (\`${ecr.host}\`) nor an ECR registry.`,
  );
  expect(
    ecr.calls.filter((c) => c.startsWith('PutImage') || c.startsWith('CreateRepository')),
  ).toEqual([]);
});
