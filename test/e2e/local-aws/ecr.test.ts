import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  ImageAlreadyExistsException,
  ImageDigestDoesNotMatchException,
  ImageNotFoundException,
  ImageTagAlreadyExistsException,
  LayersNotFoundException,
  ListImagesCommand,
  ListTagsForResourceCommand,
  PutImageCommand,
  PutImageTagMutabilityCommand,
  RepositoryAlreadyExistsException,
  RepositoryNotEmptyException,
  RepositoryNotFoundException,
  TagResourceCommand,
  UntagResourceCommand,
  paginateDescribeRepositories,
} from '@aws-sdk/client-ecr';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';
import type { LocalEcrService, UploadCounters } from '../../../packages/local-aws/src/ecr';
import {
  buildOciImage,
  buildOciIndex,
  makeTar,
  pushOciImage,
  sha256,
  type OciImage,
  type OciIndex,
} from '../../support/oci-image';

const ACCOUNT = '000000000000';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

let dataDir: string;
let aws: LocalAws;
let ecr: LocalEcrService;
let host: string;
let client: ECRClient;
let password: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'local-aws-ecr-'));
  aws = await startLocalAws({ dataDir: join(dataDir, 'aws') });
  ecr = aws.ecr as LocalEcrService;
  host = aws.registryHost;
  client = new ECRClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
  });
  const token = await client.send(new GetAuthorizationTokenCommand({}));
  const decoded = Buffer.from(token.authorizationData![0].authorizationToken!, 'base64').toString();
  password = decoded.slice('AWS:'.length);
});

afterAll(async () => {
  client?.destroy();
  await aws?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Paths under `dir` named `name`, without following symlinks. */
function filesNamed(dir: string, name: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesNamed(path, name);
    return entry.name === name ? [path] : [];
  });
}

/** Upload counters of a repository as `GET /_local/state` reports them. */
function uploads(repositoryName: string): UploadCounters {
  const state = aws.state() as { ecr: { uploads: Record<string, UploadCounters> } };
  const c = state.ecr.uploads[repositoryName];
  return {
    blobBytes: c?.blobBytes ?? 0,
    layerBytes: c?.layerBytes ?? 0,
    blobsUploaded: c?.blobsUploaded ?? 0,
    blobsMounted: c?.blobsMounted ?? 0,
    manifestsPut: c?.manifestsPut ?? 0,
  };
}

const auth = (): string => `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}`;
const registry = (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`http://${host}${path}`, {
    ...init,
    headers: { Authorization: auth(), ...(init.headers ?? {}) },
  });

async function createRepo(
  name: string,
  extra: Partial<{ imageTagMutability: 'MUTABLE' | 'IMMUTABLE' }> = {},
): Promise<void> {
  await client.send(new CreateRepositoryCommand({ repositoryName: name, ...extra }));
}

function push(
  image: OciImage | OciIndex,
  repository: string,
  tag?: string,
): ReturnType<typeof pushOciImage> {
  return pushOciImage(image, { registry: host, repository, tag, username: 'AWS', password });
}

const appImage = (version: string): OciImage =>
  buildOciImage({
    layers: [
      {
        'app/server.js': `console.log('hello ${version}')`,
        'app/lib/util.js': 'module.exports = 1;',
      },
      { 'app/VERSION': version },
    ],
    config: {
      Cmd: ['node', 'server.js'],
      WorkingDir: '/app',
      Env: [`VERSION=${version}`],
      ExposedPorts: { '8080/tcp': {} },
    },
  });

