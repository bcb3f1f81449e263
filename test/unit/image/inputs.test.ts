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
