import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { ImageError } from './errors';
import { runCommand, type Run } from './exec';

/** Prefix of every content tag: `content-<40 hex>`. */
export const CONTENT_TAG_PREFIX = 'content-';

/** What a content tag is derived from: the build inputs that decide what an image holds. */
export interface ContentInputs {
  /** Absolute build context directory, inside a git checkout. */
  context: string;
  /** Absolute Dockerfile path; undefined for `<context>/Dockerfile` (or `Containerfile`). */
  file?: string;
  target?: string;
  buildArgs: Map<string, string>;
  /** Target platforms; their order does not matter. */
  platforms: string[];
}

/** The git tree of a build context and how it was read. */
export interface ContextTree {
  /** The tree object id of the context folder as its files are now. */
  tree: string;
  /** True when the context differs from the commit (changed or untracked files): hashed from the files. */
  dirty: boolean;
  /**
   * Paths in the context that git ignores, so the tree does not cover them (a folder counts
   * once): a build that copies one would not be seen to change.
   */
  ignored: string[];
}

/** The content tag of an image and what went into it. */
export interface ContentTag extends ContextTree {
  tag: string;
}

/** A content tag that cannot be derived (no git checkout, no Dockerfile). */
export class ContentTagError extends ImageError {
  constructor(message: string) {
    super(message);
    this.name = 'ContentTagError';
  }
}

// The names come from a list so that the bundler does not mistake them for assets to ship.
const DEFAULT_FILES: readonly string[] = ['Dockerfile', 'Containerfile'];

async function git(
  run: Run,
  args: string[],
  cwd: string,
  env?: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const result = await run('git', args, { cwd, env: env ?? process.env, timeoutMs: 120_000 });
  return result.code === 0 ? result.stdout.trim() : undefined;
}

/**
 * The git tree object id of the folder `context` as its files are now. A context that matches
 * the commit is read from it (`git rev-parse HEAD:<path>`, nothing written); a dirty one (changed
 * or untracked files) is hashed from the files through a temporary index (`git add -A`, `git
 * write-tree --prefix`), which gives the same id as a commit of those files would: the id only
 * depends on the files. Files git ignores are not part of it.
 */
export async function contextTree(context: string, run: Run = runCommand): Promise<ContextTree> {
  const dir = await realpath(context).catch(() => {
    throw new ContentTagError(`the build context ${context} does not exist`);
  });
  const found = await run('git', ['rev-parse', '--show-toplevel'], {
    cwd: dir,
    env: process.env,
    timeoutMs: 120_000,
  });
  const top = found.code === 0 ? found.stdout.trim() : '';
  if (!top) {
    // git's own words say why (no checkout, or one it refuses to read: `safe.directory`).
    const why = found.lines.filter((l) => l.trim()).slice(-1)[0];
    throw new ContentTagError(
      `the build context ${context} is not inside a git checkout git can read (the content tag is the git tree of the context)${why ? `: git says ${why.trim()}` : ''}`,
    );
  }
  const rel = relative(await realpath(top), dir)
    .split(sep)
    .join('/');
  if (rel.startsWith('..'))
    throw new ContentTagError(`the build context ${context} is outside ${top}`);
  const pathspec = rel || '.';
  const ignoredOut = await git(
    run,
    ['ls-files', '--others', '--ignored', '--exclude-standard', '--directory', '--', pathspec],
    top,
  );
  const ignored = (ignoredOut ?? '').split('\n').filter(Boolean);
  const status = await git(
    run,
    ['status', '--porcelain', '--untracked-files=all', '--', pathspec],
    top,
  );
  if (status === '') {
    const tree = await git(run, ['rev-parse', '--verify', '--quiet', `HEAD:${rel}`], top);
    if (tree) return { tree, dirty: false, ignored };
  }
  const scratch = await mkdtemp(join(tmpdir(), 'shipkit-content-tag-'));
  try {
    const env = { ...process.env, GIT_INDEX_FILE: join(scratch, 'index') };
    // Start from the commit (when there is one) so unchanged files are not all read again.
    await git(run, ['read-tree', 'HEAD'], top, env);
    const added = await run('git', ['add', '--all', '--', pathspec], {
      cwd: top,
      env,
      timeoutMs: 600_000,
    });
    if (added.code !== 0) {
      throw new ContentTagError(
        `git could not read the build context ${context}: ${added.lines
          // git's `hint:` lines say how to silence advice; what went wrong is in the others.
          .filter((line) => line.trim() && !line.startsWith('hint:'))
          .slice(-2)
          .join(' ')}`,
      );
    }
    const tree = await git(run, ['write-tree', ...(rel ? [`--prefix=${rel}/`] : [])], top, env);
    if (!tree) throw new ContentTagError(`the build context ${context} holds no file git can see`);
    return { tree, dirty: true, ignored };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The Dockerfile a build uses: `file`, else `Dockerfile` or `Containerfile` in the context. */
export function dockerfileOf(inputs: Pick<ContentInputs, 'context' | 'file'>): string {
  if (inputs.file) return inputs.file;
  const found = DEFAULT_FILES.map((name) => resolve(inputs.context, name)).find((p) =>
    existsSync(p),
  );
  if (!found) throw new ContentTagError(`no Dockerfile in the build context ${inputs.context}`);
  return found;
}

/**
 * The tag naming an image by its build inputs: `content-` and 40 hex characters of a SHA-256 over
 * the git tree of the context folder, the Dockerfile's bytes (wherever it lives), the target, the
 * build arguments and the platforms (in any order). It changes when any of them does, and not
 * with the commit, the date, the labels or the build secrets, so two commits whose inputs are
 * equal share it.
 */
export function contentTagOf(
  tree: string,
  dockerfile: Buffer,
  inputs: Pick<ContentInputs, 'target' | 'buildArgs' | 'platforms'>,
): string {
  const canonical = JSON.stringify({
    v: 1,
    tree,
    dockerfile: createHash('sha256').update(dockerfile).digest('hex'),
    target: inputs.target ?? '',
    buildArgs: [...inputs.buildArgs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    platforms: [...new Set(inputs.platforms)].sort(),
  });
  return `${CONTENT_TAG_PREFIX}${createHash('sha256').update(canonical).digest('hex').slice(0, 40)}`;
}

/** Derives the content tag of one image (see {@link contentTagOf} and {@link contextTree}). */
export async function deriveContentTag(
  inputs: ContentInputs,
  run: Run = runCommand,
): Promise<ContentTag> {
  const file = dockerfileOf(inputs);
  const dockerfile = await readFile(file).catch(() => {
    throw new ContentTagError(`cannot read the Dockerfile ${file}`);
  });
  const tree = await contextTree(inputs.context, run);
  return { ...tree, tag: contentTagOf(tree.tree, dockerfile, inputs) };
}
