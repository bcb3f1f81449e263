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
