/**
 * `promote-from` with one image per line, through the action bundle against local-aws (ECR's
 * API and its registry): a release of two services promoted from their staging repositories
 * into their production repositories by digest in one step, a retag within each repository,
 * and a bad line refused before any call.
 */
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
} from '@aws-sdk/client-ecr';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';
import { buildOciImage, ecrCredentials, pushOciImage } from '../../support/oci-image';
import { runAction, type ActionRun } from '../../support/run-action';
import { localAwsEnv } from './sample-image';

interface Counters {
  blobBytes: number;
  blobsUploaded: number;
  blobsMounted: number;
}

let aws: LocalAws;
let ecr: ECRClient;
let dir: string;
const digests: Record<string, string> = {};

function counters(repository: string): Counters {
  const service = aws.ecr as unknown as { uploadCounters: (name: string) => Counters };
  const { blobBytes, blobsUploaded, blobsMounted } = service.uploadCounters(repository);
  return { blobBytes, blobsUploaded, blobsMounted };
}

async function act(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction('build-and-push', { cwd: dir, env: localAwsEnv(aws.endpoint, dir), inputs });
}

async function images(repository: string): Promise<{ digest?: string; tags: string[] }[]> {
  const out = await ecr.send(new DescribeImagesCommand({ repositoryName: repository }));
  return (out.imageDetails ?? [])
    .map((d) => ({ digest: d.imageDigest, tags: [...(d.imageTags ?? [])].sort() }))
    .sort((a, b) => String(a.digest).localeCompare(String(b.digest)));
}

async function repositoryExists(name: string): Promise<boolean> {
  try {
    await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
    return true;
  } catch (error) {
    if ((error as Error).name === 'RepositoryNotFoundException') return false;
    throw error;
  }
}

