import {
  buildAndPublish,
  type BuildAndPublishOptions,
} from '../../../packages/image/src/build-and-publish';
import { TagConflictError } from '../../../packages/image/src/ecr';
import { ImageError } from '../../../packages/image/src/errors';
import { MEDIA_TYPES } from '../../../packages/image/src/registry';
import { ActionFailure } from '../../../packages/kit/src/errors';
import { FakeEcr } from './fake-ecr';
import { FakeBuilder, FakeRegistry, memoryImage, recorder, steppingClock } from './fake-image';

function setup(
  opts: { mutability?: string; builder?: FakeBuilder; image?: ReturnType<typeof memoryImage> } = {},
) {
  const ecr = new FakeEcr();
  const repository = ecr.addRepository('api', opts.mutability);
  const registry = new FakeRegistry(ecr);
  const image = opts.image ?? memoryImage(['layer one', 'layer two, longer']);
  const builder =
    opts.builder ??
    new FakeBuilder(
      () => ({ digest: image.digest, layout: image, pushed: false, cacheHits: 1, steps: 2 }),
      ['storage driver vfs'],
    );
  const progress = recorder();
  const options: BuildAndPublishOptions = {
    ecr,
    repository,
    host: ecr.host,
    builder,
    login: {
      auth: { baseUrl: `https://${ecr.host}`, username: 'AWS', password: 'pw' },
      host: ecr.host,
      insecure: false,
    },
    registry,
    spec: {
      context: '/src',
      buildArgs: new Map([['A', '1']]),
      secrets: new Map(),
      labels: new Map(),
      platforms: [],
    },
    tags: ['abc1234', 'latest'],
    push: true,
    workDir: '/w',
    authFile: '/w/auth/config.json',
    env: {},
    clock: steppingClock(1500),
    progress,
  };
  return { ecr, repository, registry, image, builder, progress, options };
}

describe('buildAndPublish', () => {
  it('logs in before building, pushes the blobs and the manifest by digest, then tags with ECR', async () => {
    const { ecr, registry, image, builder, progress, options } = setup();
    const result = await buildAndPublish(options);

    expect(builder.calls).toEqual(['prepare', `login ${ecr.host} AWS:pw`, 'build']);
    expect(builder.request).toMatchObject({
      destination: `${ecr.host}/api`,
      push: true,
      context: '/src',
    });
    expect(new Set(registry.uploads)).toEqual(new Set(image.blobs.keys()));
    expect(registry.manifests).toEqual([`api@${image.digest}`]);
    expect(ecr.calls.filter((c) => c.startsWith('PutImage'))).toEqual([
      'PutImage api:abc1234',
      'PutImage api:latest',
    ]);
    expect(result).toMatchObject({
      digest: image.digest,
      pushed: true,
      buildMs: 1500,
      settings: ['storage driver vfs'],
      alreadyPresent: false,
      sizeBytes: 'layer one'.length + 'layer two, longer'.length,
      tags: [
        { tag: 'abc1234', status: 'tagged' },
        { tag: 'latest', status: 'tagged' },
      ],
    });
    expect(result.stats).toMatchObject({ blobsUploaded: 3, blobsPresent: 0 });
    expect(progress.lines).toEqual([
      'buildah settings for this machine: storage driver vfs.',
      '[Registry login]',
      expect.stringMatching(/^Logged in to /),
      '[Build (buildah)]',
      'output: STEP 1/2: FROM scratch',
      `Built ${image.digest} in 1.5s.`,
      '[Push]',
      expect.stringMatching(
        /^Pushed api@sha256:[a-f0-9]{64}: 3 blob\(s\) uploaded \(\d+ B\), 0 already present\.$/,
      ),
      '  abc1234: tagged',
      '  latest: tagged',
    ]);
  });

  it('uploads only the blobs the repository lacks, and nothing when it holds the image', async () => {
    const first = setup();
    await buildAndPublish(first.options);
    const again = await buildAndPublish({ ...first.options, tags: ['abc1234'] });
    expect(again.alreadyPresent).toBe(true);
    expect(again.stats?.blobsUploaded).toBe(0);
    expect(again.tags).toEqual([{ tag: 'abc1234', status: 'unchanged' }]);
    expect(first.progress.lines).toContain(
      `api@${first.image.digest} was already in the registry.`,
    );
  });

  it('with push false builds only: nothing reaches the registry or ECR, and the size comes from the layout', async () => {
    const { ecr, registry, builder, options } = setup();
    const result = await buildAndPublish({ ...options, push: false });
    expect(builder.request?.push).toBe(false);
    expect(registry.uploads).toEqual([]);
    expect(registry.manifests).toEqual([]);
    expect(ecr.calls).toEqual([]);
    expect(result.stats).toBeUndefined();
    expect(result).toMatchObject({
      pushed: false,
      sizeBytes: 'layer one'.length + 'layer two, longer'.length,
      tags: [
        { tag: 'abc1234', status: 'tagged' },
        { tag: 'latest', status: 'tagged' },
      ],
    });
  });

  it('tags an image the builder pushed itself, reading its manifest from ECR', async () => {
    const image = memoryImage(['x']);
    const builder = new FakeBuilder(() => ({
      digest: image.digest,
      pushed: true,
      cacheHits: 0,
      steps: 1,
    }));
    const { ecr, registry, options } = setup({ builder, image });
    ecr.storeManifest('api', {
      digest: image.digest,
      manifest: (await image.manifest(image.digest)).bytes.toString('utf8'),
      mediaType: MEDIA_TYPES.ociManifest,
    });
    const result = await buildAndPublish(options);
    expect(builder.calls).toEqual([`login ${ecr.host} AWS:pw`, 'build']);
    expect(registry.uploads).toEqual([]);
    expect(result.tags.map((t) => t.status)).toEqual(['tagged', 'tagged']);
    expect(result.sizeBytes).toBe(1000);
  });

  it('fails as an action failure when the builder says it pushed an image the repository lacks', async () => {
    const builder = new FakeBuilder(() => ({
      digest: `sha256:${'b'.repeat(64)}`,
      pushed: true,
      cacheHits: 0,
      steps: 1,
    }));
    const { options } = setup({ builder });
    const attempt = buildAndPublish(options);
    await expect(attempt).rejects.toThrow(ImageError);
    await expect(buildAndPublish(options)).rejects.toThrow(ActionFailure);
    await expect(buildAndPublish(options)).rejects.toThrow(
      `The builder pushed sha256:${'b'.repeat(64)}, but the repository api does not hold it.`,
    );
  });

  it('writes no tag when an immutable tag names another image', async () => {
    const { ecr, options } = setup({ mutability: 'IMMUTABLE' });
    const old = ecr.addImage('api', 'old', ['latest']);
    const attempt = buildAndPublish(options);
    await expect(attempt).rejects.toThrow(TagConflictError);
    await expect(attempt).rejects.toThrow(ActionFailure);
    await expect(attempt).rejects.toThrow(`names ${old.digest}`);
    expect(ecr.calls.filter((c) => c.startsWith('PutImage'))).toEqual([]);
  });
});
