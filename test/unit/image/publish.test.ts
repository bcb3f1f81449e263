import { applyTags, TagConflictError } from '../../../packages/image/src/ecr';
import {
  findReusable,
  promote,
  registryLogin,
  RepositoryMissingError,
  resolveRepository,
  SourceImageMissingError,
  tagImage,
} from '../../../packages/image/src/publish';
import { FakeEcr } from './fake-ecr';

const noRegistry = async (): Promise<never> => {
  throw new Error('no registry traffic expected');
};

describe('tagging with ECR PutImage', () => {
  it.each(['MUTABLE', 'IMMUTABLE'])(
    'reports tags already on the image as unchanged (%s)',
    async (mutability) => {
      const ecr = new FakeEcr();
      const repo = ecr.addRepository('api', mutability);
      const image = ecr.addImage('api', 'one', ['v1']);
      const result = await tagImage(ecr, repo, image, ['v1', 'latest']);
      expect(result).toEqual([
        { tag: 'v1', status: 'unchanged' },
        { tag: 'latest', status: 'tagged' },
      ]);
    },
  );

  it('moves a mutable tag to the new image', async () => {
    const ecr = new FakeEcr();
    const repo = ecr.addRepository('api');
    ecr.addImage('api', 'old', ['latest']);
    const image = ecr.addImage('api', 'new');
    await tagImage(ecr, repo, image, ['latest']);
    expect((await ecr.describeImage('api', { tag: 'latest' }))?.digest).toBe(image.digest);
  });

  it('refuses to move an immutable tag, naming both digests, before writing any tag', async () => {
    const ecr = new FakeEcr();
    const repo = ecr.addRepository('api', 'IMMUTABLE');
    const old = ecr.addImage('api', 'old', ['v1']);
    const image = ecr.addImage('api', 'new');
    const attempt = tagImage(ecr, repo, image, ['fresh', 'v1']);
    await expect(attempt).rejects.toThrow(TagConflictError);
    await expect(tagImage(ecr, repo, image, ['fresh', 'v1'])).rejects.toThrow(
      `Tag \`v1\` already exists in the immutable repository \`api\` and names ${old.digest}, not ${image.digest}`,
    );
    expect(ecr.calls.filter((c) => c.startsWith('PutImage'))).toEqual([]);
  });

  it('turns a PutImage tag conflict into a TagConflictError when the check raced', async () => {
    const ecr = new FakeEcr();
    const repo = ecr.addRepository('api', 'IMMUTABLE');
    ecr.addImage('api', 'old', ['v1']);
    const image = ecr.addImage('api', 'new');
    await expect(applyTags(ecr, repo, image, ['v1'])).rejects.toThrow(TagConflictError);
  });
});

describe('promotion', () => {
  it('retags within one repository with PutImage only, keeping the digest', async () => {
    const ecr = new FakeEcr();
    const repo = ecr.addRepository('api');
    const image = ecr.addImage('api', 'tested', ['abc1234']);
    const result = await promote({
      ecr,
      repository: repo,
      host: ecr.host,
      from: { tag: 'abc1234' },
      tags: ['production'],
      target: noRegistry,
    });
    expect(result.digest).toBe(image.digest);
    expect(result.mode).toBe('retag');
    expect(result.stats.bytesUploaded).toBe(0);
    expect((await ecr.describeImage('api', { tag: 'production' }))?.digest).toBe(image.digest);
  });

  it('promotes by digest', async () => {
    const ecr = new FakeEcr();
    const repo = ecr.addRepository('api');
    const image = ecr.addImage('api', 'tested');
    const result = await promote({
      ecr,
      repository: repo,
      host: ecr.host,
      from: { registry: ecr.host, repository: 'api', digest: image.digest },
      tags: ['v2'],
      target: noRegistry,
    });
    expect(result.tags).toEqual([{ tag: 'v2', status: 'tagged' }]);
  });

  it('fails clearly when the source image does not exist', async () => {
    const ecr = new FakeEcr();
    const repo = ecr.addRepository('api');
    await expect(
      promote({
        ecr,
        repository: repo,
        host: ecr.host,
        from: { tag: 'nope' },
        tags: ['v1'],
        target: noRegistry,
      }),
    ).rejects.toThrow(new SourceImageMissingError(`${ecr.host}/api:nope`));
  });
});

describe('repositories, reuse and login', () => {
  it('creates a missing repository only when allowed', async () => {
    const ecr = new FakeEcr();
    await expect(resolveRepository(ecr, { repository: 'api' }, false)).rejects.toThrow(
      RepositoryMissingError,
    );
    await expect(resolveRepository(ecr, { repository: 'api' }, false)).rejects.toThrow(
      'Repository `api` does not exist',
    );
    const created = await resolveRepository(ecr, { repository: 'api' }, true);
    expect(created.created).toBe(true);
    expect((await resolveRepository(ecr, { repository: 'api' }, false)).created).toBe(false);
  });

  it('only plans a missing repository when nothing is to be pushed: no CreateRepository, the URI it would have', async () => {
    const ecr = new FakeEcr();
    const planned = await resolveRepository(ecr, { repository: 'api' }, true, { dryRun: true });
    expect(planned).toEqual({
      repository: { name: 'api', uri: `${ecr.host}/api`, tagMutability: 'MUTABLE' },
      created: false,
      planned: true,
    });
    expect(ecr.calls).not.toContain('CreateRepository api');
    await expect(
      resolveRepository(ecr, { repository: 'api' }, false, { dryRun: true }),
    ).rejects.toThrow(RepositoryMissingError);
  });

  it("finds the image this commit's tag names", async () => {
    const ecr = new FakeEcr();
    const repo = ecr.addRepository('api');
    const image = ecr.addImage('api', 'built', ['abc1234']);
    expect((await findReusable(ecr, repo, 'abc1234'))?.digest).toBe(image.digest);
    expect(await findReusable(ecr, repo, 'def5678')).toBeUndefined();
  });

  it.each([
    [
      'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      false,
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    ],
    ['http://127.0.0.1:4566', true, '127.0.0.1:4566'],
  ])('logs in to %s (plain HTTP: %s)', async (endpoint, insecure, host) => {
    const ecr = new FakeEcr();
    ecr.getAuthorizationToken = async () => ({
      username: 'AWS',
      password: 'pw',
      proxyEndpoint: endpoint,
    });
    const login = await registryLogin(ecr);
    expect(login).toMatchObject({
      host,
      insecure,
      auth: { baseUrl: new URL(endpoint).origin, username: 'AWS', password: 'pw' },
    });
  });
});
