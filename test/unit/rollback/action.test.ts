/**
 * The rollback action's own layer, through `run(deps)` with a scripted ECS, a virtual clock and a
 * recording GitHub Deployments client: the outputs, the summary's verdict, the GitHub Deployment
 * statuses, and bad `to` values refused with the input named.
 */
import { run } from '../../../actions/rollback/src/main';
import type { EcsApi } from '../../../packages/ecs/src/api';
import {
  GitHubDeployments,
  type CreateDeploymentOptions,
  type DeploymentState,
  type StatusOptions,
} from '../../../packages/kit/src/github-deployments';
import {
  crashedTask,
  FakeClock,
  FakeEcs,
  rolling,
  service,
  T0,
  TD1,
  TD2,
  type Moment,
} from '../ecs/fake-ecs';
import { runInProcess, type InProcessRun } from './in-process-run';

/** The service runs web:2 (TD2); web:1 (TD1) is the revision before it. */
const initial = service([rolling(TD2, 'COMPLETED', 2, 2, { status: 'PRIMARY' })]);

/** ECS after the update: web:1 settled with `running` of 2 tasks. */
const onWeb1 = (running: number, pending: number): Moment['service'] =>
  service([rolling(TD1, 'COMPLETED', running, 2, { status: 'PRIMARY', pendingCount: pending })]);

const settled = (): Moment => ({ service: onWeb1(2, 0) });
/** ECS after the update: web:1 rolling out, one of its two tasks never starts. */
const pending = (): Moment => ({
  service: service([rolling(TD1, 'IN_PROGRESS', 1, 2, { status: 'PRIMARY', pendingCount: 1 })]),
});
const crashing = (ms: number): Moment => ({
  service: onWeb1(0, 2),
  stopped: [crashedTask('a1', 3, T0 + Math.min(ms, 100), undefined, TD1)],
});

/** A GitHub Deployments client that records what the action asks of it, on no network. */
class RecordingGitHub extends GitHubDeployments {
  readonly created: CreateDeploymentOptions[] = [];
  readonly statuses: { id: number; state: DeploymentState; description?: string }[] = [];

  constructor() {
    super('test-token', { apiUrl: 'http://github.invalid', repository: 'acme/shop', sha: 'f00d' });
  }

  override async create(opts: CreateDeploymentOptions): Promise<number> {
    this.created.push(opts);
    return 42;
  }

  override async setStatus(
    id: number,
    state: DeploymentState,
    opts: StatusOptions = {},
  ): Promise<void> {
    this.statuses.push({ id, state, description: opts.description });
  }
}

interface Rollback {
  result: InProcessRun;
  ecs: FakeEcs;
  github: RecordingGitHub;
}

/** The fake's API, answering `family:revision` with the full ARN as ECS does. */
function withRevisions(ecs: FakeEcs): EcsApi {
  const api = ecs.api;
  return {
    ...api,
    describeTaskDefinition: (input) =>
      api.describeTaskDefinition({
        ...input,
        taskDefinition: /^web:\d+$/.test(input.taskDefinition ?? '')
          ? `${TD1.replace(/web:1$/, '')}${input.taskDefinition}`
          : input.taskDefinition,
      }),
  };
}

async function rollBack(
  inputs: Record<string, string>,
  script: (ms: number) => Moment = settled,
  api: (ecs: FakeEcs) => EcsApi = withRevisions,
): Promise<Rollback> {
  const clock = new FakeClock();
  const ecs = new FakeEcs(clock, script, initial);
  const github = new RecordingGitHub();
  const result = await runInProcess(
    () => run({ ecs: api(ecs), clock, github }),
    { service: 'web', ...inputs },
    { AWS_REGION: 'us-east-1' },
  );
  return { result, ecs, github };
}

/** The summary's first line: `### <icon> Rollback of web: <verdict>`. */
const verdictLine = (summary: string): string => summary.split('\n')[0];

