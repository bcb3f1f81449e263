import type { BuildRequest } from '../../../packages/image/src/builder';
import {
  imageRevision,
  ImagesIncompleteError,
  publishImages,
  type ImageJob,
  type PublishImagesOptions,
} from '../../../packages/image/src/publish-images';
import { BuilderError } from '../../../packages/image/src/errors';
import { FakeEcr } from './fake-ecr';
import { FakeBuilder, FakeRegistry, memoryImage, recorder, sha, steppingClock } from './fake-image';

const OLD_SHA = '1111111111111111111111111111111111111111';

function setup() {
  const ecr = new FakeEcr();
  const api = ecr.addRepository('team/api');
  const worker = ecr.addRepository('team/worker');
  const registry = new FakeRegistry(ecr);
  const images = {
    'team/api': memoryImage(['api layer'], { 'org.opencontainers.image.revision': OLD_SHA }),
    'team/worker': memoryImage(['worker layer', 'worker deps']),
  };
  const imageFor = (req: BuildRequest) =>
    images[req.destination.slice(ecr.host.length + 1) as keyof typeof images];
  const builder = new FakeBuilder((req) => ({
    digest: imageFor(req).digest,
    layout: imageFor(req),
    pushed: false,
    cacheHits: 0,
    steps: 1,
  }));
  const progress = recorder();
  const spec = (context: string) => ({
    context,
    buildArgs: new Map(),
    secrets: new Map(),
    labels: new Map(),
    platforms: [],
  });
  const jobs: ImageJob[] = [
    { repository: api, spec: spec('/src/api'), tags: ['abc1234'], contentTag: 'content-api-1' },
    {
      repository: worker,
      spec: spec('/src/worker'),
      tags: ['abc1234'],
      contentTag: 'content-worker-1',
    },
  ];
  const options: PublishImagesOptions = {
    ecr,
    host: ecr.host,
    builder,
    login: {
      auth: { baseUrl: `https://${ecr.host}`, username: 'AWS', password: 'pw' },
      host: ecr.host,
      insecure: false,
    },
    registry,
    jobs,
    push: true,
    workDir: '/w',
    authFile: '/w/auth/config.json',
    env: {},
    clock: steppingClock(1000),
    progress,
    reader: (repository) => images[repository as keyof typeof images],
  };
  return { ecr, registry, images, builder, progress, jobs, options };
}

describe('publishImages', () => {
  it('when a build fails, names that image, the images pushed already and those not built', async () => {
    const { ecr, images, options } = setup();
    const failing = new FakeBuilder((req) => {
      if (req.destination.endsWith('/team/worker'))
        throw new BuilderError('Build failed at STEP 3/8: COPY missing-file.js /app/');
      return {
        digest: images['team/api'].digest,
        layout: images['team/api'],
        pushed: false,
        cacheHits: 0,
        steps: 1,
      };
    });
    const error = await publishImages({ ...options, builder: failing }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImagesIncompleteError);
    expect((error as Error).message).toBe(
      `Publishing \`${ecr.host}/team/worker\` failed: Build failed at STEP 3/8: COPY missing-file.js /app/. Published already (their tags stay): \`${ecr.host}/team/api@${images['team/api'].digest}\`. Not published: \`${ecr.host}/team/worker\`.`,
    );
  });

  it('builds every image with one login, and tags each with its content tag too', async () => {
    const { ecr, builder, images, progress, options } = setup();
    const results = await publishImages(options);
    expect(builder.calls).toEqual([`login ${ecr.host} AWS:pw`, 'build', 'build']);
    expect(results.map((r) => [r.repository, r.action, r.digest])).toEqual([
      ['team/api', 'built', images['team/api'].digest],
      ['team/worker', 'built', images['team/worker'].digest],
    ]);
    expect(results[0].tags).toEqual([
      { tag: 'abc1234', status: 'tagged' },
      { tag: 'content-api-1', status: 'tagged' },
    ]);
    expect(progress.lines).toContain('[Build team/api (buildah)]');
    expect(progress.lines).toContain('[Push team/worker]');
  });

  it('promotes an image whose content tag exists by digest, with no upload, and rebuilds only the other', async () => {
    const { ecr, registry, builder, images, progress, jobs, options } = setup();
    await publishImages(options);
    const uploadsBefore = registry.uploads.length;
    const next = jobs.map((j) => ({ ...j, tags: ['def5678'] }));
    next[1].contentTag = 'content-worker-2';
    images['team/worker'] = memoryImage(['worker layer, changed']);
    builder.calls.length = 0;

    const results = await publishImages({ ...options, jobs: next });
    expect(results.map((r) => r.action)).toEqual(['unchanged', 'built']);
    expect(results[0]).toMatchObject({
      digest: images['team/api'].digest,
      builtFrom: OLD_SHA,
      tags: [{ tag: 'def5678', status: 'tagged' }],
    });
    expect(builder.calls).toEqual([`login ${ecr.host} AWS:pw`, 'build']);
    // Only the worker's new layer was uploaded; nothing of the api image.
    expect(registry.uploads.slice(uploadsBefore)).toEqual([
      sha(Buffer.from('worker layer, changed')),
    ]);
    expect(ecr.calls.filter((c) => c.startsWith('PutImage team/api'))).toEqual([
      'PutImage team/api:abc1234',
      'PutImage team/api:content-api-1',
      'PutImage team/api:def5678',
    ]);
    expect(progress.lines).toContain(
      `${ecr.host}/team/api:content-api-1 is ${images['team/api'].digest}, built from ${OLD_SHA}: its build inputs are unchanged, so it is tagged for this commit instead of rebuilt.`,
    );
  });

  it('neither sets up nor logs in the builder when no image needs building', async () => {
    const { builder, jobs, options } = setup();
    await publishImages(options);
    builder.calls.length = 0;
    const results = await publishImages({
      ...options,
      jobs: jobs.map((j) => ({ ...j, tags: ['def5678'] })),
    });
    expect(results.map((r) => r.action)).toEqual(['unchanged', 'unchanged']);
    expect(results[1].builtFrom).toBeUndefined();
    expect(builder.calls).toEqual([]);
  });

  it("reuses the image of this commit's tag before looking at the content tag", async () => {
    const { ecr, builder, jobs, options } = setup();
    const old = ecr.addImage('team/api', 'old', ['abc1234']);
    const results = await publishImages({
      ...options,
      jobs: [{ ...jobs[0], commitTag: 'abc1234' }],
    });
    expect(results).toEqual([expect.objectContaining({ action: 'reused', digest: old.digest })]);
    expect(builder.calls).toEqual([]);
  });

  it('with push false builds without looking in the registry', async () => {
    const { ecr, options } = setup();
    const results = await publishImages({ ...options, push: false });
    expect(results.map((r) => r.action)).toEqual(['built', 'built']);
    expect(ecr.calls).toEqual([]);
  });
});

describe('imageRevision', () => {
  it('reads the revision label of the image config, and undefined when it has none', async () => {
    const labelled = memoryImage(['x'], { 'org.opencontainers.image.revision': OLD_SHA });
    expect(await imageRevision(labelled, labelled.digest)).toBe(OLD_SHA);
    const bare = memoryImage(['y']);
    expect(await imageRevision(bare, bare.digest)).toBeUndefined();
  });
});
