import { detectBuildahSettings, isRuntimeFailure } from '../../../packages/image/src/buildah';
import {
  parseBuildahFailure,
  parseBuildkitFailure,
  type BuildRequest,
} from '../../../packages/image/src/builder';
import { buildxArgs } from '../../../packages/image/src/buildx';
import type { CommandOptions, CommandResult } from '../../../packages/image/src/exec';

describe('failed builds', () => {
  it('puts the failing buildah step first, then its output and the reason', () => {
    const failure = parseBuildahFailure([
      'STEP 1/3: FROM scratch',
      'STEP 2/3: COPY a.js /app/a.js',
      '--> da69a0e8e86',
      'STEP 3/3: RUN npm ci',
      'npm ERR! missing script',
      'Error: building at STEP "RUN npm ci": exit status 1',
    ]);
    expect(failure.message.split('\n')).toEqual([
      'Build failed at STEP 3/3: RUN npm ci: building at STEP "RUN npm ci": exit status 1',
      'npm ERR! missing script',
    ]);
  });

  it('keeps the failing output from becoming runner commands or terminal codes', () => {
    const failure = parseBuildahFailure([
      'STEP 2/2: RUN ./test.sh',
      '\u001b[31mFAIL\u001b[0m ##[error]planted',
      '  ::add-mask::planted',
      'Error: building at STEP "RUN ./test.sh": exit status 1',
    ]);
    expect(failure.message.split('\n')).toEqual([
      'Build failed at STEP 2/2: RUN ./test.sh: building at STEP "RUN ./test.sh": exit status 1',
      '[31mFAIL[0m ## [error]planted',
      '  : :add-mask::planted',
    ]);
  });

  it('reads the failing BuildKit step from plain progress output', () => {
    const failure = parseBuildkitFailure([
      '#5 [1/2] FROM docker.io/library/node:20',
      '#5 DONE 0.1s',
      '#6 [2/2] RUN npm test',
      '#6 0.512 test failed: expected 1',
      '#6 ERROR: process "/bin/sh -c npm test" did not complete successfully: exit code: 1',
      'ERROR: failed to solve: process "/bin/sh -c npm test" did not complete successfully: exit code: 1',
    ]);
    expect(failure.step).toBe('step [2/2] RUN npm test');
    expect(failure.message.split('\n')[0]).toBe(
      'Build failed at step [2/2] RUN npm test: failed to solve: process "/bin/sh -c npm test" did not complete successfully: exit code: 1',
    );
    expect(failure.output).toContain('test failed: expected 1');
  });

  it.each([
    [
      [
        'error running container: from /usr/bin/crun creating container for [/x]: cgroups in hybrid mode not supported',
      ],
      true,
    ],
    [['Error: building at STEP "COPY x /": no such file or directory'], false],
  ])('tells a runtime failure from a build failure', (lines, expected) => {
    expect(isRuntimeFailure(lines)).toBe(expected);
  });
});