describe('rollback through run(deps): outputs and summary verdict', () => {
  test.each<{
    name: string;
    to: string;
    inputs?: Record<string, string>;
    script: (ms: number) => Moment;
    status: string;
    reason: string;
    method?: string;
    toArn: string;
    verdict: string;
    exitCode?: number;
    updates: number;
  }>([
    {
      name: 'settled on the target: succeeded, the step passes and the summary says rolled back',
      to: 'web:1',
      script: settled,
      status: 'succeeded',
      reason: 'Rolled back web from web:2 to web:1 (bad release).',
      method: 'update-service',
      toArn: TD1,
      verdict: '### ✅ Rollback of web: rolled back',
      exitCode: undefined,
      updates: 1,
    },
    {
      name: 'the service already runs the target: unchanged, no update, no method',
      to: 'web:2',
      script: settled,
      status: 'unchanged',
      reason: 'The service already runs web:2 (requested web:2); nothing to roll back.',
      method: undefined,
      toArn: TD2,
      verdict: '### ℹ️ Rollback of web: nothing to roll back',
      exitCode: undefined,
      updates: 0,
    },
    {
      name: 'the target crashes at start: failed, the step fails with the reason',
      to: TD1,
      script: crashing,
      status: 'failed',
      reason:
        'The rollback to web:1 failed: tasks of web:1 stopped on their own (1 task stopped: Essential container in task exited (web: exit code 3)).',
      method: 'update-service',
      toArn: TD1,
      verdict: '### ❌ Rollback of web: rollback failed',
      exitCode: 1,
      updates: 1,
    },
    {
      // Two minutes of virtual time: more ECS calls than the 30 a minute the action's client
      // allows, so the metering waits too, on the injected clock.
      name: 'the target never settles: timed out at the `timeout`, the step fails',
      to: 'web:1',
      inputs: { timeout: '2m' },
      script: pending,
      status: 'timed-out',
      reason:
        'Timed out after 2m 00s rolling back to web:1: the deployment is IN_PROGRESS (1/2 running, 1 pending).',
      method: 'update-service',
      toArn: TD1,
      verdict: '### ❌ Rollback of web: rollback timed out',
      exitCode: 1,
      updates: 1,
    },
    {
      name: 'not waiting: in progress once the update is made, the step passes',
      to: 'web:1',
      inputs: { 'wait-until': 'none' },
      script: pending,
      status: 'in-progress',
      reason: 'Started rolling back to web:1; not waiting for it.',
      method: 'update-service',
      toArn: TD1,
      verdict: '### ℹ️ Rollback of web: rollback started',
      exitCode: undefined,
      updates: 1,
    },
  ])('$name', async (c) => {
    const { result, ecs } = await rollBack(
      { to: c.to, reason: 'bad release', ...c.inputs },
      c.script,
    );

    expect(result.outputs.status).toBe(c.status);
    expect(result.outputs.reason).toBe(c.reason);
    expect(result.outputs.method).toBe(c.method);
    expect(result.outputs['from-task-definition-arn']).toBe(TD2);
    expect(result.outputs['to-task-definition-arn']).toBe(c.toArn);
    expect(verdictLine(result.summary)).toBe(c.verdict);
    expect(result.summary).toContain('| **From** | web:2 |');
    expect(result.summary).toContain(`| **To** | ${c.toArn === TD1 ? 'web:1' : 'web:2'} |`);
    expect(result.summary).toContain('| **Reason** | bad release |');
    expect(result.exitCode).toBe(c.exitCode);
    expect(result.errors).toEqual(c.exitCode ? [c.reason] : []);
    expect(ecs.count('UpdateService')).toBe(c.updates);
  });
});

describe('rollback through run(deps): the GitHub Deployment of the target', () => {
  test.each([
    { name: 'a rollback that succeeds ends in `success`', script: settled, last: 'success' },
    { name: 'a rollback that fails ends in `failure`', script: crashing, last: 'failure' },
  ])('$name', async (c) => {
    const { result, github } = await rollBack(
      { to: 'web:1', environment: 'production', 'github-token': 'test-token' },
      c.script,
    );

    expect(github.created).toEqual([
      expect.objectContaining({
        environment: 'production',
        task: 'deploy:rollback',
        payload: { service: 'web', cluster: 'default', rollback: true },
      }),
    ]);
    expect(github.statuses.map((s) => [s.id, s.state])).toEqual([
      [42, 'in_progress'],
      [42, c.last],
    ]);
    expect(github.statuses[1].description).toBe(result.outputs.reason);
    expect(result.summary).toContain('| **GitHub deployment** | production (#42) |');
  });

  test('an unchanged rollback records no deployment', async () => {
    const { result, github } = await rollBack({
      to: 'web:2',
      environment: 'production',
      'github-token': 'test-token',
    });
    expect(result.outputs.status).toBe('unchanged');
    expect(github.created).toEqual([]);
    expect(github.statuses).toEqual([]);
  });
});

