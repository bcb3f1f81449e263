import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getInputs } from '../../../actions/build-and-push/src/inputs';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import { InputParser } from '../../../packages/kit/src/inputs';

const SHA = 'feedfacecafebeef0123456789abcdef01234567';
let workspace: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'build-and-push-inputs-'));
  writeFileSync(join(workspace, 'Dockerfile'), 'FROM scratch\n');
  writeFileSync(
    join(workspace, 'event.json'),
    JSON.stringify({ repository: { default_branch: 'main' } }),
  );
  env = {
    GITHUB_WORKSPACE: workspace,
    GITHUB_SHA: SHA,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_EVENT_PATH: join(workspace, 'event.json'),
    GITHUB_REPOSITORY: 'acme/api',
  };
});

afterAll(() => rmSync(workspace, { recursive: true, force: true }));

function read(inputs: Record<string, string>, extraEnv: NodeJS.ProcessEnv = {}) {
  const parser = new InputParser((name) => inputs[name] ?? '');
  return getInputs(parser, { ...env, ...extraEnv }, new Date('2026-05-06T10:00:00Z'));
}

describe('build-and-push inputs', () => {
  it('defaults to the short SHA plus latest on the default branch, with the OCI labels', () => {
    const inputs = read({ repository: 'api' });
    expect(inputs.tags).toEqual(['feedfac', 'latest']);
    expect(inputs.commitTag).toBe('feedfac');
    expect(Object.fromEntries(inputs.labels)).toEqual({
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.source': 'https://github.com/acme/api',
      'org.opencontainers.image.created': '2026-05-06T10:00:00.000Z',
      'org.opencontainers.image.version': 'feedfac',
    });
    expect(inputs).toMatchObject({ builder: 'auto', push: true, cache: false, context: workspace });
  });

  it('leaves latest out on another branch', () => {
    expect(read({ repository: 'api' }, { GITHUB_REF: 'refs/heads/feature/x' }).tags).toEqual([
      'feedfac',
    ]);
  });

  it.each([
    ['main', 'refs/pull/7/merge'],
    ['main', 'refs/pull/7/head'],
  ])(
    'leaves latest out of the default tags on a pull request whose head branch is named %s (%s)',
    (head, ref) => {
      expect(read({ repository: 'api' }, { GITHUB_HEAD_REF: head, GITHUB_REF: ref }).tags).toEqual([
        'feedfac',
      ]);
    },
  );

  it('reads a pull request branch from GITHUB_HEAD_REF', () => {
    const inputs = read(
      { repository: 'api', tags: '{{branch}}' },
      { GITHUB_HEAD_REF: 'fix/login', GITHUB_REF: 'refs/pull/7/merge' },
    );
    expect(inputs.tags).toEqual(['fix-login']);
  });

  it('parses build arguments, secrets, platforms and a full repository URI', () => {
    const inputs = read({
      repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api',
      'build-args': 'NODE_ENV=production\nURL=https://x?a=b',
      secrets: 'npm=tok-123',
      platforms: 'linux/amd64, linux/arm64',
    });
    expect(inputs.repository).toEqual({
      registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      repository: 'team/api',
    });
    expect(Object.fromEntries(inputs.buildArgs)).toEqual({
      NODE_ENV: 'production',
      URL: 'https://x?a=b',
    });
    expect(inputs.secrets.get('npm')).toBe('tok-123');
    expect(inputs.platforms).toEqual(['linux/amd64', 'linux/arm64']);
  });

  it.each([
    [{ repository: 'api:latest' }, /Input `repository` must be an ECR repository name/],
    [{ repository: 'api', tags: '{{sha}}\n{{nope}}' }, /unknown placeholder `\{\{nope\}\}`/],
    [
      { repository: 'api', 'build-args': '1BAD=x' },
      /Input `build-args` must be one `NAME=value` per line/,
    ],
    [
      { repository: 'api', platforms: 'amd64' },
      /Input `platforms` must be platforms such as `linux\/amd64`/,
    ],
    [
      { repository: 'api', builder: 'kaniko' },
      /Input `builder` must be one of `auto`, `buildx`, `buildah`/,
    ],
    [{ repository: 'api', context: 'missing-dir' }, /Input `context` must be a directory/],
    [
      { repository: 'api', file: 'nope.Dockerfile' },
      /Input `file` must be the path of a Dockerfile/,
    ],
    [
      { repository: 'api', 'promote-from': 'api:bad tag' },
      /Input `promote-from` must be an image reference/,
    ],
    [
      { repository: 'api', 'promote-from': 'v1', 'build-args': 'A=1', cache: 'true' },
      /so `build-args`, `cache` cannot be used with it/,
    ],
    [{ repository: 'api', 'promote-from': 'v1', push: 'false' }, /`push` cannot be `false`/],
    [
      { repository: 'api', 'skip-if-exists': 'true', tags: 'latest' },
      /no template in `tags` uses `\{\{sha\}\}`/,
    ],
    [
      { repository: 'api', 'skip-if-exists': 'true', push: 'false' },
      /`skip-if-exists` looks in the registry/,
    ],
  ])('rejects %j', (inputs, message) => {
    expect(() => read(inputs)).toThrow(ConfigurationError);
    expect(() => read(inputs)).toThrow(message);
  });

  describe('repository and promote-from name a registry only where ECR answers', () => {
    const notEcr =
      'which is not an ECR registry (`<account>.dkr.ecr.<region>.amazonaws.com`): it must be an ECR repository name such as `team/api`';
    it.each([
      ['../api', /^Input `repository` must be an ECR repository name/],
      ['./api', /^Input `repository` must be an ECR repository name/],
      [
        'registry.example.com/api2',
        /^Input `repository` names the registry `registry\.example\.com`/,
      ],
      ['localhost/api3', /^Input `repository` names the registry `localhost`/],
      ['127.0.0.1:5000/api', /^Input `repository` names the registry `127\.0\.0\.1:5000`/],
      ['ghcr.io/acme/api', /^Input `repository` names the registry `ghcr\.io`/],
      ['host..example.com/api', /^Input `repository` must be an ECR repository name/],
      ['-host.example.com/api', /^Input `repository` must be an ECR repository name/],
      ['example.com:99999/api', /^Input `repository` must be an ECR repository name/],
      [`${'a'.repeat(257)}`, /^Input `repository` must be an ECR repository name/],
      ['team/api_', /^Input `repository` must be an ECR repository name/],
      ['team/-api', /^Input `repository` must be an ECR repository name/],
      ['team/a..pi', /^Input `repository` must be an ECR repository name/],
    ])('refuses the repository %j before any call', (repository, message) => {
      expect(() => read({ repository, 'create-repository': 'true' })).toThrow(ConfigurationError);
      expect(() => read({ repository, 'create-repository': 'true' })).toThrow(message);
    });

    it('says what it accepts when the registry is not an ECR registry', () => {
      expect(() => read({ repository: 'registry.example.com/api2' })).toThrow(notEcr);
    });

    it.each([
      ["a name at ECR's longest", 'a'.repeat(256), {}, 'a'.repeat(256)],
      ['an ECR URI', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api', {}, 'team/api'],
      ['a FIPS ECR URI', '123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/api', {}, 'api'],
      [
        'the ECR endpoint set with AWS_ENDPOINT_URL_ECR',
        '127.0.0.1:4566/api',
        { AWS_ENDPOINT_URL_ECR: 'http://127.0.0.1:4566' },
        'api',
      ],
      [
        'the endpoint set with AWS_ENDPOINT_URL',
        'localhost:4566/team/api',
        { AWS_ENDPOINT_URL: 'http://localhost:4566/' },
        'team/api',
      ],
    ])('accepts %s', (_name, repository, extraEnv, name) => {
      expect(read({ repository }, extraEnv).repository.repository).toBe(name);
    });

    it('ignores configured endpoints when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true', () => {
      expect(() =>
        read(
          { repository: '127.0.0.1:4566/api' },
          {
            AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
            AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
          },
        ),
      ).toThrow(/^Input `repository` names the registry `127\.0\.0\.1:4566`/);
    });

    it('refuses a name that leaves no room for the cache repository', () => {
      expect(() => read({ repository: 'a'.repeat(251), cache: 'true' })).toThrow(
        /^Input `cache` keeps the layer cache in `a+-cache`, which is longer than ECR's 256 characters/,
      );
      expect(read({ repository: 'a'.repeat(250), cache: 'true' }).cache).toBe(true);
    });

    it.each([
      [
        'registry.example.com/api:v1',
        /^Input `promote-from` names the registry `registry\.example\.com`/,
      ],
      ['localhost/api:v1', /^Input `promote-from` names the registry `localhost`/],
      ['../api:v1', /^Input `promote-from` must be an image reference/],
    ])('refuses promote-from %j before any call', (promoteFrom, message) => {
      expect(() =>
        read({ repository: 'api', 'promote-from': promoteFrom, 'create-repository': 'true' }),
      ).toThrow(message);
    });

    it('accepts promote-from in another ECR registry', () => {
      expect(
        read({
          repository: 'api',
          'promote-from': '210987654321.dkr.ecr.us-east-1.amazonaws.com/api:v1',
        }).promoteFrom,
      ).toMatchObject({ registry: '210987654321.dkr.ecr.us-east-1.amazonaws.com', tag: 'v1' });
    });

    it.each(['prod stage', '-prod', '1prod'])('refuses the build stage %j in target', (target) => {
      expect(() => read({ repository: 'api', target })).toThrow(
        /^Input `target` must be a build stage name/,
      );
    });
  });

  it('does not need a Dockerfile to promote', () => {
    const inputs = read({
      repository: 'api',
      'promote-from': 'api-staging:feedfac',
      tags: 'production',
      context: 'missing-dir',
    });
    expect(inputs.promoteFrom).toEqual({
      registry: undefined,
      repository: 'api-staging',
      tag: 'feedfac',
      digest: undefined,
    });
  });

  it('needs a commit for {{sha}} when there is neither GITHUB_SHA nor a git checkout', () => {
    expect(() => read({ repository: 'api', tags: '{{sha}}' }, { GITHUB_SHA: '' })).toThrow(
      /`\{\{sha\}\}` needs a commit SHA/,
    );
  });
});
