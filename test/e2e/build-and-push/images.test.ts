import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';
import { runAction, type ActionRun } from '../../support/run-action';
import {
  ensureBuildah,
  localAwsEnv,
  privateStorageEnv,
  removePrivateStorage,
} from './sample-image';

interface Counters {
  blobBytes: number;
  blobsUploaded: number;
  manifestsPut: number;
}

let aws: LocalAws;
let ecr: ECRClient;
let dir: string;
let repo: string;
let storage: Record<string, string>;
const posts: ActionRun[] = [];

function counters(repository: string): Counters {
  const service = aws.ecr as unknown as { uploadCounters: (name: string) => Counters };
  const { blobBytes, blobsUploaded, manifestsPut } = service.uploadCounters(repository);
  return { blobBytes, blobsUploaded, manifestsPut };
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] })
    .toString()
    .trim();
}

function write(path: string, text: string): void {
  mkdirSync(join(repo, path, '..'), { recursive: true });
  writeFileSync(join(repo, path), text);
}

/** Commits everything and returns the new commit's SHA. */
function commit(message: string): string {
  git('add', '-A');
  git('commit', '-q', '--allow-empty', '-m', message);
  return git('rev-parse', 'HEAD');
}

async function act(sha: string, inputs: Record<string, string>): Promise<ActionRun> {
  const run = await runAction('build-and-push', {
    cwd: repo,
    env: { ...localAwsEnv(aws.endpoint, dir, sha), ...storage },
    inputs: { builder: 'buildah', 'create-repository': 'true', ...inputs },
  });
  // The post step removes the login of each run, as on a runner.
  posts.push(await runAction('build-and-push', { entry: 'post', state: run.state }));
  return run;
}

async function tagsOf(repository: string, digest: string): Promise<string[]> {
  const out = await ecr.send(
    new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageDigest: digest }] }),
  );
  return [...(out.imageDetails?.[0]?.imageTags ?? [])].sort();
}

