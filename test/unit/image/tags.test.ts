import {
  commitTag,
  defaultTagTemplates,
  parseTagTemplate,
  renderTags,
  sanitizeForTag,
  TagTemplateError,
  type TagContext,
} from '../../../packages/image/src/tags';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const ctx: TagContext = {
  sha: SHA,
  branch: 'feature/Login#2',
  defaultBranch: 'main',
  now: new Date('2026-03-04T23:59:00Z'),
};

describe('tag templates', () => {
  it.each([
    ['{{sha}}', SHA],
    ['{{short-sha}}', '0123456'],
    ['{{ short-sha }}', '0123456'],
    ['{{branch}}', 'feature-Login-2'],
    ['{{date}}', '20260304'],
    ['v1.2.3', 'v1.2.3'],
    ['{{branch}}-{{short-sha}}', 'feature-Login-2-0123456'],
    ['release-{{date}}.{{short-sha}}', 'release-20260304.0123456'],
  ])('renders %s as %s', (template, tag) => {
    expect(renderTags([parseTagTemplate(template)], ctx)).toEqual([tag]);
  });

  it.each([
    ['{{commit}}', /unknown placeholder `\{\{commit\}\}`/],
    ['{{sha}', /unbalanced/],
    ['v1 {{sha}}', /cannot make a tag/],
    ['-{{sha}}', /cannot make a tag/],
    ['', /cannot make a tag/],
  ])('rejects %j', (template, message) => {
    expect(() => parseTagTemplate(template)).toThrow(TagTemplateError);
    expect(() => parseTagTemplate(template)).toThrow(message);
  });

  it.each([
    ['{{sha}}', { ...ctx, sha: undefined }, /needs a commit SHA/],
    ['{{branch}}', { ...ctx, branch: undefined }, /needs a branch/],
  ])('fails to render %s without its value', (template, context, message) => {
    expect(() => renderTags([parseTagTemplate(template)], context)).toThrow(message);
  });

  it.each([
    ['{{branch}}', 128],
    ['pr-{{branch}}-{{short-sha}}', 128],
    ['{{branch}}.{{branch}}', 127],
  ])('shortens a long branch so that %s still makes a tag', (template, length) => {
    const c = { ...ctx, branch: `feature/${'x'.repeat(150)}` };
    const [tag] = renderTags([parseTagTemplate(template)], c);
    expect(tag).toHaveLength(length);
    expect(tag).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/);
    if (template.includes('short-sha')) expect(tag.endsWith('-0123456')).toBe(true);
  });

  it('drops duplicate tags and keeps the order', () => {
    const templates = ['latest', '{{short-sha}}', 'latest'].map(parseTagTemplate);
    expect(renderTags(templates, ctx)).toEqual(['latest', '0123456']);
  });

  it.each([
    ['main', ['0123456', 'latest']],
    ['feature/x', ['0123456']],
    [undefined, ['0123456']],
  ])('defaults on branch %s to %j', (branch, tags) => {
    const c = { ...ctx, branch };
    expect(renderTags(defaultTagTemplates(c), c)).toEqual(tags);
  });

  it('leaves latest out for a pull request even when its head branch is the default branch', () => {
    const c = { ...ctx, branch: 'main', pullRequest: true };
    expect(renderTags(defaultTagTemplates(c), c)).toEqual(['0123456']);
  });

  it('finds the commit tag from the first template that uses the SHA', () => {
    const templates = ['latest', '{{branch}}-{{short-sha}}', '{{sha}}'].map(parseTagTemplate);
    expect(commitTag(templates, ctx)).toBe('feature-Login-2-0123456');
    expect(commitTag(['latest', '{{date}}'].map(parseTagTemplate), ctx)).toBeUndefined();
  });

  it('makes branch names fit for a tag', () => {
    expect(sanitizeForTag('.hidden/feature')).toBe('hidden-feature');
    expect(sanitizeForTag('a'.repeat(200))).toHaveLength(128);
  });
});
