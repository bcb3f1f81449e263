import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';
import { runAction, type ActionRun } from '../../support/run-action';
import {
  ensureBuildah,
  localAwsEnv,
  privateStorageEnv,
  removePrivateStorage,
  SAMPLE_CONTEXT,
  TEST_SHA,
} from './sample-image';

interface Counters {
  blobBytes: number;
  blobsUploaded: number;
  blobsMounted: number;
}

let aws: LocalAws;
let ecr: ECRClient;
let dir: string;
let env: Record<string, string>;
const runs: ActionRun[] = [];

function counters(repository: string): Counters {
  const service = aws.ecr as unknown as { uploadCounters?: (name: string) => Counters };
  if (!service.uploadCounters) throw new Error('local-aws does not expose upload counters');
  return service.uploadCounters(repository);
}

async function act(
  inputs: Record<string, string>,
  extraEnv: Record<string, string> = {},
): Promise<ActionRun> {
  const run = await runAction('build-and-push', {
    cwd: SAMPLE_CONTEXT,
    env: { ...env, ...extraEnv },
    inputs: { builder: 'buildah', ...inputs },
  });
  runs.push(run);
  return run;
}

async function describe_(repository: string): Promise<{ digest?: string; tags: string[] }[]> {
  const out = await ecr.send(new DescribeImagesCommand({ repositoryName: repository }));
  return (out.imageDetails ?? []).map((d) => ({
    digest: d.imageDigest,
    tags: [...(d.imageTags ?? [])].sort(),
  }));
}

