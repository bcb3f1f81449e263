import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getInputs } from '../../../actions/build-and-push/src/inputs';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import { InputParser } from '../../../packages/kit/src/inputs';

const SHA = 'feedfacecafebeef0123456789abcdef01234567';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const OTHER_ECR = '210987654321.dkr.ecr.eu-west-1.amazonaws.com';
let workspace: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'build-and-push-promote-lines-'));
  writeFileSync(join(workspace, 'Dockerfile'), 'FROM scratch\n');
  env = { GITHUB_WORKSPACE: workspace, GITHUB_SHA: SHA, GITHUB_REF: 'refs/heads/main' };
});

afterAll(() => rmSync(workspace, { recursive: true, force: true }));

function read(inputs: Record<string, string>, extraEnv: NodeJS.ProcessEnv = {}) {
  const parser = new InputParser((name) => inputs[name] ?? '');
  return getInputs(parser, { ...env, ...extraEnv }, new Date('2026-05-06T10:00:00Z'));
}

describe('build-and-push `promote-from` with one image per line', () => {
  it.each<[string, string, [string, string | undefined, string, object][]]>([
    [
      'names containers after the last segment unless a line names one',
      `team/api-production=team/api-staging@${DIGEST}\njobs@team/worker-production=team/worker-staging:abc1234`,
      [
        [
          'api-production',
          undefined,
          'team/api-production',
          { repository: 'team/api-staging', digest: DIGEST },
        ],
        [
          'jobs',
          undefined,
          'team/worker-production',
          { repository: 'team/worker-staging', tag: 'abc1234' },
        ],
      ],
    ],
    [
      'reads a bare tag or digest as one of the line’s own repository (a retag)',
      `api@team/api=abc1234\nworker@team/worker=${DIGEST}`,
      [
        ['api', undefined, 'team/api', { tag: 'abc1234' }],
        ['worker', undefined, 'team/worker', { digest: DIGEST }],
      ],
    ],
    [
      'takes full URIs on both sides, the source in another ECR registry',
      `api@${ECR}/team/api=${OTHER_ECR}/team/api@${DIGEST}\n${ECR}/team/worker=team/worker:v1`,
      [
        ['api', ECR, 'team/api', { registry: OTHER_ECR, repository: 'team/api', digest: DIGEST }],
        ['worker', ECR, 'team/worker', { repository: 'team/worker', tag: 'v1' }],
      ],
    ],
    [
      'takes one line: a `=` alone decides the form',
      'api@team/api-production=team/api-staging:v1',
      [['api', undefined, 'team/api-production', { repository: 'team/api-staging', tag: 'v1' }]],
    ],
  ])('%s', (_name, lines, expected) => {
    const inputs = read({ 'promote-from': lines });
    expect(
      inputs.promotions?.map((p) => [
        p.container,
        p.repository.registry,
        p.repository.repository,
        Object.fromEntries(Object.entries(p.from).filter(([, v]) => v !== undefined)),
      ]),
    ).toEqual(expected);
    expect(inputs.promoteFrom).toBeUndefined();
    expect(inputs.images).toBeUndefined();
    expect(inputs.repository).toEqual(inputs.promotions?.[0].repository);
  });

  it('keeps the one-image form when no line has a `=`', () => {
    const inputs = read({ repository: 'api', 'promote-from': `api-staging@${DIGEST}` });
    expect(inputs.promotions).toBeUndefined();
    expect(inputs.promoteFrom).toEqual({
      registry: undefined,
      repository: 'api-staging',
      tag: undefined,
      digest: DIGEST,
    });
  });

  it('accepts the inputs that apply to promotion: tags, create-repository, the default context', () => {
    const inputs = read({
      'promote-from': 'team/api=v1',
      tags: 'production\n{{short-sha}}',
      'create-repository': 'true',
      context: '.',
    });
    expect(inputs).toMatchObject({ tags: ['production', 'feedfac'], createRepository: true });
  });

  it.each<[string, Record<string, string>, string]>([
    [
      'repository with lines',
      { 'promote-from': 'team/api=v1', repository: 'team/api' },
      'Inputs `promote-from` (one `<repository>=<image reference>` per line) and `repository` cannot be used together',
    ],
    [
      'images with lines',
      { 'promote-from': 'team/api=v1', images: 'team/api=.' },
      'Inputs `images` and `promote-from` cannot be used together',
    ],
    [
      'an empty image reference',
      { 'promote-from': 'team/api=' },
      'Input `promote-from` line 1 (`team/api=`) must be `<repository>=<image reference>`, optionally `<container>@<repository>=…`',
    ],
    [
      'an empty repository',
      { 'promote-from': 'team/api=v1\n=v1' },
      'Input `promote-from` line 2 (`=v1`) must be `<repository>=<image reference>`',
    ],
    [
      'a line without `=` among lines with one',
      { 'promote-from': 'team/api=v1\nteam/worker:v1' },
      'Input `promote-from` line 2 (`team/worker:v1`) must be `<repository>=<image reference>`',
    ],
    [
      'a repository ECR does not accept',
      { 'promote-from': 'Team/Api=v1' },
      'Input `promote-from` line 1 (`Team/Api=v1`) must name a repository: an ECR repository name',
    ],
    [
      'a reference without tag or digest',
      { 'promote-from': 'team/api=team/api-staging' },
      'Input `promote-from` line 1 (`team/api=team/api-staging`) must promote an image reference: a tag, a digest',
    ],
    [
      'a malformed digest',
      { 'promote-from': 'team/api=team/api-staging@sha256:abc' },
      'line 1 (`team/api=team/api-staging@sha256:abc`) must promote an image reference',
    ],
    [
      'a target registry that is not ECR',
      { 'promote-from': 'registry.example.com/api=v1' },
      'Input `promote-from` line 1 (`registry.example.com/api=v1`) names the registry `registry.example.com`, which is not an ECR registry (`<account>.dkr.ecr.<region>.amazonaws.com`): the repository must be an ECR repository name',
    ],
    [
      'a source registry that is not ECR',
      { 'promote-from': 'team/api=registry.example.com/api:v1' },
      'Input `promote-from` line 1 (`team/api=registry.example.com/api:v1`) names the registry `registry.example.com`, which is not an ECR registry (`<account>.dkr.ecr.<region>.amazonaws.com`): the image to promote must be an image reference',
    ],
    [
      'a repository named twice',
      { 'promote-from': 'api@team/api=v1\nother@team/api=v2' },
      'line 2 (`other@team/api=v2`) names the repository `team/api` again (line 1): promote into each repository once',
    ],
    [
      'a container named twice',
      { 'promote-from': 'a/api=v1\nb/api=v1' },
      'line 2 (`b/api=v1`) gives the container name `api` again (line 1): name one with `<container>@<repository>=…`',
    ],
    [
      'a last segment ECS does not accept as a container name',
      { 'promote-from': 'team/my.app=v1' },
      "line 1 (`team/my.app=v1`) gives the container the name `my.app` (the repository's last segment), which ECS does not accept",
    ],
    [
      'a container name ECS does not accept',
      { 'promote-from': 'my app@team/api=v1' },
      'line 1 (`my app@team/api=v1`) names the container `my app`',
    ],
    [
      'targets in two registries',
      { 'promote-from': `${ECR}/api=v1\n${OTHER_ECR}/worker=v1` },
      `line 2 (\`${OTHER_ECR}/worker=v1\`) names the registry \`${OTHER_ECR}\`, another line \`${ECR}\`: one step pushes to one registry`,
    ],
    ...(
      [
        ['file', 'Dockerfile'],
        ['target', 'runtime'],
        ['build-args', 'A=1'],
        ['secrets', 'npm=x'],
        ['platforms', 'linux/amd64'],
        ['labels', 'a=b'],
        ['cache', 'true'],
        ['skip-if-exists', 'true'],
        ['skip-unchanged', 'true'],
      ] as const
    ).map(([input, value]): [string, Record<string, string>, string] => [
      `the build-only input ${input}`,
      { 'promote-from': 'team/api=v1', [input]: value },
      `Input \`promote-from\` puts an existing image under new tags without building, so \`${input}\` cannot be used with it.`,
    ]),
    [
      'push: false',
      { 'promote-from': 'team/api=v1', push: 'false' },
      'Input `promote-from` writes tags to the registry, so `push` cannot be `false`.',
    ],
  ])('refuses %s before any call', (_name, inputs, message) => {
    expect(() => read(inputs)).toThrow(ConfigurationError);
    expect(() => read(inputs)).toThrow(message);
  });

  it('accepts the configured ECR endpoint as a registry on both sides', () => {
    const inputs = read(
      { 'promote-from': '127.0.0.1:4566/team/api=127.0.0.1:4566/team/api-staging:v1' },
      { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' },
    );
    expect(inputs.promotions?.[0].from.registry).toBe('127.0.0.1:4566');
  });
});
