import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { actionlint } from '../../../packages/workflow/src/actionlint';
import {
  checkActionMetadata,
  checkWorkflow,
  fileCheckContext,
} from '../../../packages/workflow/src/checks';
import { parseWorkflow, type ActionMeta } from '../../../packages/workflow/src/model';

const ROOT = join(__dirname, '..', '..', '..');
const EXAMPLES = join(ROOT, 'workflows-examples');
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yml'));
const actions = readdirSync(join(ROOT, 'actions')).filter((a) =>
  existsSync(join(ROOT, 'actions', a, 'action.yml')),
);
const ctx = fileCheckContext(ROOT);
const read = (file: string): string => readFileSync(join(EXAMPLES, file), 'utf8');
const check = (file: string, text: string): string[] =>
  checkWorkflow(parseWorkflow(text, join(EXAMPLES, file)), ctx);

/** Applies one planted mistake, failing loudly if the text to replace is no longer there. */
function plant(text: string, from: string, to: string): string {
  expect(text).toContain(from);
  return text.replace(from, to);
}

describe('the example workflows', () => {
  test('the folder holds every workflow the issue asks for', () => {
    expect(files.sort()).toEqual(
      [
        'db-backup-nightly.yml',
        'deploy-codedeploy.yml',
        'deploy-dev.yml',
        'deploy-production.yml',
        'deploy-staging.yml',
        'deploy.yml',
        'rollback.yml',
        'scheduled-task.yml',
      ].sort(),
    );
  });

  test.each(files)('%s passes actionlint', async (file) => {
    const findings = await actionlint(read(file), file);
    expect(findings.map((f) => `${file}:${f.line}:${f.column} ${f.kind}: ${f.message}`)).toEqual(
      [],
    );
  });

  test.each(files)('%s matches the action.yml of every shipkit action it uses', (file) => {
    expect(check(file, read(file))).toEqual([]);
  });

  test.each(files)('%s pins every third-party action to a full commit SHA', (file) => {
    const uses = [...read(file).matchAll(/uses:\s*([^\s#]+)/g)].map((m) => m[1]);
    const thirdParty = uses.filter((u) => !u.startsWith('./') && !/\/shipkit\/actions\//.test(u));
    for (const u of thirdParty) expect(u).toMatch(/@[0-9a-f]{40}$/);
  });

  test.each(files)('%s grants no default permissions', (file) => {
    expect(parse(read(file)).permissions).toEqual({});
  });

  test('production never cancels a running deploy', () => {
    expect(parse(read('deploy-production.yml')).concurrency).toEqual({
      group: 'deploy-production',
      'cancel-in-progress': false,
    });
  });
});

describe('the checks catch planted mistakes', () => {
  test.each<[string, string, string, string, string]>([
    [
      'an unknown input',
      'deploy.yml',
      '          wait-until: ${{ inputs.wait-until }}',
      '          wait-until: ${{ inputs.wait-until }}\n          wait-til: stable',
      '`wait-til` is not an input of ecs-deploy',
    ],
    [
      'a missing required input',
      'deploy.yml',
      '          service: ${{ inputs.service }}\n          task-definition:',
      '          task-definition:',
      'required input `service` of ecs-deploy is not given',
    ],
    [
      'an output the step does not produce',
      'deploy.yml',
      'steps.deploy.outputs.previous-task-definition-arn',
      'steps.deploy.outputs.previous-task-definition',
      'step `deploy` does not produce output `previous-task-definition`',
    ],
    [
      'a job output read from an output the step does not produce',
      'deploy.yml',
      'image: ${{ steps.image.outputs.image }}',
      'image: ${{ steps.image.outputs.image-uri }}',
      'step `image` does not produce output `image-uri`',
    ],
    [
      'a step read before it runs',
      'deploy.yml',
      'task-definition: ${{ steps.migrate-setup.outputs.task-definition }}',
      'task-definition: ${{ steps.gate.outputs.reason }}',
      '`steps.gate` is read before that step runs',
    ],
    [
      'an input of a shipkit action spelled through its remote reference',
      'rollback.yml',
      '          to: ${{ inputs.version }}',
      '          version: ${{ inputs.version }}',
      '`version` is not an input of rollback',
    ],
    [
      'an unknown input of the reusable workflow',
      'deploy-staging.yml',
      '      strategy: rolling',
      '      strategy: rolling\n      colour: blue',
      '`colour` is not an input of ./.github/workflows/deploy.yml',
    ],
    [
      'a missing required input of the reusable workflow',
      'deploy-dev.yml',
      '      service: app\n',
      '',
      'required input `service` of ./.github/workflows/deploy.yml is not given',
    ],
    [
      'an undeclared workflow input',
      'deploy.yml',
      'if: inputs.backup',
      'if: inputs.back-up',
      '`inputs.back-up` is not a declared input',
    ],
    [
      'a reusable workflow output read from a job output that does not exist',
      'deploy.yml',
      'value: ${{ jobs.deploy.outputs.image }}',
      'value: ${{ jobs.deploy.outputs.digest }}',
      'job `deploy` has no output `digest`',
    ],
  ])('%s (%s)', (_what, file, from, to, message) => {
    const problems = check(file, plant(read(file), from, to));
    expect(problems.join('\n')).toContain(message);
  });

  test('an action that does not exist is reported', () => {
    const text = plant(
      read('deploy.yml'),
      'shipkit/actions/health-gate@v1',
      'shipkit/actions/health-check@v1',
    );
    expect(check('deploy.yml', text).join('\n')).toContain(
      'uses shipkit action `health-check`, which has no actions/health-check/action.yml',
    );
  });

  test.each<[string, string, string, string]>([
    [
      'a misspelled context property',
      'deploy-production.yml',
      'github.event.workflow_run.conclusion',
      'github.events.workflow_run.conclusion',
    ],
    [
      'a non-boolean cancel-in-progress',
      'deploy-production.yml',
      'cancel-in-progress: false',
      'cancel-in-progress: sometimes',
    ],
    [
      'an unknown step output in an expression',
      'deploy.yml',
      'steps.gate.outputs.reason',
      'steps.gait.outputs.reason',
    ],
    ['a bad cron schedule', 'db-backup-nightly.yml', "cron: '17 3 * * *'", "cron: '17 25 * * *'"],
  ])('actionlint reports %s (%s)', async (_what, file, from, to) => {
    const findings = await actionlint(plant(read(file), from, to), file);
    expect(findings.length).toBeGreaterThan(0);
  });
});

describe('action metadata', () => {
  const metaOf = (name: string): ActionMeta =>
    parse(readFileSync(join(ROOT, 'actions', name, 'action.yml'), 'utf8')) as ActionMeta;
  const exists = (name: string) => (file: string) => existsSync(join(ROOT, 'actions', name, file));

  test.each(actions)('actions/%s/action.yml follows the metadata rules', (name) => {
    expect(checkActionMetadata(name, metaOf(name), exists(name))).toEqual([]);
  });

  test.each<[string, (m: ActionMeta) => void, string]>([
    [
      'a runtime other than node24',
      (m) => (m.runs!.using = 'node20'),
      '`runs.using` is `node20`, not `node24`',
    ],
    [
      'a main that does not exist',
      (m) => (m.runs!.main = '../../dist/health-gate/missing.js'),
      '`runs.main` must be',
    ],
    [
      'an undescribed input',
      (m) => delete m.inputs!.url!.description,
      'input `url` has no description',
    ],
    [
      'an optional input without a default',
      (m) => delete m.inputs!.method!.default,
      'optional input `method` has no `default`',
    ],
    [
      'an undescribed output',
      (m) => delete m.outputs!.healthy!.description,
      'output `healthy` has no description',
    ],
  ])('reports %s', (_what, mutate, message) => {
    const meta = metaOf('health-gate');
    mutate(meta);
    expect(checkActionMetadata('health-gate', meta, exists('health-gate')).join('\n')).toContain(
      message,
    );
  });

  test('a post entry that is not built is reported', () => {
    const meta = metaOf('health-gate');
    meta.runs!.post = '../../dist/health-gate/post.js';
    expect(checkActionMetadata('health-gate', meta, () => false).join('\n')).toContain(
      '`runs.post` ../../dist/health-gate/post.js does not exist',
    );
  });
});