describe('buildah settings', () => {
  function fakeRun(answers: Record<string, CommandResult>) {
    const calls: string[] = [];
    const run = async (
      command: string,
      args: string[],
      _opts?: CommandOptions,
    ): Promise<CommandResult> => {
      const key = [command, ...args].join(' ');
      calls.push(key);
      return answers[key] ?? { code: 1, lines: ['unexpected'], stdout: '' };
    };
    return { run, calls };
  }
  const info = (cgroup: string, driver = 'overlay'): CommandResult => {
    const stdout = JSON.stringify({
      host: { CgroupVersion: cgroup },
      store: { GraphDriverName: driver },
    });
    return { code: 0, lines: [stdout], stdout };
  };

  it.each([
    ['cgroups v1', info('v1'), false, undefined, 'chroot', /cgroups v1/],
    ['inside a container', info('v2'), true, undefined, 'chroot', /inside a container/],
    ['a plain machine', info('v2'), false, undefined, undefined, /isolation oci/],
    ['BUILDAH_ISOLATION set', info('v1'), true, 'oci', undefined, /from BUILDAH_ISOLATION/],
  ])('picks the isolation on %s', async (_name, answer, inContainer, fromEnv, isolation, note) => {
    const { run } = fakeRun({ 'buildah info': answer });
    const settings = await detectBuildahSettings(
      {},
      { inContainer, isolationFromEnv: fromEnv },
      run,
    );
    expect(settings.isolation).toBe(isolation);
    expect(settings.storageDriver).toBeUndefined();
    expect(settings.notes.join('; ')).toMatch(note);
  });

  it('falls back to the vfs storage driver when the default one cannot start', async () => {
    const { run, calls } = fakeRun({
      'buildah info': {
        code: 125,
        lines: ['Error: overlay is not supported over overlayfs'],
        stdout: '',
      },
      'buildah --storage-driver vfs info': info('v2', 'vfs'),
    });
    const settings = await detectBuildahSettings({}, { inContainer: false }, run);
    expect(settings.storageDriver).toBe('vfs');
    expect(settings.notes[0]).toMatch(
      /vfs \(the default one failed: Error: overlay is not supported/,
    );
    expect(calls).toHaveLength(2);
  });
});

describe('docker buildx arguments', () => {
  const req: BuildRequest = {
    context: '/src',
    file: '/src/Dockerfile',
    target: 'prod',
    buildArgs: new Map([['NODE_ENV', 'production']]),
    secrets: new Map([['npm', 'tok']]),
    labels: new Map([['org.opencontainers.image.revision', 'abc']]),
    platforms: ['linux/amd64', 'linux/arm64'],
    destination: '127.0.0.1:4566/api',
    insecure: true,
    push: true,
    cacheRef: '127.0.0.1:4566/api-cache',
    workDir: '/runner-temp/w',
    authFile: '/runner-temp/w/auth/config.json',
    env: {},
  };

  /** The `--output` value as key → value (its order and the other keys do not matter). */
  function outputParts(args: string[]): Map<string, string> {
    const value = args[args.indexOf('--output') + 1];
    return new Map(
      value.split(',').map((part) => {
        const eq = part.indexOf('=');
        return [part.slice(0, eq), part.slice(eq + 1)] as [string, string];
      }),
    );
  }

  it.each([
    [true, 'true'],
    [false, 'false'],
  ])('pushes only when asked (push: %s), never with a tag', (push, expected) => {
    const output = outputParts(buildxArgs({ ...req, push }, '/m.json', new Map()));
    expect(output.get('push')).toBe(expected);
    expect(output.get('name')).not.toMatch(/:[^/]*$|@/);
  });

  it.each([
    [true, true],
    [false, false],
  ])('reads the registry cache, and writes it only when pushing (push: %s)', (push, writes) => {
    const args = buildxArgs({ ...req, push }, '/m.json', new Map());
    expect(args).toContain('--cache-from');
    expect(args.includes('--cache-to')).toBe(writes);
  });

  it('does not mark a TLS registry insecure', () => {
    const args = buildxArgs({ ...req, insecure: false }, '/m.json', new Map());
    expect(outputParts(args).has('registry.insecure')).toBe(false);
    expect(args.join(' ')).not.toContain('insecure');
  });

  it('pushes by digest, marks a plain-HTTP registry insecure and passes secrets as files', () => {
    const args = buildxArgs(
      req,
      '/runner-temp/w/meta.json',
      new Map([['npm', '/runner-temp/w/secrets/npm']]),
    );
    expect(args).toEqual(
      expect.arrayContaining(['--secret', 'id=npm,src=/runner-temp/w/secrets/npm']),
    );
    expect(args.join(' ')).not.toContain('tok');
    const output = outputParts(args);
    expect(output.get('type')).toBe('image');
    expect(output.get('name')).toBe('127.0.0.1:4566/api');
    // Pushed by digest, without a tag: tags are written afterwards with ECR's API.
    expect(output.get('push-by-digest')).toBe('true');
    expect(output.get('push')).toBe('true');
    expect(output.get('registry.insecure')).toBe('true');
    expect(args[args.indexOf('--platform') + 1]).toBe('linux/amd64,linux/arm64');
    expect(args[args.indexOf('--cache-from') + 1]).toBe(
      'type=registry,ref=127.0.0.1:4566/api-cache:buildcache,registry.insecure=true',
    );
    expect(args.at(-1)).toBe('/src');
  });
});