beforeAll(async () => {
  aws = await startLocalAws({ port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'build-and-push-promote-images-'));
  ecr = new ECRClient({
    region: 'us-east-1',
    endpoint: aws.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const credentials = await ecrCredentials(ecr);
  // What staging tested: one image per service, tagged with the commit.
  for (const name of ['api', 'worker']) {
    const repository = `team/${name}-staging`;
    await ecr.send(new CreateRepositoryCommand({ repositoryName: repository }));
    const image = buildOciImage({
      layers: [{ [`app/${name}.js`]: `console.log('${name}');\n`.repeat(200) }, { 'app/v': '1' }],
      config: { Cmd: ['node', `/app/${name}.js`] },
    });
    const pushed = await pushOciImage(image, {
      registry: aws.endpoint,
      repository,
      tag: 'abc1234',
      ...credentials,
    });
    digests[name] = pushed.digest;
  }
  // Production's api repository exists; the worker's is created by the step.
  await ecr.send(new CreateRepositoryCommand({ repositoryName: 'team/api-production' }));
});

afterAll(async () => {
  ecr?.destroy();
  await aws?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('build-and-push promoting several images against local-aws', () => {
  it('promotes two images from staging into production repositories by digest in one step', async () => {
    const host = aws.registryHost;
    const run = await act({
      'promote-from': `api@team/api-production=team/api-staging@${digests.api}\njobs@team/worker-production=team/worker-staging:abc1234`,
      tags: 'v1.2.0\nproduction',
      'create-repository': 'true',
    });
    expect(run.error).toBeUndefined();
    expect(run.code).toBe(0);

    const api = `${host}/team/api-production@${digests.api}`;
    const worker = `${host}/team/worker-production@${digests.worker}`;
    expect(run.outputs).toEqual({
      registry: host,
      images: JSON.stringify({ 'team/api-production': api, 'team/worker-production': worker }),
      'container-images': `api=${api}\njobs=${worker}`,
      tags: [
        `${host}/team/api-production:v1.2.0`,
        `${host}/team/api-production:production`,
        `${host}/team/worker-production:v1.2.0`,
        `${host}/team/worker-production:production`,
      ].join('\n'),
    });
    // The same images, by digest, under the new tags; no layer byte uploaded, every blob mounted.
    expect(await images('team/api-production')).toEqual([
      { digest: digests.api, tags: ['production', 'v1.2.0'] },
    ]);
    expect(await images('team/worker-production')).toEqual([
      { digest: digests.worker, tags: ['production', 'v1.2.0'] },
    ]);
    for (const name of ['team/api-production', 'team/worker-production']) {
      expect(counters(name)).toEqual({ blobBytes: 0, blobsUploaded: 0, blobsMounted: 3 });
    }
    expect(run.stdout).toContain('Using repository');
    expect(run.stdout).toContain(`Created repository ${host}/team/worker-production`);
    expect(run.stdout).toContain(
      `${host}/team/api-staging@${digests.api} is ${digests.api}; copied by digest: 3 blob(s) mounted, 0 already present, 0 B uploaded.`,
    );
    expect(run.stdout).toContain(
      `${host}/team/worker-staging:abc1234 is ${digests.worker}; copied by digest: 3 blob(s) mounted, 0 already present, 0 B uploaded.`,
    );

    expect(run.summary).toContain('2 images promoted by digest, nothing built');
    expect(run.summary.split('\n').filter((l) => /^\| `(api|jobs)` \|/.test(l))).toEqual([
      `| \`api\` | \`${host}/team/api-staging@${digests.api}\` | \`${api}\` | mount (copied by digest, blobs mounted) | \`v1.2.0\`, \`production\` |`,
      `| \`jobs\` | \`${host}/team/worker-staging:abc1234\` | \`${worker}\` (repository created by this run) | mount (copied by digest, blobs mounted) | \`v1.2.0\`, \`production\` |`,
    ]);
  });

  it('retags each image within its own repository, moving no layer', async () => {
    const before = ['team/api-staging', 'team/worker-staging'].map(counters);
    const run = await act({
      'promote-from': 'api@team/api-staging=abc1234\nworker@team/worker-staging=abc1234',
      tags: 'staging-passed',
    });
    expect(run.error).toBeUndefined();
    expect(run.outputs['container-images']).toBe(
      `api=${aws.registryHost}/team/api-staging@${digests.api}\nworker=${aws.registryHost}/team/worker-staging@${digests.worker}`,
    );
    expect(['team/api-staging', 'team/worker-staging'].map(counters)).toEqual(before);
    expect(await images('team/api-staging')).toEqual([
      { digest: digests.api, tags: ['abc1234', 'staging-passed'] },
    ]);
    expect(run.stdout).toContain(
      `${aws.registryHost}/team/worker-staging:abc1234 is ${digests.worker}; retagged with ECR PutImage (no layers moved).`,
    );
    expect(run.summary).toContain('| retag (retagged with ECR PutImage) | `staging-passed` |');
  });

  it('fails before any call when a line is bad, naming the input and the line, and tags nothing', async () => {
    const before = await images('team/api-production');
    const run = await act({
      'promote-from': `team/api-production=team/api-staging@${digests.api}\nteam/web-production=team/web-staging`,
      tags: 'v2.0.0',
      'create-repository': 'true',
    });
    expect(run.code).toBe(1);
    expect(run.error).toBe(
      'Invalid configuration: Input `promote-from` line 2 (`team/web-production=team/web-staging`) must promote an image reference: a tag, a digest (`sha256:…`), `repository:tag`, `repository@sha256:…` or an ECR image URI with a tag or digest.',
    );
    expect(await images('team/api-production')).toEqual(before);
    expect(await repositoryExists('team/web-production')).toBe(false);
    expect(run.stdout).not.toMatch(/(Using|Created) repository/);
  });

  it.each([
    [
      'one image',
      (): Record<string, string> => ({
        repository: 'team/lost-production',
        'promote-from': 'team/api-staging:nope',
      }),
    ],
    [
      'lines',
      (): Record<string, string> => ({
        'promote-from': `team/api-production=team/api-staging@${digests.api}\nteam/lost-production=team/api-staging:nope`,
      }),
    ],
  ])(
    'names a missing source before creating any repository (%s), and tags nothing',
    async (_form, inputs) => {
      const before = await images('team/api-production');
      const run = await act({ ...inputs(), tags: 'v3.0.0', 'create-repository': 'true' });
      expect(run.code).toBe(1);
      expect(run.error).toMatch(
        /^The image to promote, `[^`]+\/team\/api-staging:nope`, does not exist\./,
      );
      expect(await repositoryExists('team/lost-production')).toBe(false);
      expect(await images('team/api-production')).toEqual(before);
    },
  );
});