beforeAll(async () => {
  ensureBuildah();
  aws = await startLocalAws({ port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'build-and-push-images-e2e-'));
  storage = privateStorageEnv(dir);
  repo = join(dir, 'checkout');
  mkdirSync(repo);
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'dev@example.com');
  git('config', 'user.name', 'dev');
  for (const name of ['api', 'worker']) {
    write(
      `services/${name}/Dockerfile`,
      `FROM scratch\nARG APP_VERSION=dev\nCOPY ${name}.js /app/${name}.js\nCMD ["node", "/app/${name}.js"]\n`,
    );
    write(`services/${name}/${name}.js`, `console.log('${name} v1');\n`);
  }
  ecr = new ECRClient({
    region: 'us-east-1',
    endpoint: aws.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  ecr?.destroy();
  await aws?.stop();
  if (dir) removePrivateStorage(dir);
});

describe('build-and-push with several images against local-aws', () => {
  const images = 'team/api=services/api\njobs@team/worker=services/worker';
  let first: ActionRun;
  let firstSha: string;

  it('builds both images with one login, and outputs them by repository and by container', async () => {
    firstSha = commit('first');
    first = await act(firstSha, { images });
    expect(first.error).toBeUndefined();
    expect(first.code).toBe(0);
    const out = JSON.parse(first.outputs.images) as Record<string, string>;
    expect(Object.keys(out)).toEqual(['team/api', 'team/worker']);
    for (const [name, image] of Object.entries(out)) {
      expect(image).toMatch(new RegExp(`^${aws.registryHost}/${name}@sha256:[a-f0-9]{64}$`));
    }
    expect(first.outputs['container-images']).toBe(
      `api=${out['team/api']}\njobs=${out['team/worker']}`,
    );
    expect(first.outputs.registry).toBe(aws.registryHost);
    expect(first.stdout.match(/Logged in to /g)).toHaveLength(1);
    expect(first.summary).toContain('2 images: 2 built');
    expect(first.summary).toMatch(
      new RegExp(
        `\\| \`${aws.registryHost}/team/api\` \\(repository created by this run\\) \\| \`api\` \\| built \\|`,
      ),
    );
    const apiDigest = out['team/api'].split('@')[1];
    const apiTags = await tagsOf('team/api', apiDigest);
    expect(apiTags).toContain(firstSha.slice(0, 7));
    expect(apiTags.find((t) => t.startsWith('content-'))).toMatch(/^content-[a-f0-9]{40}$/);
    expect(posts.every((p) => p.code === 0)).toBe(true);
  });

  it('rebuilds only the image whose context changed and promotes the other by digest, uploading nothing for it', async () => {
    write('services/worker/worker.js', "console.log('worker v2');\n");
    const sha = commit('worker v2');
    const apiBefore = counters('team/api');
    const workerBefore = counters('team/worker');
    const before = JSON.parse(first.outputs.images) as Record<string, string>;

    const run = await act(sha, { images });
    expect(run.error).toBeUndefined();
    const out = JSON.parse(run.outputs.images) as Record<string, string>;
    // The api image is the same image, now under this commit's tag too; not a byte moved.
    expect(out['team/api']).toBe(before['team/api']);
    expect(counters('team/api')).toEqual(apiBefore);
    expect(await tagsOf('team/api', out['team/api'].split('@')[1])).toEqual(
      expect.arrayContaining([firstSha.slice(0, 7), sha.slice(0, 7)]),
    );
    // The worker was rebuilt: a new digest, and its new layer uploaded.
    expect(out['team/worker']).not.toBe(before['team/worker']);
    expect(counters('team/worker').blobBytes).toBeGreaterThan(workerBefore.blobBytes);
    expect(run.stdout).not.toMatch(/^STEP \d+\/\d+: COPY api\.js/m);
    expect(run.stdout).toMatch(/^STEP \d+\/\d+: COPY worker\.js/m);
    expect(run.summary).toContain('2 images: 1 built, 1 unchanged');
    expect(run.summary).toContain(
      `| unchanged | \`${before['team/api'].split('@')[1]}\` | \`${sha.slice(0, 7)}\`, \`latest\` | unchanged since \`${firstSha.slice(0, 7)}\`: not rebuilt, no layers moved |`,
    );
  });

  it('rebuilds an image when a build argument changes, though no file did', async () => {
    const sha = commit('nothing changed');
    const run = await act(sha, { images, 'build-args': 'APP_VERSION=2' });
    expect(run.error).toBeUndefined();
    expect(run.summary).toContain('2 images: 2 built');
  });

  it('with skip-unchanged, a single image is tagged for a new commit instead of rebuilt', async () => {
    const built = await act(git('rev-parse', 'HEAD'), {
      repository: 'single',
      context: 'services/api',
      'skip-unchanged': 'true',
    });
    expect(built.error).toBeUndefined();
    expect(built.outputs.action).toBe('built');
    expect(built.outputs.tags).toMatch(
      new RegExp(`^${aws.registryHost}/single:content-[a-f0-9]{40}$`, 'm'),
    );
    write('README.md', 'docs only\n');
    const sha = commit('docs');
    const before = counters('single');
    const again = await act(sha, {
      repository: 'single',
      context: 'services/api',
      'skip-unchanged': 'true',
    });
    expect(again.error).toBeUndefined();
    expect(again.outputs).toMatchObject({ action: 'unchanged', digest: built.outputs.digest });
    expect(counters('single')).toEqual(before);
    expect(again.summary).toContain(
      `unchanged since \`${built.outputs.tags.split('\n')[0].split(':').pop()}\``,
    );
  });

  it('fails before any call when a line is bad, naming the input and the line', async () => {
    const run = await act(git('rev-parse', 'HEAD'), {
      images: 'team/api=services/api\nteam/web=services/web',
    });
    expect(run.code).toBe(1);
    expect(run.error).toMatch(
      /^Invalid configuration: Input `images` line 2 \(`team\/web=services\/web`\) names the build context `services\/web`, which is not a directory/,
    );
  });
});
