// Generates action-docs/<action>.md from each actions/<action>/action.yml and the actions table
// in README.md (between the `actions-table` markers). Also checks the metadata rules we rely on:
// node24, a `main` that points at the action's bundle, a description and branding, and every
// input and output described. Exits 1 when a rule is broken.
//
// Usage: node scripts/docs.mjs [--check]   (--check: fail when the committed files are stale)
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const check = process.argv.includes('--check');
const problems = [];
const stale = [];

function write(path, content) {
  const old = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (old === content) return;
  if (check) stale.push(path.slice(root.length + 1));
  else writeFileSync(path, content);
}

const esc = (text) =>
  String(text ?? '')
    .trim()
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, '<br>');

const actions = readdirSync(join(root, 'actions'))
  .filter((name) => existsSync(join(root, 'actions', name, 'action.yml')))
  .sort()
  .map((name) => {
    try {
      return { name, meta: parse(readFileSync(join(root, 'actions', name, 'action.yml'), 'utf8')) };
    } catch (error) {
      problems.push(`actions/${name}/action.yml: ${error.message.split('\n')[0]}`);
      return undefined;
    }
  })
  .filter(Boolean);

/**
 * Inputs the usage snippet shows besides the required ones, for actions where one of several
 * inputs is needed (none is marked required) or a usual step sets more than the minimum.
 */
const USUAL_INPUTS = {
  'build-and-push': ['repository'],
  'db-backup': ['bucket', 'database-url'],
  'ecs-deploy': ['cluster', 'container-images'],
  'health-gate': ['url'],
  rollback: ['cluster', 'to'],
  'run-task': ['cluster', 'service', 'command'],
};

for (const { name, meta } of actions) {
  const where = `actions/${name}/action.yml`;
  if (!meta?.name) problems.push(`${where}: missing name`);
  if (!meta?.description) problems.push(`${where}: missing description`);
  if (!meta?.branding?.icon || !meta?.branding?.color)
    problems.push(`${where}: missing branding icon/color`);
  if (meta?.runs?.using !== 'node24') problems.push(`${where}: runs.using must be node24`);
  if (meta?.runs?.main !== `../../dist/${name}/index.js`) {
    problems.push(`${where}: runs.main must be ../../dist/${name}/index.js`);
  }
  for (const key of ['main', 'post', 'pre']) {
    const file = meta?.runs?.[key];
    if (file && !existsSync(join(root, 'actions', name, file)))
      problems.push(`${where}: runs.${key} ${file} does not exist (run npm run build)`);
  }
  for (const [input, spec] of Object.entries(meta?.inputs ?? {})) {
    if (!spec?.description) problems.push(`${where}: input ${input} has no description`);
    if (!spec?.required && spec?.default === undefined)
      problems.push(`${where}: optional input ${input} has no default (use '' for unset)`);
  }
  for (const [output, spec] of Object.entries(meta?.outputs ?? {})) {
    if (!spec?.description) problems.push(`${where}: output ${output} has no description`);
  }
}

mkdirSync(join(root, 'action-docs'), { recursive: true });
const wanted = new Set(actions.map((a) => `${a.name}.md`));
for (const file of readdirSync(join(root, 'action-docs'))) {
  if (!wanted.has(file)) {
    if (check) stale.push(`action-docs/${file}`);
    else rmSync(join(root, 'action-docs', file));
  }
}

for (const { name, meta } of actions) {
  const inputs = Object.entries(meta.inputs ?? {});
  const outputs = Object.entries(meta.outputs ?? {});
  const shown = inputs.filter(([k, s]) => s?.required || USUAL_INPUTS[name]?.includes(k));
  const usage = [
    `- uses: <owner>/shipkit/actions/${name}@v1`,
    ...(shown.length ? ['  with:'] : []),
    ...shown.map(([k]) => `    ${k}: …`),
  ].join('\n');
  const doc = [
    `<!-- Generated from actions/${name}/action.yml by \`npm run docs\`. Do not edit. -->`,
    `# ${meta.name}`,
    '',
    String(meta.description).trim(),
    '',
    '## Usage',
    '',
    '```yaml',
    usage,
    '```',
    '',
    '## Inputs',
    '',
    inputs.length
      ? '| Name | Required | Default | Description |\n| --- | --- | --- | --- |'
      : '_None._',
    ...inputs.map(
      ([k, s]) =>
        `| \`${k}\` | ${s?.required ? 'yes' : 'no'} | ${s?.default !== undefined && s.default !== '' ? `\`${esc(s.default)}\`` : ''} | ${esc(s?.description)} |`,
    ),
    '',
    '## Outputs',
    '',
    outputs.length ? '| Name | Description |\n| --- | --- |' : '_None._',
    ...outputs.map(([k, s]) => `| \`${k}\` | ${esc(s?.description)} |`),
    '',
    '## Runs',
    '',
    `\`${meta.runs?.using}\`, main \`${meta.runs?.main}\`${meta.runs?.post ? `, post \`${meta.runs.post}\`` : ''}.`,
    '',
  ].join('\n');
  write(join(root, 'action-docs', `${name}.md`), doc);
}

const readmePath = join(root, 'README.md');
if (existsSync(readmePath)) {
  const readme = readFileSync(readmePath, 'utf8');
  const start = '<!-- actions-table:start -->';
  const end = '<!-- actions-table:end -->';
  const table = [
    start,
    '| Action | What it does | Reference |',
    '| --- | --- | --- |',
    ...actions.map(
      ({ name, meta }) =>
        `| \`${name}\` | ${esc(String(meta.description).split(/(?<=\.)\s/)[0])} | [action-docs/${name}.md](action-docs/${name}.md) |`,
    ),
    end,
  ].join('\n');
  const a = readme.indexOf(start);
  const b = readme.indexOf(end);
  if (a >= 0 && b > a) write(readmePath, readme.slice(0, a) + table + readme.slice(b + end.length));
  else problems.push('README.md: missing the actions-table markers');
}

for (const p of problems) console.error(`error: ${p}`);
for (const s of stale) console.error(`stale: ${s} (run npm run docs)`);
if (problems.length || stale.length) process.exit(1);
console.log(`${check ? 'checked' : 'wrote'} docs for ${actions.length} actions`);
