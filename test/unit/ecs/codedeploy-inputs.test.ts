import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getInputs } from '../../../actions/ecs-deploy/src/inputs';
import { InputParser } from '../../../packages/kit/src/inputs';

const IMAGE = 'web=registry.example/web:v2';

function inputs(values: Record<string, string>): ReturnType<typeof getInputs> {
  return getInputs(new InputParser((name) => values[name] ?? ''));
}

const savedRegion = process.env.AWS_REGION;
beforeAll(() => {
  process.env.AWS_REGION = 'us-east-1';
});
afterAll(() => {
  if (savedRegion === undefined) delete process.env.AWS_REGION;
  else process.env.AWS_REGION = savedRegion;
});

test('the CodeDeploy inputs are read: names, configuration, test-traffic', () => {
  const read = inputs({
    service: 'web',
    'container-images': IMAGE,
    'codedeploy-application': 'shop',
    'codedeploy-deployment-group': 'shop-prod',
    'codedeploy-config': 'CodeDeployDefault.ECSCanary10Percent5Minutes',
    'wait-until': 'test-traffic',
  });
  expect(read.codeDeploy).toEqual({
    application: 'shop',
    deploymentGroup: 'shop-prod',
    config: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
    appSpec: undefined,
  });
  expect(read.waitUntil).toBe('test-traffic');
  expect(read.timeoutMs).toBe(30 * 60_000);
});

test('continue-deployment needs no images', () => {
  const read = inputs({ service: 'web', 'continue-deployment': 'd-A1B2C3D4E' });
  expect(read.continueDeployment).toBe('d-A1B2C3D4E');
});

test.each([
  [
    { 'container-images': IMAGE, 'codedeploy-application': 'a b' },
    /Input `codedeploy-application`/,
  ],
  [
    { 'container-images': IMAGE, 'codedeploy-appspec': 'missing.json' },
    /Input `codedeploy-appspec`: file `missing.json` was not found/,
  ],
  [{ 'continue-deployment': 'deploy-1' }, /Input `continue-deployment`/],
  [
    { 'continue-deployment': 'd-A1B2C3D4E', 'container-images': IMAGE },
    /Input `container-images` does not apply with `continue-deployment`/,
  ],
  [
    { 'continue-deployment': 'd-A1B2C3D4E', 'wait-until': 'test-traffic' },
    /Input `wait-until` is `test-traffic`, but `continue-deployment`/,
  ],
  [
    { 'continue-deployment': 'd-A1B2C3D4E', 'dry-run': 'true' },
    /Input `dry-run` does not apply with `continue-deployment`/,
  ],
  [{ 'container-images': IMAGE, 'wait-until': 'soon' }, /Input `wait-until`/],
  [{}, /Input `container-images` is required/],
])('%j is refused naming the input', (values, message) => {
  expect(() => inputs({ service: 'web', ...values })).toThrow(message);
});

describe('codedeploy-appspec', () => {
  const savedWorkspace = process.env.GITHUB_WORKSPACE;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'appspec-'));
    process.env.GITHUB_WORKSPACE = dir;
    writeFileSync(
      join(dir, 'appspec.yaml'),
      'version: 0.0\nHooks:\n  - AfterAllowTestTraffic: smoke\n',
    );
    writeFileSync(join(dir, 'broken.yml'), 'version: 0.0\nHooks:\n\t- x\n');
    writeFileSync(join(dir, 'list.json'), '[{"version": 0.0}]');
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    if (savedWorkspace === undefined) delete process.env.GITHUB_WORKSPACE;
    else process.env.GITHUB_WORKSPACE = savedWorkspace;
  });

  test('a YAML file is read into the AppSpec', () => {
    const read = inputs({
      service: 'web',
      'container-images': IMAGE,
      'codedeploy-appspec': 'appspec.yaml',
    });
    expect(read.codeDeploy.appSpec).toEqual({
      path: 'appspec.yaml',
      json: { version: 0, Hooks: [{ AfterAllowTestTraffic: 'smoke' }] },
    });
  });

  test.each([
    [
      'broken.yml',
      'Input `codedeploy-appspec`: file `broken.yml`: it is not valid YAML or JSON (line 3, column 1: TAB_AS_INDENT).',
    ],
    [
      'list.json',
      'Input `codedeploy-appspec`: file `list.json`: it holds a list; an AppSpec is a mapping with `version` and `Resources`.',
    ],
  ])('%s is refused naming the input, the file and where', (file, message) => {
    expect(() =>
      inputs({ service: 'web', 'container-images': IMAGE, 'codedeploy-appspec': file }),
    ).toThrow(message);
  });
});
