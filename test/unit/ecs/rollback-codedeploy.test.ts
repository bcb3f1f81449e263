/**
 * rollback of a service with the CODE_DEPLOY deployment controller, with a scripted ECS and a
 * small CodeDeploy fake: the group is read before anything changes, a deployment under way is
 * stopped with automatic rollback, `previous` is read from the group's deployment history and
 * never is a revision whose deployment failed, and the chosen revision is deployed through
 * CodeDeploy with the AppSpec of the group's latest deployment.
 */
import type { DeploymentInfo, DeploymentStatus } from '@aws-sdk/client-codedeploy';
import type { CodeDeployRollbackApi } from '../../../packages/ecs/src/codedeploy/api';
import { UnknownCodeDeployTargetError } from '../../../packages/ecs/src/codedeploy/group';
import {
  historyStatus,
  loadCodeDeployHistory,
  taskDefinitionOfAppSpec,
} from '../../../packages/ecs/src/codedeploy/history';
import { rollback, type RollbackOptions } from '../../../packages/ecs/src/rollback';
import type { DeployLog } from '../../../packages/ecs/src/service';
import { FakeClock, FakeEcs, rolling, service, T0 } from './fake-ecs';

const td = (n: number): string => `arn:aws:ecs:us-east-1:000000000000:task-definition/web:${n}`;

function memoryLog(): DeployLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(m),
    debug: () => undefined,
    warning: (m) => lines.push(`warning: ${m}`),
    group: (_name, fn) => fn(),
  };
}

function appSpec(taskDefinition: string, hooks = false): string {
  return JSON.stringify({
    version: 0.0,
    Resources: [
      {
        TargetService: {
          Type: 'AWS::ECS::Service',
          Properties: {
            TaskDefinition: taskDefinition,
            LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 },
          },
        },
      },
    ],
    ...(hooks ? { Hooks: [{ BeforeAllowTraffic: 'check-green' }] } : {}),
  });
}

/** One deployment of the fake's history: `minute` orders them. */
interface Past {
  id: string;
  td: number;
  status: DeploymentStatus;
  minute: number;
  rollbackOf?: string;
  /** GetDeployment does not return the AppSpec content: only GetApplicationRevision does. */
  contentOnlyByRevision?: boolean;
  hooks?: boolean;
}

/** A CodeDeploy that knows the console's default group of `apps/web`, a history, and records calls. */
class FakeCodeDeploy {
  readonly calls: string[] = [];
  readonly created: string[] = [];
  readonly deployments = new Map<string, DeploymentInfo>();

  constructor(past: Past[] = []) {
    for (const p of past) this.add(p);
  }

  add(p: Past): void {
    const content = appSpec(td(p.td), p.hooks);
    this.deployments.set(p.id, {
      deploymentId: p.id,
      applicationName: 'AppECS-apps-web',
      deploymentGroupName: 'DgpECS-apps-web',
      status: p.status,
      createTime: new Date(T0 - (1000 - p.minute) * 60_000),
      completeTime: new Date(T0 - (999 - p.minute) * 60_000),
      creator: p.rollbackOf ? 'codeDeployRollback' : 'user',
      revision: {
        revisionType: 'AppSpecContent',
        appSpecContent: p.contentOnlyByRevision ? { sha256: `sha-${p.id}` } : { content },
      },
      ...(p.rollbackOf ? { rollbackInfo: { rollbackTriggeringDeploymentId: p.rollbackOf } } : {}),
    });
    if (p.contentOnlyByRevision) this.revisions.set(`sha-${p.id}`, content);
    if (p.rollbackOf) {
      const failed = this.deployments.get(p.rollbackOf)!;
      failed.rollbackInfo = { rollbackDeploymentId: p.id };
    }
  }

  readonly revisions = new Map<string, string>();