describe('authentication', () => {
  test('GetAuthorizationToken returns base64 AWS:<password>, an epoch expiry and the registry endpoint', async () => {
    const out = await client.send(new GetAuthorizationTokenCommand({}));
    const data = out.authorizationData![0];
    expect(Buffer.from(data.authorizationToken!, 'base64').toString()).toMatch(/^AWS:.+/);
    expect(data.proxyEndpoint).toBe(`http://${host}`);
    expect(data.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 11 * 3600 * 1000);
  });

  test.each([
    ['no credentials', undefined, 'Not Authorized'],
    [
      'a wrong password',
      `Basic ${Buffer.from('AWS:123.abc').toString('base64')}`,
      'invalid or has expired',
    ],
    ['a user other than AWS', 'user', 'invalid or has expired'],
  ])('GET /v2/ with %s is refused with a Basic challenge', async (_name, header, message) => {
    const value =
      header === 'user' ? `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` : header;
    const response = await fetch(`http://${host}/v2/`, {
      headers: value ? { Authorization: value } : {},
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+"/);
    expect(response.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    expect(
      ((await response.json()) as { errors: { message: string }[] }).errors[0].message,
    ).toContain(message);
  });

  test('GET /v2/ with the token succeeds, and so does nothing else without it', async () => {
    expect((await registry('/v2/')).status).toBe(200);
    await createRepo('auth/probe');
    const blob = await fetch(`http://${host}/v2/auth/probe/blobs/uploads/`, { method: 'POST' });
    expect(blob.status).toBe(401);
  });
});

describe('repositories', () => {
  test('CreateRepository returns a pushable URI and an ECR ARN; DescribeRepositories pages through them', async () => {
    const out = await client.send(
      new CreateRepositoryCommand({
        repositoryName: 'team/web',
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
        tags: [{ Key: 'env', Value: 'test' }],
      }),
    );
    expect(out.repository).toMatchObject({
      repositoryName: 'team/web',
      repositoryUri: `${host}/team/web`,
      repositoryArn: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/team/web`,
      registryId: ACCOUNT,
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
    });
    expect(out.repository!.createdAt).toBeInstanceOf(Date);
    for (const name of ['page/a', 'page/b', 'page/c']) await createRepo(name);
    const names: string[] = [];
    for await (const page of paginateDescribeRepositories({ client, pageSize: 2 }, {})) {
      expect(page.repositories!.length).toBeLessThanOrEqual(2);
      names.push(...page.repositories!.map((r) => r.repositoryName!));
    }
    expect(names).toEqual(expect.arrayContaining(['team/web', 'page/a', 'page/b', 'page/c']));
    const tags = await client.send(
      new ListTagsForResourceCommand({ resourceArn: out.repository!.repositoryArn }),
    );
    expect(tags.tags).toEqual([{ Key: 'env', Value: 'test' }]);
  });

  test.each([
    [
      'an unknown name',
      () => client.send(new DescribeRepositoriesCommand({ repositoryNames: ['nope/missing'] })),
      RepositoryNotFoundException,
    ],
    [
      'an existing name',
      () => client.send(new CreateRepositoryCommand({ repositoryName: 'page/a' })),
      RepositoryAlreadyExistsException,
    ],
    [
      'an unknown repository',
      () => client.send(new DeleteRepositoryCommand({ repositoryName: 'nope/missing' })),
      RepositoryNotFoundException,
    ],
  ])('%s raises the SDK exception', async (_name, call, type) => {
    await expect(call()).rejects.toBeInstanceOf(type);
  });

  test('an invalid repository name is refused as InvalidParameterException', async () => {
    await expect(
      client.send(new CreateRepositoryCommand({ repositoryName: 'Upper/Case' })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });

  test('TagResource and UntagResource change the repository tags', async () => {
    const { repository } = await client.send(
      new CreateRepositoryCommand({ repositoryName: 'tagged/repo' }),
    );
    const resourceArn = repository!.repositoryArn!;
    await client.send(
      new TagResourceCommand({
        resourceArn,
        tags: [
          { Key: 'a', Value: '1' },
          { Key: 'b', Value: '2' },
        ],
      }),
    );
    await client.send(new UntagResourceCommand({ resourceArn, tagKeys: ['a'] }));
    expect((await client.send(new ListTagsForResourceCommand({ resourceArn }))).tags).toEqual([
      { Key: 'b', Value: '2' },
    ]);
  });

  test('DeleteRepository refuses a repository with images unless forced', async () => {
    await createRepo('doomed/repo');
    await push(appImage('1'), 'doomed/repo', 'v1');
    await expect(
      client.send(new DeleteRepositoryCommand({ repositoryName: 'doomed/repo' })),
    ).rejects.toBeInstanceOf(RepositoryNotEmptyException);
    await client.send(new DeleteRepositoryCommand({ repositoryName: 'doomed/repo', force: true }));
    expect((await registry('/v2/doomed/repo/manifests/v1')).status).toBe(404);
  });
});

describe('push and describe', () => {
  beforeAll(async () => {
    await createRepo('push/errors');
  });

  test.each([['oci' as const], ['docker' as const]])(
    'an image pushed in %s format shows in DescribeImages with its digest, tags, size and media types',
    async (format) => {
      const repo = `push/${format}`;
      await createRepo(repo);
      const image = buildOciImage({
        files: { 'srv/app.txt': `format ${format}` },
        format,
        config: { Cmd: ['true'] },
      });
      const pushed = await push(image, repo, 'v1');
      expect(pushed).toMatchObject({ digest: image.digest, ref: `${host}/${repo}:v1` });
      const retagged = await push(image, repo, 'latest');
      expect(retagged.digest).toBe(image.digest);
      const { imageDetails } = await client.send(
        new DescribeImagesCommand({ repositoryName: repo }),
      );
      expect(imageDetails).toHaveLength(1);
      expect(imageDetails![0]).toMatchObject({
        registryId: ACCOUNT,
        repositoryName: repo,
        imageDigest: image.digest,
        imageTags: ['v1', 'latest'],
        imageSizeInBytes: image.layers.reduce((sum, l) => sum + l.data.length, 0),
        imageManifestMediaType: image.mediaType,
        artifactMediaType: image.config.mediaType,
      });
      expect(Math.abs(imageDetails![0].imagePushedAt!.getTime() - Date.now())).toBeLessThan(
        600_000,
      );
    },
  );

  test('the registry serves back the manifest and blobs with their digests, and lists tags', async () => {
    await createRepo('push/roundtrip');
    const image = appImage('rt');
    await push(image, 'push/roundtrip', 'v1');
    const manifest = await registry('/v2/push/roundtrip/manifests/v1');
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('content-type')).toBe(image.mediaType);
    expect(manifest.headers.get('docker-content-digest')).toBe(image.digest);
    expect(Buffer.from(await manifest.arrayBuffer()).equals(image.manifest)).toBe(true);
    const head = await registry(`/v2/push/roundtrip/manifests/${image.digest}`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(image.manifest.length));
    const layer = image.layers[0];
    const blob = await registry(`/v2/push/roundtrip/blobs/${layer.digest}`);
    expect(blob.headers.get('docker-content-digest')).toBe(layer.digest);
    expect(blob.headers.get('content-length')).toBe(String(layer.data.length));
    expect(Buffer.from(await blob.arrayBuffer()).equals(layer.data)).toBe(true);
    const part = await registry(`/v2/push/roundtrip/blobs/${layer.digest}`, {
      headers: { Range: 'bytes=10-' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(
      `bytes 10-${layer.data.length - 1}/${layer.data.length}`,
    );
    expect(Buffer.from(await part.arrayBuffer()).equals(layer.data.subarray(10))).toBe(true);
    expect(await (await registry('/v2/push/roundtrip/tags/list')).json()).toEqual({
      name: 'push/roundtrip',
      tags: ['v1'],
    });
  });

  test('a chunked upload with Content-Range is assembled, and a gap in the range is refused', async () => {
    await createRepo('push/chunked');
    const data = Buffer.from('0123456789abcdef'.repeat(100));
    const digest = sha256(data);
    const start = await registry('/v2/push/chunked/blobs/uploads/', { method: 'POST' });
    expect(start.status).toBe(202);
    expect(start.headers.get('docker-upload-uuid')).toBeTruthy();
    expect(start.headers.get('range')).toBe('0-0');
    let location = start.headers.get('location')!;
    const first = await registry(location, {
      method: 'PATCH',
      body: data.subarray(0, 1000),
      headers: { 'Content-Range': '0-999' },
    });
    expect(first.status).toBe(202);
    expect(first.headers.get('range')).toBe('0-999');
    location = first.headers.get('location')!;
    const gap = await registry(location, {
      method: 'PATCH',
      body: data.subarray(1200),
      headers: { 'Content-Range': '1200-1599' },
    });
    expect(gap.status).toBe(416);
    const status = await registry(location);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-999');
    await registry(location, {
      method: 'PATCH',
      body: data.subarray(1000),
      headers: { 'Content-Range': '1000-1599' },
    });
    const done = await registry(`${location}?digest=${digest}`, { method: 'PUT' });
    expect(done.status).toBe(201);
    expect(done.headers.get('docker-content-digest')).toBe(digest);
    expect(uploads('push/chunked')).toMatchObject({ blobBytes: 1600, blobsUploaded: 1 });
  });

  test.each([
    [
      'a blob whose content does not match its digest',
      async (): Promise<Response> => {
        const start = await registry('/v2/push/errors/blobs/uploads/', { method: 'POST' });
        return registry(`${start.headers.get('location')}?digest=${sha256('other')}`, {
          method: 'PUT',
          body: 'content',
        });
      },
      400,
      'DIGEST_INVALID',
    ],
    [
      'a manifest that references a blob the repository lacks',
      (): Promise<Response> => {
        const image = appImage('missing-blobs');
        return registry('/v2/push/errors/manifests/v1', {
          method: 'PUT',
          body: image.manifest,
          headers: { 'Content-Type': image.mediaType },
        });
      },
      400,
      'MANIFEST_BLOB_UNKNOWN',
    ],
    [
      'a manifest put by a digest that is not its own',
      (): Promise<Response> => {
        const image = appImage('x');
        return registry(`/v2/push/errors/manifests/${sha256('other')}`, {
          method: 'PUT',
          body: image.manifest,
          headers: { 'Content-Type': image.mediaType },
        });
      },
      400,
      'DIGEST_INVALID',
    ],
    [
      'an upload to a repository that does not exist',
      (): Promise<Response> => registry('/v2/push/none/blobs/uploads/', { method: 'POST' }),
      404,
      'NAME_UNKNOWN',
    ],
    [
      'an unknown manifest',
      (): Promise<Response> => registry('/v2/push/errors/manifests/nope'),
      404,
      'MANIFEST_UNKNOWN',
    ],
  ])('%s is refused', async (_name, call, status, code) => {
    const response = await call();
    expect(response.status).toBe(status);
    expect(((await response.json()) as { errors: { code: string }[] }).errors[0].code).toBe(code);
  });
});

describe('ECR image API', () => {
  let image: OciImage;
  beforeAll(async () => {
    await createRepo('api/app');
    image = appImage('api');
    await push(image, 'api/app', 'v1');
  });

  test('PutImage retags an existing manifest without uploading any layer', async () => {
    const before = uploads('api/app');
    const got = await client.send(
      new BatchGetImageCommand({ repositoryName: 'api/app', imageIds: [{ imageTag: 'v1' }] }),
    );
    const manifest = got.images![0].imageManifest!;
    const put = await client.send(
      new PutImageCommand({
        repositoryName: 'api/app',
        imageManifest: manifest,
        imageManifestMediaType: got.images![0].imageManifestMediaType,
        imageTag: 'prod',
      }),
    );
    expect(put.image!.imageId).toEqual({ imageDigest: image.digest, imageTag: 'prod' });
    const after = uploads('api/app');
    expect(after.blobBytes - before.blobBytes).toBe(0);
    const described = await client.send(
      new DescribeImagesCommand({ repositoryName: 'api/app', imageIds: [{ imageTag: 'prod' }] }),
    );
    expect(described.imageDetails![0]).toMatchObject({
      imageDigest: image.digest,
      imageTags: ['v1', 'prod'],
    });
  });

  test.each([
    ['the same tag and digest again', { imageTag: 'v1' }, ImageAlreadyExistsException],
    [
      'a digest that is not the manifest’s',
      { imageTag: 'v9', imageDigest: sha256('not it') },
      ImageDigestDoesNotMatchException,
    ],
  ])('PutImage with %s fails', async (_name, extra, type) => {
    await expect(
      client.send(
        new PutImageCommand({
          repositoryName: 'api/app',
          imageManifest: image.manifest.toString(),
          ...extra,
        }),
      ),
    ).rejects.toBeInstanceOf(type);
  });

  test('PutImage of a manifest whose layers were never pushed fails with LayersNotFoundException', async () => {
    const other = appImage('never-pushed');
    await expect(
      client.send(
        new PutImageCommand({
          repositoryName: 'api/app',
          imageManifest: other.manifest.toString(),
          imageTag: 'x',
        }),
      ),
    ).rejects.toBeInstanceOf(LayersNotFoundException);
  });

  test('BatchGetImage reports each missing or mismatched image as a failure', async () => {
    const out = await client.send(
      new BatchGetImageCommand({
        repositoryName: 'api/app',
        imageIds: [
          { imageTag: 'v1' },
          { imageTag: 'missing' },
          { imageDigest: sha256('nothing') },
          { imageTag: 'v1', imageDigest: sha256('nothing') },
          { imageDigest: 'sha256:short' },
        ],
      }),
    );
    expect(out.images!.map((i) => i.imageId)).toEqual([
      { imageDigest: image.digest, imageTag: 'v1' },
    ]);
    expect(out.failures!.map((f) => f.failureCode)).toEqual([
      'ImageNotFound',
      'ImageNotFound',
      'ImageTagDoesNotMatchDigest',
      'InvalidImageDigest',
    ]);
    expect(out.failures![0]).toMatchObject({
      imageId: { imageTag: 'missing' },
      failureReason: 'Requested image not found',
    });
  });

  test('DescribeImages of an unknown tag raises ImageNotFoundException', async () => {
    await expect(
      client.send(
        new DescribeImagesCommand({ repositoryName: 'api/app', imageIds: [{ imageTag: 'nope' }] }),
      ),
    ).rejects.toBeInstanceOf(ImageNotFoundException);
  });

  test('ListImages and BatchDeleteImage: deleting the last tag deletes the image', async () => {
    await createRepo('api/delete');
    const a = appImage('a');
    const b = appImage('b');
    await push(a, 'api/delete', 'a1');
    await push(a, 'api/delete', 'a2');
    await push(b, 'api/delete', 'b1');
    const listed = await client.send(new ListImagesCommand({ repositoryName: 'api/delete' }));
    expect(listed.imageIds).toHaveLength(3);
    const deleted = await client.send(
      new BatchDeleteImageCommand({
        repositoryName: 'api/delete',
        imageIds: [{ imageTag: 'a1' }, { imageTag: 'b1' }, { imageTag: 'zz' }],
      }),
    );
    expect(deleted.imageIds).toEqual([
      { imageDigest: a.digest, imageTag: 'a1' },
      { imageDigest: b.digest, imageTag: 'b1' },
    ]);
    expect(deleted.failures).toEqual([
      {
        imageId: { imageTag: 'zz' },
        failureCode: 'ImageNotFound',
        failureReason: 'Requested image not found',
      },
    ]);
    const left = await client.send(new DescribeImagesCommand({ repositoryName: 'api/delete' }));
    expect(left.imageDetails!.map((d) => [d.imageDigest, d.imageTags])).toEqual([
      [a.digest, ['a2']],
    ]);
    expect((await registry(`/v2/api/delete/manifests/${b.digest}`)).status).toBe(404);
  });
});

describe('immutable tags', () => {
  test('an IMMUTABLE repository refuses another digest under an existing tag, through the API and the registry', async () => {
    await createRepo('immutable/app', { imageTagMutability: 'IMMUTABLE' });
    const v1 = appImage('one');
    const v2 = appImage('two');
    await push(v1, 'immutable/app', 'release');
    await expect(push(v1, 'immutable/app', 'release')).resolves.toMatchObject({
      digest: v1.digest,
    });
    const refused = push(v2, 'immutable/app', 'release');
    await expect(refused).rejects.toThrow(/TAG_INVALID.*release.*immutable/);
    await expect(
      client.send(
        new PutImageCommand({
          repositoryName: 'immutable/app',
          imageManifest: v2.manifest.toString(),
          imageTag: 'release',
        }),
      ),
    ).rejects.toBeInstanceOf(ImageTagAlreadyExistsException);
    await client.send(
      new PutImageTagMutabilityCommand({
        repositoryName: 'immutable/app',
        imageTagMutability: 'MUTABLE',
      }),
    );
    await expect(push(v2, 'immutable/app', 'release')).resolves.toMatchObject({
      digest: v2.digest,
    });
  });
});

describe('cross-repository mount', () => {
  test('mounting every blob from another repository uploads zero bytes', async () => {
    await createRepo('mount/source');
    await createRepo('mount/target');
    const image = appImage('mounted');
    await push(image, 'mount/source', 'v1');
    for (const blob of [...image.layers, image.config]) {
      const response = await registry(
        `/v2/mount/target/blobs/uploads/?mount=${blob.digest}&from=mount/source`,
        { method: 'POST' },
      );
      expect(response.status).toBe(201);
      expect(response.headers.get('docker-content-digest')).toBe(blob.digest);
    }
    await push(image, 'mount/target', 'v1');
    expect(uploads('mount/target')).toEqual({
      blobBytes: 0,
      layerBytes: 0,
      blobsUploaded: 0,
      blobsMounted: image.layers.length + 1,
      manifestsPut: 1,
    });
    expect(uploads('mount/source')).toMatchObject({
      blobBytes: [...image.layers, image.config].reduce((sum, b) => sum + b.data.length, 0),
      layerBytes: image.layers.reduce((sum, b) => sum + b.data.length, 0),
    });
  });

  test('a mount from a repository without the blob falls back to an upload session', async () => {
    const response = await registry(
      `/v2/mount/target/blobs/uploads/?mount=${sha256('absent')}&from=mount/source`,
      { method: 'POST' },
    );
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toMatch(/^\/v2\/mount\/target\/blobs\/uploads\/.+/);
  });

  test('a blob pushed to one repository is not readable through another', async () => {
    await createRepo('mount/other');
    const image = appImage('mounted');
    expect(
      (await registry(`/v2/mount/other/blobs/${image.layers[0].digest}`, { method: 'HEAD' }))
        .status,
    ).toBe(404);
  });
});

describe('snapshot and restore', () => {
  test('a server restarted from the state file holds the same repositories, images and tags', async () => {
    const stateFile = join(dataDir, 'state.json');
    await writeFile(stateFile, JSON.stringify(aws.state()));
    const second = await startLocalAws({ dataDir: join(dataDir, 'aws'), stateFile });
    const secondClient = new ECRClient({
      endpoint: second.endpoint,
      region: 'us-east-1',
      credentials,
    });
    try {
      const described = await secondClient.send(
        new DescribeImagesCommand({ repositoryName: 'api/app', imageIds: [{ imageTag: 'prod' }] }),
      );
      expect(described.imageDetails![0].imageTags).toEqual(['v1', 'prod']);
      const materialized = await second.ecr.imageStore.materialize(
        `${second.registryHost}/api/app:prod`,
      );
      expect(readFileSync(join(materialized.rootfs, 'app/VERSION'), 'utf8')).toBe('api');
    } finally {
      secondClient.destroy();
      await second.stop();
    }
  });
});

describe('materialize', () => {
  beforeAll(async () => {
    await createRepo('run/app');
  });

  test('unpacks the layers in order and returns the run config, by tag, by digest and with the host', async () => {
    const image = buildOciImage({
      layers: [
        {
          'app/server.js': 'require("http")',
          [`app/${'deep/'.repeat(30)}long-name.txt`]: 'a path longer than a tar header holds',
          'app/old.txt': 'old',
          'app/cache/a': 'a',
          'app/cache/b': 'b',
          'bin/run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
          'usr/lib/real.txt': 'real',
          lib: { symlink: 'usr/lib' },
          'etc/conf': { symlink: '/usr/lib' },
        },
        {
          'app/.wh.old.txt': '',
          'app/cache/.wh..wh..opq': '',
          'app/cache/c': 'c',
          'lib/added.txt': 'through the symlink',
          'etc/conf/absolute.txt': 'through the absolute symlink',
        },
      ],
      // Directory entries for `lib/` would replace the symlinks, as in any layer applier.
      parentDirectories: false,
      config: {
        Entrypoint: ['node'],
        Cmd: ['server.js'],
        Env: ['PORT=8080'],
        WorkingDir: '/app',
        ExposedPorts: { '8080/tcp': {} },
        User: '1000',
      },
    });
    const { ref, digestRef } = await push(image, 'run/app', 'v1');
    const byTag = await ecr.imageStore.materialize(ref);
    expect(byTag.digest).toBe(image.digest);
    expect(byTag.config).toEqual({
      entrypoint: ['node'],
      cmd: ['server.js'],
      env: ['PORT=8080'],
      workingDir: '/app',
      exposedPorts: ['8080/tcp'],
      user: '1000',
    });
    const root = byTag.rootfs;
    expect(readFileSync(join(root, 'app/server.js'), 'utf8')).toBe('require("http")');
    expect(readFileSync(join(root, `app/${'deep/'.repeat(30)}long-name.txt`), 'utf8')).toBe(
      'a path longer than a tar header holds',
    );
    expect(existsSync(join(root, 'app/old.txt'))).toBe(false);
    expect(existsSync(join(root, 'app/cache/a'))).toBe(false);
    expect(readFileSync(join(root, 'app/cache/c'), 'utf8')).toBe('c');
    expect(statSync(join(root, 'bin/run.sh')).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(root, 'lib')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(root, 'lib'))).toBe('usr/lib');
    expect(readFileSync(join(root, 'usr/lib/added.txt'), 'utf8')).toBe('through the symlink');
    expect(readFileSync(join(root, 'usr/lib/absolute.txt'), 'utf8')).toBe(
      'through the absolute symlink',
    );
    expect(existsSync('/usr/lib/absolute.txt')).toBe(false);
    for (const other of [digestRef, 'run/app:v1', `run/app@${image.digest}`]) {
      expect(await ecr.imageStore.materialize(other)).toEqual(byTag);
    }
  });

  test('picks the host platform image of an index and reports the index digest', async () => {
    const amd = buildOciImage({ files: { 'arch.txt': 'amd64' }, architecture: 'amd64' });
    const arm = buildOciImage({ files: { 'arch.txt': 'arm64' }, architecture: 'arm64' });
    const index = buildOciIndex([arm, amd]);
    await push(index, 'run/app', 'multi');
    const got = await ecr.imageStore.materialize(`${host}/run/app:multi`);
    expect(got.digest).toBe(index.digest);
    const expected = process.arch === 'arm64' ? 'arm64' : 'amd64';
    expect(readFileSync(join(got.rootfs, 'arch.txt'), 'utf8')).toBe(expected);
    const { imageDetails } = await client.send(
      new DescribeImagesCommand({ repositoryName: 'run/app', imageIds: [{ imageTag: 'multi' }] }),
    );
    expect(imageDetails![0]).toMatchObject({
      imageManifestMediaType: 'application/vnd.oci.image.index.v1+json',
      imageSizeInBytes: Math.max(amd.layers[0].data.length, arm.layers[0].data.length),
    });
  });

  test('a layer member that escapes the rootfs fails the pull', async () => {
    const image = buildOciImage({ files: { 'ok.txt': 'ok' } });
    const evilTar = makeTar({ 'x.txt': 'x' });
    // Rewrite the member name in place to ../evil.txt (same length as x.txt padded) and fix the checksum.
    const header = Buffer.from(evilTar.subarray(0, 512));
    header.fill(0, 0, 100);
    header.write('../../evil.txt', 0);
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    const tar = Buffer.concat([header, evilTar.subarray(512)]);
    const layer = gzipSync(tar);
    const evil = buildOciImage({ files: { placeholder: '' } });
    evil.layers[0] = { digest: sha256(layer), mediaType: evil.layers[0].mediaType, data: layer };
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: evil.mediaType,
        config: {
          mediaType: image.config.mediaType,
          digest: image.config.digest,
          size: image.config.data.length,
        },
        layers: [
          {
            mediaType: evil.layers[0].mediaType,
            digest: evil.layers[0].digest,
            size: layer.length,
          },
        ],
      }),
    );
    await push(
      { ...image, layers: evil.layers, manifest, digest: sha256(manifest) },
      'run/app',
      'evil',
    );
    await expect(ecr.imageStore.materialize('run/app:evil')).rejects.toThrow(
      /^CannotPullContainerError: failed to extract layer .*escapes the rootfs/,
    );
    expect(filesNamed(dataDir, 'evil.txt')).toEqual([]);
  });

  test.each([
    ['an unknown tag', 'run/app:nope'],
    ['an unknown repository', 'run/none:v1'],
    ['an unknown digest', `run/app@${sha256('none')}`],
  ])('%s fails like an ECS pull error', async (_name, ref) => {
    await expect(ecr.imageStore.materialize(ref)).rejects.toThrow(
      `CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref ${ref}: not found`,
    );
  });

  test('an image of another registry is not pulled', async () => {
    await expect(ecr.imageStore.materialize('docker.io/library/nginx:latest')).rejects.toThrow(
      /^CannotPullContainerError: .*docker\.io.*no such host/,
    );
  });
});
