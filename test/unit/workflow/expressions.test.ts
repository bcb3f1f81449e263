import {
  ExpressionError,
  evaluateExpression,
  interpolate,
  type Contexts,
  type StatusFunctions,
} from '../../../packages/workflow/src/expressions';

const contexts: Contexts = {
  github: { sha: 'abc123', ref_name: 'main', event: { workflow_run: { conclusion: 'success' } } },
  steps: {
    deploy: {
      outcome: 'failure',
      conclusion: 'failure',
      outputs: { status: 'failed', 'previous-task-definition-arn': '' },
    },
    gate: { outcome: 'skipped', outputs: {} },
  },
  needs: { build: { result: 'success', outputs: { image: 'repo@sha256:1' } } },
  inputs: { environment: 'staging', backup: false, count: 3, 'promote-from': '' },
  env: { LIST: '["a","b"]' },
  vars: { NAME: 'app' },
  secrets: {},
  matrix: { items: [{ name: 'x' }, { name: 'y' }] },
};
const failed: StatusFunctions = {
  success: () => false,
  failure: () => true,
  cancelled: () => false,
};

test.each<[string, unknown]>([
  ["github.ref_name == 'main'", true],
  ["github.ref_name == 'MAIN'", true],
  ["github.ref_name != 'main'", false],
  ['steps.deploy.outputs.status', 'failed'],
  ["steps['deploy'].outputs['status']", 'failed'],
  ['STEPS.Deploy.Outputs.Status', 'failed'],
  ['steps.missing.outputs.x', null],
  ["steps.deploy.outputs.previous-task-definition-arn || 'previous'", 'previous'],
  ["inputs.environment == 'staging' && 'yes' || 'no'", 'yes'],
  ['inputs.backup', false],
  ['!inputs.backup', true],
  ['inputs.count > 2', true],
  ["inputs.count == '3'", true],
  ['null == 0', true],
  ["'' == 0", true],
  ['true == 1', true],
  ["format('{0}-{1} {{x}}', vars.NAME, inputs.count)", 'app-3 {x}'],
  ["contains(github.ref_name, 'AI')", true],
  ["contains(fromJSON(env.LIST), 'b')", true],
  ["startsWith(github.sha, 'ABC')", true],
  ["endsWith(github.sha, '124')", false],
  ["join(fromJSON('[1,2]'), '+')", '1+2'],
  ["join(matrix.items.*.name, ',')", 'x,y'],
  ['toJSON(fromJSON(\'{"a":1}\'))', '{\n  "a": 1\n}'],
  ['fromJSON(\'["staging","production"]\')', ['staging', 'production']],
  ['needs.build.outputs.image', 'repo@sha256:1'],
  ["github.event.workflow_run.conclusion == 'success'", true],
  ['(1 < 2) && !(2 <= 1) && 3 >= 3 && 0x10 == 16 && -1.5 < 0', true],
  ["'it''s'", "it's"],
])('%s evaluates to %j', (src, expected) => {
  expect(evaluateExpression(src, contexts, { status: failed })).toEqual(expected);
});

test.each<[string, boolean]>([
  ['success()', false],
  ['failure()', true],
  ['always()', true],
  ['cancelled()', false],
  ["failure() && (steps.deploy.outcome == 'failure' || steps.gate.outcome == 'failure')", true],
])('status function %s answers from the job status', (src, expected) => {
  expect(evaluateExpression(src, contexts, { status: failed })).toBe(expected);
});

test('interpolation keeps the type of a lone expression and joins text with several parts', () => {
  expect(interpolate('${{ inputs.count }}', contexts)).toBe(3);
  expect(interpolate("${{ fromJSON('[1]') }}", contexts)).toEqual([1]);
  expect(
    interpolate('image=${{ needs.build.outputs.image }} n=${{ inputs.count }}', contexts),
  ).toBe('image=repo@sha256:1 n=3');
  expect(interpolate("a ${{ 'b}}c' }} d", contexts)).toBe('a b}}c d');
  expect(interpolate('no expressions', contexts)).toBe('no expressions');
});

test.each<[string, RegExp]>([
  ['github.', /property name/],
  ["'open", /unterminated string/],
  ['nosuch.context', /unknown context `nosuch`/],
  ['frobnicate(1)', /unknown function `frobnicate\(\)`/],
  ['fromJSON(vars.NAME)', /fromJSON: not JSON/],
  ["format('{3}', 1)", /bad placeholder/],
  ['1 2', /unexpected text/],
])('%s is rejected with a readable error', (src, message) => {
  expect(() => evaluateExpression(src, contexts, { status: failed })).toThrow(ExpressionError);
  expect(() => evaluateExpression(src, contexts, { status: failed })).toThrow(message);
});

test('status functions are refused where no job status exists', () => {
  expect(() => evaluateExpression('success()', contexts)).toThrow(/not available here/);
});