  get api(): CodeDeployRollbackApi {
    const meta = { $metadata: {} };
    return {
      getDeploymentGroup: async ({ applicationName, deploymentGroupName }) => {
        this.calls.push('GetDeploymentGroup');
        if (applicationName !== 'AppECS-apps-web')
          throw Object.assign(new Error('No application found'), {
            name: 'ApplicationDoesNotExistException',
          });
        if (deploymentGroupName !== 'DgpECS-apps-web')
          throw Object.assign(new Error('No Deployment Group found'), {
            name: 'DeploymentGroupDoesNotExistException',
          });
        return {
          deploymentGroupInfo: {
            deploymentGroupName,
            deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
          },
          ...meta,
        };
      },
      listDeployments: async (input) => {
        this.calls.push(`ListDeployments ${(input.includeOnlyStatuses ?? []).join(',')}`);
        const ids = [...this.deployments.values()]
          .filter(
            (d) => !input.includeOnlyStatuses || input.includeOnlyStatuses.includes(d.status!),
          )
          .map((d) => d.deploymentId!);
        return { deployments: ids, ...meta };
      },
      batchGetDeployments: async ({ deploymentIds }) => {
        this.calls.push('BatchGetDeployments');
        return {
          deploymentsInfo: (deploymentIds ?? []).map((id) => this.deployments.get(id)!),
          ...meta,
        };
      },
      getApplicationRevision: async ({ revision }) => {
        this.calls.push('GetApplicationRevision');
        const content = this.revisions.get(revision?.appSpecContent?.sha256 ?? '');
        return { revision: { appSpecContent: { content } }, ...meta };
      },
      getDeployment: async ({ deploymentId }) => {
        this.calls.push('GetDeployment');
        return { deploymentInfo: this.deployments.get(deploymentId!), ...meta };
      },
      getDeploymentTarget: async () => {
        this.calls.push('GetDeploymentTarget');
        return {
          deploymentTarget: {
            ecsTarget: {
              taskSetsInfo: [
                { identifer: 'ts-blue', taskSetLabel: 'Blue', trafficWeight: 90 },
                { identifer: 'ts-green', taskSetLabel: 'Green', trafficWeight: 10 },
              ],
            },
          },
          ...meta,
        };
      },
      stopDeployment: async (input) => {
        this.calls.push(
          `StopDeployment ${input.deploymentId} rollback=${input.autoRollbackEnabled}`,
        );
        const d = this.deployments.get(input.deploymentId!)!;
        d.status = 'Stopped';
        this.add({
          id: 'd-ROLLBACK1',
          td: 1,
          status: 'Succeeded',
          minute: 999,
          rollbackOf: d.deploymentId,
        });
        return { status: 'Pending', ...meta };
      },
      createDeployment: async (input) => {
        this.calls.push('CreateDeployment');
        this.created.push(input.revision!.appSpecContent!.content!);
        const id = 'd-NEWDEPLOY';
        this.deployments.set(id, {
          deploymentId: id,
          status: 'Succeeded',
          createTime: new Date(T0),
          revision: input.revision,
        });
        return { deploymentId: id, ...meta };
      },
      continueDeployment: async () => {
        this.calls.push('ContinueDeployment');
        return meta;
      },
    };
  }
}

const codeDeployService = (
  current: string,
  taskSets = [{ id: 'ts-blue', status: 'PRIMARY', taskDefinition: current }],
) =>
  service([rolling(current, 'COMPLETED', 2, 2, { status: 'PRIMARY' })], {
    clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/apps',
    deploymentController: { type: 'CODE_DEPLOY' },
    loadBalancers: [{ targetGroupArn: 'tg-blue', containerName: 'web', containerPort: 8080 }],
    taskSets,
  });

function attempt(
  cd: FakeCodeDeploy,
  current: string,
  over: Partial<RollbackOptions> = {},
  taskSets?: Parameters<typeof codeDeployService>[1],
) {
  const clock = new FakeClock();
  const initial = codeDeployService(current, taskSets);
  const ecs = new FakeEcs(clock, () => ({ service: initial }), initial);
  const log = memoryLog();
  const outcome = rollback({
    api: ecs.api,
    cluster: 'apps',
    service: 'web',
    to: { kind: 'previous' },
    waitUntil: 'stable',
    timeoutMs: 600_000,
    log,
    clock,
    codeDeploy: { api: cd.api },
    ...over,
  });
  return { outcome, ecs, log };
}

test.each<[string, string, DeploymentStatus, DeploymentStatus | undefined]>([
  ['a succeeded deployment', 'SUCCESSFUL', 'Succeeded', undefined],
  ['a failed deployment without rollback', 'FAILED', 'Failed', undefined],
  ['a stopped deployment without rollback', 'STOPPED', 'Stopped', undefined],
  ['a failed deployment CodeDeploy rolled back', 'ROLLBACK_SUCCESSFUL', 'Failed', 'Succeeded'],
  ['a stopped deployment whose rollback runs', 'ROLLBACK_IN_PROGRESS', 'Stopped', 'InProgress'],
  ['a failed deployment whose rollback failed', 'ROLLBACK_FAILED', 'Failed', 'Failed'],
  ['a deployment under way', 'IN_PROGRESS', 'Ready', undefined],
])('%s reads as %s in the history', (_what, expected, status, rollbackStatus) => {
  const d: DeploymentInfo = {
    status,
    ...(rollbackStatus ? { rollbackInfo: { rollbackDeploymentId: 'd-R' } } : {}),
  };
  expect(historyStatus(d, rollbackStatus ? { status: rollbackStatus } : undefined)).toBe(expected);
});

