import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  contentTagOf,
  ContentTagError,
  contextTree,
  deriveContentTag,
  type ContentInputs,
} from '../../../packages/image/src/content-tag';

let repo: string;

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] })
    .toString()
    .trim();
}

function write(path: string, text: string): void {
  mkdirSync(join(repo, path, '..'), { recursive: true });
  writeFileSync(join(repo, path), text);
}

/** A fresh repository with two contexts, `api` and `worker`, committed. */
function freshRepo(): void {
  if (repo) rmSync(repo, { recursive: true, force: true });
  repo = mkdtempSync(join(tmpdir(), 'content-tag-'));
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'dev@example.com');
  git('config', 'user.name', 'dev');
  write('api/Dockerfile', 'FROM scratch\nCOPY . /app\n');
  write('api/server.js', 'console.log(1)\n');
  write('worker/Dockerfile', 'FROM scratch\n');
  write('worker/job.js', 'job()\n');
  write('docker/api.Dockerfile', 'FROM scratch\nCOPY . /srv\n');
  write('.gitignore', 'node_modules/\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'first');
}

function apiInputs(over: Partial<ContentInputs> = {}): ContentInputs {
  return {
    context: join(repo, 'api'),
    buildArgs: new Map([['NODE_ENV', 'production']]),
    platforms: [],
    ...over,
  };
}

afterAll(() => rmSync(repo, { recursive: true, force: true }));

describe('content tag', () => {
  beforeEach(freshRepo);

  it('is content- and 40 hex characters, and the same when derived twice', async () => {
    const a = await deriveContentTag(apiInputs());
    expect(a.tag).toMatch(/^content-[0-9a-f]{40}$/);
    expect(a.dirty).toBe(false);
    expect((await deriveContentTag(apiInputs())).tag).toBe(a.tag);
  });

  it.each<[string, () => void, Partial<ContentInputs>?]>([
    ['a file of the context changes', () => write('api/server.js', 'console.log(2)\n')],
    ['a file is added to the context (untracked)', () => write('api/extra.js', 'x\n')],
    ['a file of the context is deleted', () => rmSync(join(repo, 'api/server.js'))],
    [
      'a changed file is committed',
      () => (write('api/server.js', 'v2\n'), git('commit', '-qam', 'v2')),
    ],
    [
      'the Dockerfile outside the context changes',
      () => write('docker/api.Dockerfile', 'FROM scratch\n'),
      { file: 'docker/api.Dockerfile' },
    ],
    ['a build argument changes', () => undefined, { buildArgs: new Map([['NODE_ENV', 'test']]) }],
    [
      'a build argument is added',
      () => undefined,
      {
        buildArgs: new Map([
          ['NODE_ENV', 'production'],
          ['X', '1'],
        ]),
      },
    ],
    ['the target is set', () => undefined, { target: 'runtime' }],
    ['the platforms change', () => undefined, { platforms: ['linux/arm64'] }],
  ])('changes when %s', async (_what, change, over = {}) => {
    const withFile = (o: Partial<ContentInputs>): ContentInputs =>
      apiInputs({ ...o, file: o.file ? join(repo, o.file) : undefined });
    const before = await deriveContentTag(withFile({ file: over.file }));
    change();
    const after = await deriveContentTag(withFile(over));
    expect(after.tag).not.toBe(before.tag);
  });

  it.each<[string, () => void, Partial<ContentInputs>?]>([
    ['a file outside the context changes', () => write('worker/job.js', 'job(2)\n')],
    [
      'a new commit leaves the context as it was',
      () => (write('README.md', 'hi\n'), git('add', '-A'), git('commit', '-qm', 'docs')),
    ],
    ['an ignored file appears in the context', () => write('api/node_modules/x/index.js', 'x\n')],
    [
      'the build arguments come in another order',
      () => undefined,
      {
        buildArgs: new Map([
          ['B', '2'],
          ['A', '1'],
        ]),
      },
    ],
    [
      'the platforms come in another order',
      () => undefined,
      { platforms: ['linux/arm64', 'linux/amd64'] },
    ],
  ])('stays when %s', async (_what, change, over = {}) => {
    const base: Partial<ContentInputs> = over.buildArgs
      ? {
          buildArgs: new Map([
            ['A', '1'],
            ['B', '2'],
          ]),
        }
      : over.platforms
        ? { platforms: ['linux/amd64', 'linux/arm64'] }
        : {};
    const before = await deriveContentTag(apiInputs(base));
    change();
    expect((await deriveContentTag(apiInputs(over))).tag).toBe(before.tag);
  });

  it('reads a dirty context from its files: the same tree a commit of those files has', async () => {
    write('api/server.js', 'console.log(3)\n');
    const dirty = await contextTree(join(repo, 'api'));
    expect(dirty.dirty).toBe(true);
    git('commit', '-qam', 'three');
    const committed = await contextTree(join(repo, 'api'));
    expect(committed).toEqual({ tree: git('rev-parse', 'HEAD:api'), dirty: false, ignored: [] });
    expect(dirty.tree).toBe(committed.tree);
    // The repository's own index is left as it was.
    expect(git('status', '--porcelain')).toBe('');
  });

  it('lists the paths of the context that git ignores, each ignored folder once', async () => {
    write('api/node_modules/x/index.js', 'x\n');
    write('api/node_modules/y/index.js', 'y\n');
    write('worker/node_modules/z.js', 'z\n');
    expect((await contextTree(join(repo, 'api'))).ignored).toEqual(['api/node_modules/']);
  });

  it('takes the whole checkout when the context is its root', async () => {
    expect((await contextTree(repo)).tree).toBe(git('rev-parse', 'HEAD^{tree}'));
  });

  it('follows the Dockerfile bytes: equal bytes, equal tag; other bytes, other tag', () => {
    const tree = 'a'.repeat(40);
    const inputs = { buildArgs: new Map(), platforms: [] };
    expect(contentTagOf(tree, Buffer.from('FROM x\n'), inputs)).toBe(
      contentTagOf(tree, Buffer.from('FROM x\n'), inputs),
    );
    expect(contentTagOf(tree, Buffer.from('FROM x\n'), inputs)).not.toBe(
      contentTagOf(tree, Buffer.from('FROM y\n'), inputs),
    );
  });

  it.each([
    [
      'outside any git checkout',
      () => mkdtempSync(join(tmpdir(), 'no-git-')),
      /is not inside a git checkout git can read .*: git says fatal: not a git repository/,
    ],
    [
      'in a folder git ignores, saying git ignores it rather than echoing its hints',
      () => (
        write('.gitignore', 'node_modules/\nbuilt/\n'),
        write('built/Dockerfile', 'FROM scratch\n'),
        join(repo, 'built')
      ),
      /git could not read the build context .*built: The following paths are ignored by one of your \.gitignore files: built$/,
    ],
    [
      'without a Dockerfile',
      () => (mkdirSync(join(repo, 'empty')), join(repo, 'empty')),
      /no Dockerfile in the build context/,
    ],
  ])('fails %s', async (_what, context, message) => {
    const dir = context();
    if (!dir.startsWith(repo)) writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
    const attempt = deriveContentTag({ context: dir, buildArgs: new Map(), platforms: [] });
    await expect(attempt).rejects.toThrow(ContentTagError);
    await expect(attempt).rejects.toThrow(message);
  });
});