describe('rollback through run(deps): a bad `to`', () => {
  test.each([
    { to: 'prev', says: 'Input `to`: `prev` looks like a misspelling of `previous`' },
    { to: 'Previous', says: 'Input `to`: `Previous` looks like a misspelling of `previous`' },
    { to: 'web 1', says: 'Input `to` must be `previous` (in lower case)' },
    { to: 'arn:aws:ecs:task-definition/web', says: 'Input `to` must be `previous`' },
  ])('`$to` fails naming `to` before any ECS or GitHub call', async ({ to, says }) => {
    const { result, ecs, github } = await rollBack({
      to,
      environment: 'production',
      'github-token': 'test-token',
    });

    expect(result.exitCode).toBe(1);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toContain(`Invalid configuration: ${says}`);
    expect(ecs.calls).toEqual([]);
    expect(github.created).toEqual([]);
    expect(result.outputs).toEqual({});
    expect(result.summary).toBe('');
  });

  test('a revision ECS does not know fails naming `to`, and the service is not updated', async () => {
    const { result, ecs } = await rollBack({ to: 'web:9' }, settled, (fake) => ({
      ...fake.api,
      describeTaskDefinition: async () => ({ $metadata: {} }),
    }));

    expect(result.exitCode).toBe(1);
    expect(result.errors).toEqual([
      'Invalid configuration: Input `to`: task definition `web:9` was not found.',
    ]);
    expect(ecs.count('DescribeServices')).toBe(1);
    expect(ecs.count('UpdateService')).toBe(0);
    expect(ecs.count('TagResource')).toBe(0);
  });
});

describe('rollback through run(deps): CodeDeploy names', () => {
  test.each([
    { input: 'codedeploy-application', value: 'my app' },
    { input: 'codedeploy-deployment-group', value: 'x'.repeat(101) },
  ])('a bad `$input` fails naming it before any ECS call', async ({ input, value }) => {
    const { result, ecs } = await rollBack({ [input]: value });

    expect(result.exitCode).toBe(1);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toContain(`Input \`${input}\``);
    expect(result.errors[0]).toContain('a CodeDeploy name');
    expect(ecs.calls).toEqual([]);
  });
});

describe('rollback through run(deps): several services', () => {
  test.each<{ inputs: Record<string, string>; says: string }>([
    {
      inputs: { service: 'api\nworker', to: 'web:1' },
      says: 'Input `to`: `web:1` is a revision of one task definition family',
    },
    {
      inputs: { service: 'api\nworker', 'codedeploy-application': 'Shop' },
      says: 'Input `codedeploy-application` names one service',
    },
    {
      inputs: { service: 'api\napi' },
      says: 'Input `service` must be one service per line, each named once',
    },
  ])('$says: refused before any ECS call', async ({ inputs, says }) => {
    const { result, ecs } = await rollBack(inputs);

    expect(result.exitCode).toBe(1);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toContain(says);
    expect(ecs.calls).toEqual([]);
  });

  test('one service sets the `services` output with its row, next to the outputs it always set', async () => {
    const { result } = await rollBack({ to: 'web:1' });

    expect(result.outputs.status).toBe('succeeded');
    expect(JSON.parse(result.outputs.services)).toEqual({
      web: {
        status: 'succeeded',
        'task-definition-arn': TD1,
        'previous-task-definition-arn': TD2,
        reason: result.outputs.reason,
      },
    });
    expect(result.outputs['to-task-definition-arn']).toBe(TD1);
  });
});