test.each([
  ['JSON', appSpec(td(7)), td(7)],
  [
    'YAML',
    'version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: "web:8"\n',
    'web:8',
  ],
  ['no task definition', 'version: 0.0\nResources: []\n', undefined],
  ['not an AppSpec', '{{{', undefined],
])('the task definition of an AppSpec in %s', (_what, content, expected) => {
  expect(taskDefinitionOfAppSpec(content)).toBe(expected);
});

test("the history folds CodeDeploy's rollback deployments into the deployment they rolled back, and reads AppSpecs GetDeployment does not return", async () => {
  const cd = new FakeCodeDeploy([
    { id: 'd-1', td: 1, status: 'Succeeded', minute: 1, contentOnlyByRevision: true },
    { id: 'd-2', td: 2, status: 'Failed', minute: 2 },
    { id: 'd-R', td: 1, status: 'Succeeded', minute: 3, rollbackOf: 'd-2' },
  ]);
  const h = await loadCodeDeployHistory(cd.api, 'AppECS-apps-web', 'DgpECS-apps-web');
  expect(h.entries).toEqual([
    expect.objectContaining({
      serviceDeploymentArn: 'd-2',
      status: 'ROLLBACK_SUCCESSFUL',
      target: td(2),
      sources: [td(1)],
      rolledBackTo: td(1),
    }),
    expect.objectContaining({ serviceDeploymentArn: 'd-1', status: 'SUCCESSFUL', target: td(1) }),
  ]);
  expect(cd.calls).toContain('GetApplicationRevision');
  expect(h.unreadable).toEqual([]);
});

test('previous on a CodeDeploy service skips a revision whose deployment failed and deploys the one before through CodeDeploy, with the latest AppSpec', async () => {
  const cd = new FakeCodeDeploy([
    { id: 'd-1', td: 1, status: 'Succeeded', minute: 1 },
    { id: 'd-2', td: 2, status: 'Succeeded', minute: 2 },
    { id: 'd-3', td: 3, status: 'Failed', minute: 3 },
    { id: 'd-R', td: 2, status: 'Succeeded', minute: 4, rollbackOf: 'd-3' },
    { id: 'd-4', td: 4, status: 'Succeeded', minute: 5, hooks: true },
  ]);
  const facts: Record<string, string> = {};
  let created: string | undefined;
  const { outcome, ecs } = attempt(cd, td(4), {
    onFact: (name, value) => (facts[name] = value),
    onCodeDeployDeployment: (id) => (created = id),
  });
  const r = await outcome;
  expect(r.status).toBe('succeeded');
  expect(r.method).toBe('codedeploy-deployment');
  expect(r.to).toBe(td(2));
  expect(facts).toMatchObject({
    'from-task-definition-arn': td(4),
    'to-task-definition-arn': td(2),
    method: 'codedeploy-deployment',
  });
  expect(created).toBe('d-NEWDEPLOY');
  expect(r.reason).toBe(
    'Rolled back web from web:4 to web:2 through CodeDeploy deployment d-NEWDEPLOY.',
  );
  const sent = JSON.parse(cd.created[0]);
  expect(sent.Resources[0].TargetService.Properties.TaskDefinition).toBe(td(2));
  expect(sent.Hooks).toEqual([{ BeforeAllowTraffic: 'check-green' }]);
  expect(ecs.count('UpdateService')).toBe(0);
  const tag = ecs.calls.find((c) => c.op === 'TagResource')?.input as {
    resourceArn: string;
    tags: { key: string; value: string }[];
  };
  expect(tag.resourceArn).toBe(td(4));
  expect(tag.tags).toContainEqual({ key: 'shipkit:rolled-back-by', value: 'd-NEWDEPLOY' });
});