async function registryGet(path: string): Promise<unknown> {
  const token = await ecr.send(new GetAuthorizationTokenCommand({}));
  const auth = token.authorizationData?.[0]?.authorizationToken as string;
  const res = await fetch(`${aws.endpoint}${path}`, {
    headers: {
      authorization: `Basic ${auth}`,
      accept:
        'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return res.json();
}

/** The log with the `::add-mask::` lines taken out. */
function logWithoutMasks(run: ActionRun): string {
  return `${run.stdout.replace(/^::add-mask::.*$/gm, '')}\n${run.stderr}`;
}

beforeAll(async () => {
  ensureBuildah();
  aws = await startLocalAws({ port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'build-and-push-e2e-'));
  env = { ...localAwsEnv(aws.endpoint, dir), ...privateStorageEnv(dir) };
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

afterEach(() => {
  // No credential in any log: every masked value appears only in its own mask command.
  for (const run of runs.splice(0)) {
    const log = logWithoutMasks(run);
    for (const secret of run.masked) expect(log.includes(secret)).toBe(false);
  }
});

describe('build-and-push against local-aws', () => {
  let built: ActionRun;

  it('builds with buildah, pushes, and ECR shows every tag with the output digest', async () => {
    const day = (): string => new Date().toISOString().slice(0, 10).replace(/-/g, '');
    const dayBefore = day();
    built = await act({
      repository: 'sample',
      'create-repository': 'true',
      tags: '{{short-sha}}\n{{branch}}-{{date}}\nlatest',
    });
    expect(built.error).toBeUndefined();
    expect(built.code).toBe(0);
    const { digest, image, tags, action, registry } = built.outputs;
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(registry).toBe(aws.registryHost);
    expect(image).toBe(`${aws.registryHost}/sample@${digest}`);
    expect(action).toBe('built');
    // The run may cross midnight (UTC): its {{date}} is the day it started or the next one.
    const dayAfter = day();
    const date = tags.includes(`main-${dayBefore}`) ? dayBefore : dayAfter;
    const expected = ['5a3f1c9', `main-${date}`, 'latest'];
    expect(tags.split('\n')).toEqual(expected.map((t) => `${aws.registryHost}/sample:${t}`));
    expect(await describe_('sample')).toEqual([{ digest, tags: [...expected].sort() }]);

    // The OCI labels are in the image config.
    const manifest = (await registryGet(`/v2/sample/manifests/${digest}`)) as {
      config: { digest: string };
    };
    const config = (await registryGet(`/v2/sample/blobs/${manifest.config.digest}`)) as {
      config: { Labels: Record<string, string> };
    };
    expect(config.config.Labels).toMatchObject({
      'org.opencontainers.image.revision': TEST_SHA,
      'org.opencontainers.image.source': 'https://github.com/acme/sample',
      'org.opencontainers.image.version': '5a3f1c9',
    });
    expect(config.config.Labels['org.opencontainers.image.created']).toMatch(/^\d{4}-\d{2}-\d{2}T/);

    // The registry speaks plain HTTP and buildah's settings were chosen for this machine.
    expect(built.stdout).toContain(`The registry ${aws.registryHost} speaks plain HTTP`);
    expect(built.stdout).toMatch(
      /buildah settings for this machine: storage driver \w+; isolation \w+/,
    );
    expect(built.summary).toContain(
      `| \`${aws.registryHost}/sample:latest\` | \`${digest}\` | tagged |`,
    );
    expect(built.summary).toMatch(
      /\*\*Image size \(compressed layers\)\*\* \| (\d+ B|\d+\.\d\d? KiB) \|/,
    );
    expect(built.summary).toMatch(/\*\*Build time\*\* \| /);
    expect(built.summary).toContain('| **Cache** | off |');
    expect(built.masked.length).toBeGreaterThan(0);
  });

  it('keeps the login in a config private to the job, and the post step removes it', async () => {
    const workDir = built.state['work-dir'];
    expect(workDir.startsWith(join(tmpdir()))).toBe(true);
    expect(existsSync(join(workDir, 'auth', 'config.json'))).toBe(true);
    const post = await runAction('build-and-push', { entry: 'post', state: built.state });
    runs.push(post);
    expect(post.code).toBe(0);
    expect(post.stdout).toContain(`Removed the registry login for ${aws.registryHost}`);
    expect(existsSync(workDir)).toBe(false);
  });

  it('reuses the image of the same commit with skip-if-exists: nothing built, same digest', async () => {
    const before = counters('sample');
    const run = await act({
      repository: 'sample',
      'skip-if-exists': 'true',
      tags: '{{short-sha}}\nreused',
    });
    expect(run.error).toBeUndefined();
    expect(run.outputs.action).toBe('reused');
    expect(run.outputs.digest).toBe(built.outputs.digest);
    expect(run.stdout).not.toMatch(/^STEP /m);
    expect(counters('sample')).toEqual(before);
    expect((await describe_('sample'))[0].tags).toContain('reused');
  });

  it('promotes within one repository by retagging: same digest, zero layer bytes', async () => {
    const before = counters('sample');
    const run = await act({ repository: 'sample', 'promote-from': '5a3f1c9', tags: 'production' });
    expect(run.error).toBeUndefined();
    expect(run.outputs).toMatchObject({ action: 'promoted', digest: built.outputs.digest });
    expect(run.stdout).toContain('retagged with ECR PutImage (no layers moved)');
    expect(counters('sample')).toEqual(before);
  });

  it('promotes into a production repository by digest: blobs mounted, zero layer bytes uploaded', async () => {
    const run = await act({
      repository: `${aws.registryHost}/sample-prod`,
      'create-repository': 'true',
      'promote-from': `sample@${built.outputs.digest}`,
      tags: 'v1.0.0',
    });
    expect(run.error).toBeUndefined();
    expect(run.outputs).toMatchObject({
      action: 'promoted',
      digest: built.outputs.digest,
      image: `${aws.registryHost}/sample-prod@${built.outputs.digest}`,
    });
    const prod = counters('sample-prod');
    expect(prod.blobBytes).toBe(0);
    expect(prod.blobsMounted).toBeGreaterThan(0);
    expect(await describe_('sample-prod')).toEqual([
      { digest: built.outputs.digest, tags: ['v1.0.0'] },
    ]);
  });

  it('fails clearly when an immutable tag would move, and accepts the same digest', async () => {
    await ecr.send(
      new CreateRepositoryCommand({
        repositoryName: 'sample-locked',
        imageTagMutability: 'IMMUTABLE',
      }),
    );
    const same = await act({
      repository: 'sample-locked',
      'promote-from': `sample@${built.outputs.digest}`,
      tags: 'v1',
    });
    expect(same.error).toBeUndefined();
    const again = await act({
      repository: 'sample-locked',
      'promote-from': `sample@${built.outputs.digest}`,
      tags: 'v1',
    });
    expect(again.error).toBeUndefined();
    expect(again.stdout).toContain('v1: already there');

    const rebuilt = await act({
      repository: 'sample-locked',
      tags: 'v1',
      'build-args': 'APP_VERSION=2',
    });
    expect(rebuilt.code).toBe(1);
    expect(rebuilt.error).toMatch(
      new RegExp(
        `^Tag \`v1\` already exists in the immutable repository \`sample-locked\` and names ${built.outputs.digest}, not sha256:[a-f0-9]{64}\\. Immutable tags cannot move`,
      ),
    );
    expect((await describe_('sample-locked')).find((i) => i.tags.includes('v1'))?.digest).toBe(
      built.outputs.digest,
    );
  });

  it('builds several platforms into one index and pushes it by digest', async () => {
    const run = await act({
      repository: 'sample-multi',
      'create-repository': 'true',
      platforms: 'linux/amd64,linux/arm64',
    });
    expect(run.error).toBeUndefined();
    const index = (await registryGet(`/v2/sample-multi/manifests/${run.outputs.digest}`)) as {
      mediaType: string;
      manifests: { platform: { architecture: string } }[];
    };
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m) => m.platform.architecture).sort()).toEqual(['amd64', 'arm64']);
    // The platform images are listed untagged next to the tagged index, as in ECR.
    expect((await describe_('sample-multi')).filter((i) => i.tags.length)).toEqual([
      { digest: run.outputs.digest, tags: ['5a3f1c9', 'latest'] },
    ]);
  });

  it('with push: false builds but creates no repository (nor the cache one), even with create-repository: true, and writes no tag', async () => {
    const before = (await ecr.send(new DescribeRepositoriesCommand({}))).repositories ?? [];
    const run = await act({
      repository: 'never-created',
      'create-repository': 'true',
      cache: 'true',
      push: 'false',
      tags: 'would-be',
    });
    expect(run.error).toBeUndefined();
    expect(run.code).toBe(0);
    expect(run.outputs.image ?? '').toBe('');
    expect(run.outputs.tags).toBe(`${aws.registryHost}/never-created:would-be`);
    expect(run.stdout).toContain('does not exist; `push` is false, so it is not created.');
    expect(run.stdout).toContain('building without the registry cache');
    expect(run.summary).toContain('not written (`push` is false)');
    expect(run.summary).not.toContain('| tagged |');
    expect(run.summary).not.toContain('created by this run');
    const after = (await ecr.send(new DescribeRepositoriesCommand({}))).repositories ?? [];
    expect(after.map((r) => r.repositoryName)).toEqual(before.map((r) => r.repositoryName));
  });

  it('keeps the layer cache in the registry with cache: true and says whether it was used', async () => {
    const run = await act({
      repository: 'sample',
      cache: 'true',
      'create-repository': 'true',
      tags: 'cached',
    });
    expect(run.error).toBeUndefined();
    expect(run.stdout).toContain(`Pushing cache ${aws.registryHost}/sample-cache:`);
    expect(run.summary).toMatch(
      new RegExp(
        `\\| \\*\\*Cache\\*\\* \\| (used|not used): \\d+ of \\d+ steps from the cache \\(${aws.registryHost}/sample-cache\\) \\|`,
      ),
    );
    expect((await describe_('sample-cache')).length).toBeGreaterThan(0);
  });

  it('with push: false reads the layer cache but writes nothing to it', async () => {
    const before = await describe_('sample-cache');
    const run = await act({
      repository: 'sample',
      cache: 'true',
      push: 'false',
      'build-args': 'APP_VERSION=never-cached',
      tags: 'not-pushed',
    });
    expect(run.error).toBeUndefined();
    expect(run.stdout).not.toContain('Pushing cache');
    expect(await describe_('sample-cache')).toEqual(before);
  });

  it.each([
    ['../api', /^Invalid configuration: Input `repository` must be an ECR repository name/],
    [
      'registry.example.com/api2',
      /^Invalid configuration: Input `repository` names the registry `registry\.example\.com`, which is not an ECR registry/,
    ],
    [
      'localhost/api3',
      /^Invalid configuration: Input `repository` names the registry `localhost`, which is not an ECR registry/,
    ],
  ])('refuses the repository %j before creating anything in ECR', async (repository, message) => {
    const before = (await ecr.send(new DescribeRepositoriesCommand({}))).repositories ?? [];
    const run = await act({ repository, 'create-repository': 'true' });
    expect(run.code).toBe(1);
    expect(run.error).toMatch(message);
    const after = (await ecr.send(new DescribeRepositoriesCommand({}))).repositories ?? [];
    expect(after.map((r) => r.repositoryName)).toEqual(before.map((r) => r.repositoryName));
  });

  it.each([
    [
      'a broken Dockerfile, with the failing step first',
      { repository: 'sample', file: 'broken.Dockerfile' },
      /^Build failed at STEP 3\/\d+: COPY missing-file\.js \/app\/missing-file\.js: .*no such file or directory/,
    ],
    [
      'a target stage the Dockerfile does not have, naming the input',
      { repository: 'sample', target: 'nostage', 'create-repository': 'true' },
      /^Build failed: The target "nostage" was not found in the provided Dockerfile[\s\S]*\. Input `target` must name a stage of the Dockerfile \(`FROM … AS <name>`\); got `nostage`\.$/,
    ],
    [
      'a missing repository without create-repository',
      { repository: 'does-not-exist' },
      /^Repository `does-not-exist` does not exist\. Create it \(or set `create-repository: true`/,
    ],
    [
      'an unknown tag placeholder',
      { repository: 'sample', tags: 'v-{{commit}}' },
      /^Invalid configuration: Input `tags`: `v-\{\{commit\}\}` uses the unknown placeholder `\{\{commit\}\}`/,
    ],
    [
      'a tag template that cannot make a tag',
      { repository: 'sample', tags: 'release candidate' },
      /^Invalid configuration: Input `tags`: `release candidate` cannot make a tag/,
    ],
    [
      'skip-if-exists without a tag made from the commit',
      { repository: 'sample', tags: 'latest', 'skip-if-exists': 'true' },
      /^Invalid configuration: Input `skip-if-exists` looks for the tag made from the commit/,
    ],
    [
      'promote-from an image that does not exist',
      { repository: 'sample', 'promote-from': 'no-such-tag', tags: 'x' },
      /^The image to promote, `[^`]+\/sample:no-such-tag`, does not exist\./,
    ],
  ])('fails on %s with a clear message', async (_name, inputs, message) => {
    const run = await act(inputs);
    expect(run.code).toBe(1);
    expect(run.error).toMatch(message);
  });
});
