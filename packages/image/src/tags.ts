import { TAG_PATTERN } from './reference';

/** What tag templates are rendered from. */
export interface TagContext {
  /** Full commit SHA (40 hex characters). */
  sha?: string;
  /** Branch name (`feature/login`), when the commit is on a branch. */
  branch?: string;
  /** The repository's default branch, when known (`main`). */
  defaultBranch?: string;
  /**
   * The run builds a pull request: `branch` is its head branch (a fork's `main` too), so the run
   * is never on the default branch.
   */
  pullRequest?: boolean;
  /** The moment of the build; `{{date}}` renders it as UTC `YYYYMMDD`. */
  now: Date;
}

/** The placeholders a tag template may use. */
export const PLACEHOLDERS = ['sha', 'short-sha', 'branch', 'date'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** A checked tag template. */
export interface TagTemplate {
  text: string;
  placeholders: Placeholder[];
}

/** Thrown for a template that cannot be used; the message says why, the caller names the input. */
export class TagTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TagTemplateError';
  }
}

/** A tag's longest length (the registry's limit). */
const MAX_TAG = 128;

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/**
 * Checks one template: only known placeholders, balanced braces, and literal text that may
 * appear in a tag. Throws {@link TagTemplateError}.
 */
export function parseTagTemplate(text: string): TagTemplate {
  const placeholders: Placeholder[] = [];
  const literal = text.replace(PLACEHOLDER, (_m, name: string) => {
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new TagTemplateError(
        `\`${text}\` uses the unknown placeholder \`{{${name}}}\`; known: ${PLACEHOLDERS.map((p) => `\`{{${p}}}\``).join(', ')}`,
      );
    }
    placeholders.push(name as Placeholder);
    return 'x';
  });
  if (/[{}]/.test(literal)) {
    throw new TagTemplateError(`\`${text}\` has an unbalanced \`{{\` or \`}}\``);
  }
  if (!TAG_PATTERN.test(literal)) {
    throw new TagTemplateError(
      `\`${text}\` cannot make a tag: tags are up to 128 letters, digits, \`_\`, \`.\` and \`-\`, not starting with \`.\` or \`-\``,
    );
  }
  return { text, placeholders };
}

/**
 * The templates used when `tags` is empty: the short SHA, plus `latest` on the default branch
 * (never for a pull request, whatever its head branch is called).
 */
export function defaultTagTemplates(ctx: TagContext): TagTemplate[] {
  const templates = [parseTagTemplate('{{short-sha}}')];
  if (!ctx.pullRequest && ctx.branch && ctx.defaultBranch && ctx.branch === ctx.defaultBranch) {
    templates.push(parseTagTemplate('latest'));
  }
  return templates;
}

/** A branch name made fit for a tag: `feature/Login#2` → `feature-Login-2`. */
export function sanitizeForTag(text: string): string {
  return text
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128);
}

function utcDate(now: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}`;
}

/**
 * Renders templates into tags, in order, without duplicates; a branch too long for the tag is
 * cut so that the whole tag fits 128 characters. Throws {@link TagTemplateError}
 * when a placeholder has no value (no commit, no branch) or the result is not a valid tag.
 */
export function renderTags(templates: TagTemplate[], ctx: TagContext): string[] {
  const values: Record<Placeholder, () => string> = {
    sha: () => need(ctx.sha, 'sha', 'a commit SHA (GITHUB_SHA or a git checkout)'),
    'short-sha': () => need(ctx.sha, 'short-sha', 'a commit SHA').slice(0, 7),
    branch: () =>
      sanitizeForTag(need(ctx.branch, 'branch', 'a branch (this run is not on a branch)')),
    date: () => utcDate(ctx.now),
  };
  const tags: string[] = [];
  for (const t of templates) {
    const render = (branch?: string): string =>
      t.text.replace(PLACEHOLDER, (_m, name: string) =>
        name === 'branch' && branch !== undefined ? branch : values[name as Placeholder](),
      );
    let tag = render();
    const branches = t.placeholders.filter((p) => p === 'branch').length;
    if (tag.length > MAX_TAG && branches) {
      // A long branch is cut so that the whole tag fits, not only the branch's part of it.
      const room = Math.floor((MAX_TAG - render('').length) / branches);
      if (room > 0) tag = render(values.branch().slice(0, room));
    }
    if (!TAG_PATTERN.test(tag)) {
      throw new TagTemplateError(`\`${t.text}\` rendered \`${tag}\`, which is not a valid tag`);
    }
    if (!tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

function need(value: string | undefined, name: string, what: string): string {
  if (!value) throw new TagTemplateError(`\`{{${name}}}\` needs ${what}`);
  return value;
}

/**
 * The tag that identifies this commit: the first rendered tag whose template uses `{{sha}}` or
 * `{{short-sha}}`. Undefined when no template does.
 */
export function commitTag(templates: TagTemplate[], ctx: TagContext): string | undefined {
  for (const t of templates) {
    if (t.placeholders.includes('sha') || t.placeholders.includes('short-sha')) {
      return renderTags([t], ctx)[0];
    }
  }
  return undefined;
}