test('previous right after CodeDeploy rolled back the latest deployment is a no-op', async () => {
  const cd = new FakeCodeDeploy([
    { id: 'd-1', td: 1, status: 'Succeeded', minute: 1 },
    { id: 'd-2', td: 2, status: 'Failed', minute: 2 },
    { id: 'd-R', td: 1, status: 'Succeeded', minute: 3, rollbackOf: 'd-2' },
  ]);
  const r = await attempt(cd, td(1)).outcome;
  expect(r.status).toBe('unchanged');
  expect(r.reason).toContain('CodeDeploy already rolled back the latest deployment (web:2');
  expect(cd.calls).not.toContain('CreateDeployment');
});

test('previous with no earlier CodeDeploy deployment fails and says to name the revision', async () => {
  const cd = new FakeCodeDeploy([{ id: 'd-1', td: 2, status: 'Succeeded', minute: 1 }]);
  await expect(attempt(cd, td(2)).outcome).rejects.toThrow(
    /No earlier revision completed a CodeDeploy deployment of web before web:2 .*Name the revision/,
  );
  expect(cd.calls).not.toContain('CreateDeployment');
});

test('a deployment under way is stopped with automatic rollback and followed until production is back on blue', async () => {
  const cd = new FakeCodeDeploy([
    { id: 'd-1', td: 1, status: 'Succeeded', minute: 1 },
    { id: 'd-2', td: 2, status: 'InProgress', minute: 2 },
  ]);
  let rollbackId: string | undefined;
  const { outcome, log } = attempt(
    cd,
    td(1),
    { onCodeDeployDeployment: (id) => (rollbackId = id), reason: 'gate failed' },
    [
      { id: 'ts-blue', status: 'PRIMARY', taskDefinition: td(1) },
      { id: 'ts-green', status: 'ACTIVE', taskDefinition: td(2) },
    ],
  );
  const r = await outcome;
  expect(r.status).toBe('succeeded');
  expect(r.method).toBe('stop-deployment');
  expect(r.from).toBe(td(2));
  expect(r.to).toBe(td(1));
  expect(rollbackId).toBe('d-ROLLBACK1');
  expect(r.codeDeploy).toMatchObject({
    stoppedDeploymentId: 'd-2',
    deploymentId: 'd-ROLLBACK1',
  });
  expect(cd.calls.filter((c) => c.startsWith('StopDeployment'))).toEqual([
    'StopDeployment d-2 rollback=true',
  ]);
  expect(cd.calls[0]).toBe('GetDeploymentGroup');
  expect(cd.calls[1]).toBe('ListDeployments Created,Queued,InProgress,Ready,Baking');
  expect(r.reason).toBe(
    'Stopped CodeDeploy deployment d-2 of web:2: production traffic is back on web:1 (rollback deployment d-ROLLBACK1) (gate failed).',
  );
  expect(log.lines.some((l) => l.startsWith('Stopping CodeDeploy deployment d-2 of web:2'))).toBe(
    true,
  );
});

test('a `to` that is not the revision a deployment under way started from is refused and nothing is stopped', async () => {
  const cd = new FakeCodeDeploy([{ id: 'd-2', td: 2, status: 'Ready', minute: 2 }]);
  const { outcome } = attempt(cd, td(1), { to: { kind: 'revision', value: 'web:5' } }, [
    { id: 'ts-blue', status: 'PRIMARY', taskDefinition: td(1) },
    { id: 'ts-green', status: 'ACTIVE', taskDefinition: td(2) },
  ]);
  await expect(outcome).rejects.toThrow(
    /CodeDeploy deployment d-2 of web:2 \(Ready\) is still in progress on web, and `web:5` is not the revision it started from \(web:1\)\. Nothing was changed/,
  );
  expect(cd.calls.some((c) => c.startsWith('StopDeployment'))).toBe(false);
});

test.each([
  ['application', { application: 'Nope' }],
  ['deployment-group', { deploymentGroup: 'Nope' }],
] as const)(
  'an unknown %s fails before any deployment is read or changed',
  async (which, names) => {
    const cd = new FakeCodeDeploy([{ id: 'd-2', td: 2, status: 'InProgress', minute: 2 }]);
    const { outcome, ecs } = attempt(cd, td(1), { codeDeploy: { api: cd.api, ...names } });
    const error = await outcome.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownCodeDeployTargetError);
    expect((error as UnknownCodeDeployTargetError).which).toBe(which);
    expect(cd.calls).toEqual(['GetDeploymentGroup']);
    expect(ecs.count('TagResource') + ecs.count('RegisterTaskDefinition')).toBe(0);
  },
);
