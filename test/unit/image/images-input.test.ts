import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getInputs } from '../../../actions/build-and-push/src/inputs';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import { InputParser } from '../../../packages/kit/src/inputs';

const SHA = 'feedfacecafebeef0123456789abcdef01234567';
let workspace: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'build-and-push-images-'));
  for (const dir of ['api', 'worker', 'web']) mkdirSync(join(workspace, dir));
  writeFileSync(join(workspace, 'api', 'Dockerfile'), 'FROM scratch\n');
  writeFileSync(join(workspace, 'worker', 'Containerfile'), 'FROM scratch\n');
  writeFileSync(join(workspace, 'web.Dockerfile'), 'FROM scratch\n');
  env = { GITHUB_WORKSPACE: workspace, GITHUB_SHA: SHA, GITHUB_REF: 'refs/heads/main' };
});

afterAll(() => rmSync(workspace, { recursive: true, force: true }));

function read(inputs: Record<string, string>, extraEnv: NodeJS.ProcessEnv = {}) {
  const parser = new InputParser((name) => inputs[name] ?? '');
  return getInputs(parser, { ...env, ...extraEnv }, new Date('2026-05-06T10:00:00Z'));
}

describe('build-and-push `images` input', () => {
  it('reads one image per line, naming containers after the last segment unless a line names one', () => {
    const inputs = read({
      images: 'team/api=api\nteam/worker=worker\nfrontend@team/web=web:web.Dockerfile',
    });
    expect(
      inputs.images?.map((i) => [i.container, i.repository.repository, i.context, i.file]),
    ).toEqual([
      ['api', 'team/api', join(workspace, 'api'), undefined],
      ['worker', 'team/worker', join(workspace, 'worker'), undefined],
      ['frontend', 'team/web', join(workspace, 'web'), join(workspace, 'web.Dockerfile')],
    ]);
    expect(inputs.repository).toEqual({ registry: undefined, repository: 'team/api' });
    expect(inputs.skipUnchanged).toBe(true);
  });

  it('keeps skip-unchanged off for a single image unless asked, and lets images turn it off', () => {
    expect(read({ repository: 'api', context: 'api' }).skipUnchanged).toBe(false);
    expect(
      read({ repository: 'api', context: 'api', 'skip-unchanged': 'true' }).skipUnchanged,
    ).toBe(true);
    expect(read({ images: 'api=api', 'skip-unchanged': 'false' }).skipUnchanged).toBe(false);
    expect(read({ images: 'api=api', push: 'false' }).skipUnchanged).toBe(false);
  });

  it('accepts the default context the runner passes alongside images', () => {
    expect(read({ images: 'api=api', context: '.' }).images).toHaveLength(1);
  });

  it.each([
    [
      { images: 'api=api', repository: 'api' },
      'Inputs `images` and `repository` cannot be used together',
    ],
    [
      { images: 'api=api', context: 'api' },
      'Inputs `images` and `context` cannot be used together',
    ],
    [
      { images: 'api=api', file: 'web.Dockerfile' },
      'Inputs `images` and `file` cannot be used together',
    ],
    [
      { images: 'api=api', 'promote-from': 'api:v1' },
      'Inputs `images` and `promote-from` cannot be used together',
    ],
    [
      { images: 'api' },
      'Input `images` line 1 (`api`) must be `<repository>=<context>[:<dockerfile>]`',
    ],
    [{ images: 'api=' }, 'Input `images` line 1 (`api=`) must be `<repository>=<context>'],
    [{ images: 'api=api:' }, 'Input `images` line 1 (`api=api:`) must be `<repository>=<context>'],
    [
      { images: 'api=api\nTeam/Worker=worker' },
      'Input `images` line 2 (`Team/Worker=worker`) must name a repository: an ECR repository name',
    ],
    [
      { images: 'registry.example.com/api=api' },
      'Input `images` line 1 (`registry.example.com/api=api`) names the registry `registry.example.com`, which is not an ECR registry (`<account>.dkr.ecr.<region>.amazonaws.com`): the repository must be an ECR repository name',
    ],
    [
      { images: 'api=missing' },
      'names the build context `missing`, which is not a directory of the workspace',
    ],
    [
      { images: 'api=api:nope.Dockerfile' },
      'names the Dockerfile `nope.Dockerfile`, which is not a file',
    ],
    [{ images: 'web=web' }, 'has no Dockerfile in the build context `web`: add `:<dockerfile>`'],
    [
      { images: 'api=api\napi=worker' },
      'line 2 (`api=worker`) names the repository `api` again (line 1)',
    ],
    [
      { images: 'a/api=api\nb/api=worker' },
      'line 2 (`b/api=worker`) gives the container name `api` again (line 1): name one with `<container>@<repository>=…`',
    ],
    [
      { images: 'team/my.app=api' },
      "gives the container the name `my.app` (the repository's last segment), which ECS does not accept",
    ],
    [{ images: 'bad name@api=api' }, 'names the container `bad name`'],
    [
      {
        images:
          '123456789012.dkr.ecr.eu-west-1.amazonaws.com/api=api\n210987654321.dkr.ecr.eu-west-1.amazonaws.com/worker=worker',
      },
      'names the registry `210987654321.dkr.ecr.eu-west-1.amazonaws.com`, another line `123456789012.dkr.ecr.eu-west-1.amazonaws.com`: one step pushes to one registry',
    ],
    [
      { images: `${'a'.repeat(251)}=api`, cache: 'true' },
      'shorten `images` to at most 250 characters',
    ],
    [
      { repository: 'api', context: 'api', 'skip-unchanged': 'true', push: 'false' },
      'Input `skip-unchanged` looks in the registry',
    ],
    [
      { repository: 'api', 'promote-from': 'v1', 'skip-unchanged': 'true' },
      'so `skip-unchanged` cannot be used with it',
    ],
  ])('refuses %j before any call', (inputs, message) => {
    expect(() => read(inputs)).toThrow(ConfigurationError);
    expect(() => read(inputs)).toThrow(message);
  });
});
