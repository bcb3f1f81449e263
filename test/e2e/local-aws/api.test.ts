import {
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
  type PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  StopServiceDeploymentCommand,
  TagResourceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalAws } from '../../../packages/local-aws/src';
import { eventually, startHarness, type Harness } from './support';

let h: Harness;
const ARN_TG =
  'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/nope/0123456789abcdef';

beforeAll(async () => {
  h = await startHarness({ timeScale: 30 });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'api' }));
  await h.elb.send(new CreateTargetGroupCommand({ Name: 'taken', Protocol: 'HTTP', Port: 80 }));
  await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'fam',
      containerDefinitions: [{ name: 'app', image: 'app:1' }],
    }),
  );
});

afterAll(async () => {
  await h?.close();
});

const errorCases: [string, () => Promise<unknown>, string][] = [
  [
    'UpdateService on a missing service',
    () =>
      h.ecs.send(new UpdateServiceCommand({ cluster: 'api', service: 'ghost', desiredCount: 1 })),
    'ServiceNotFoundException',
  ],
  [
    'DescribeServices in a missing cluster',
    () => h.ecs.send(new DescribeServicesCommand({ cluster: 'ghost', services: ['x'] })),
    'ClusterNotFoundException',
  ],
  [
    'CreateService with an unknown task definition',
    () =>
      h.ecs.send(
        new CreateServiceCommand({
          cluster: 'api',
          serviceName: 'neg',
          taskDefinition: 'ghost',
          desiredCount: 1,
        }),
      ),
    'ClientException',
  ],
  [
    'CreateService with a negative desiredCount',
    () =>
      h.ecs.send(
        new CreateServiceCommand({
          cluster: 'api',
          serviceName: 'neg',
          taskDefinition: 'fam',
          desiredCount: -1,
        }),
      ),
    'InvalidParameterException',
  ],
  [
    'CreateService with an unknown target group',
    () =>
      h.ecs.send(
        new CreateServiceCommand({
          cluster: 'api',
          serviceName: 'lb',
          taskDefinition: 'fam',
          desiredCount: 1,
          loadBalancers: [{ targetGroupArn: ARN_TG, containerName: 'app', containerPort: 80 }],
        }),
      ),
    'InvalidParameterException',
  ],
  [
    'DescribeTaskDefinition of an unknown family',
    () => h.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'ghost:1' })),
    'ClientException',
  ],
  [
    'RegisterTaskDefinition without containers',
    () => h.ecs.send(new RegisterTaskDefinitionCommand({ family: 'x', containerDefinitions: [] })),
    'ClientException',
  ],
  [
    'CreateService with minimumHealthyPercent 150',
    () =>
      h.ecs.send(
        new CreateServiceCommand({
          cluster: 'api',
          serviceName: 'pct',
          taskDefinition: 'fam',
          deploymentConfiguration: { minimumHealthyPercent: 150 },
        }),
      ),
    'InvalidParameterException',
  ],
  [
    'StopServiceDeployment of an unknown deployment',
    () =>
      h.ecs.send(
        new StopServiceDeploymentCommand({
          serviceDeploymentArn:
            'arn:aws:ecs:us-east-1:000000000000:service-deployment/api/svc/nope',
        }),
      ),
    'ServiceDeploymentNotFoundException',
  ],
  [
    'TagResource on a missing cluster',
    () =>
      h.ecs.send(
        new TagResourceCommand({
          resourceArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/ghost',
          tags: [{ key: 'a', value: 'b' }],
        }),
      ),
    'ResourceNotFoundException',
  ],
  [
    'DescribeTargetGroups of an unknown ARN',
    () => h.elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [ARN_TG] })),
    'TargetGroupNotFoundException',
  ],
  [
    'RegisterTargets in an unknown group',
    () =>
      h.elb.send(
        new RegisterTargetsCommand({
          TargetGroupArn: ARN_TG,
          Targets: [{ Id: '127.0.0.1', Port: 80 }],
        }),
      ),
    'TargetGroupNotFoundException',
  ],
  [
    'DescribeLoadBalancers by an unknown name',
    () => h.elb.send(new DescribeLoadBalancersCommand({ Names: ['ghost'] })),
    'LoadBalancerNotFoundException',
  ],
  [
    'DescribeListeners of an unknown listener',
    () =>
      h.elb.send(
        new DescribeListenersCommand({
          ListenerArns: ['arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/x/1/2'],
        }),
      ),
    'ListenerNotFoundException',
  ],
  [
    'DescribeRules of an unknown rule',
    () =>
      h.elb.send(
        new DescribeRulesCommand({
          RuleArns: [
            'arn:aws:elasticloadbalancing:us-east-1:000000000000:listener-rule/app/x/1/2/3',
          ],
        }),
      ),
    'RuleNotFoundException',
  ],
  [
    'CreateTargetGroup with a taken name',
    () => h.elb.send(new CreateTargetGroupCommand({ Name: 'taken', Protocol: 'HTTP', Port: 80 })),
    'DuplicateTargetGroupNameException',
  ],
  [
    'SetAlarmState of a missing alarm',
    () =>
      h.cloudwatch.send(
        new SetAlarmStateCommand({ AlarmName: 'ghost', StateValue: 'ALARM', StateReason: 'test' }),
      ),
    'ResourceNotFound',
  ],
];

test.each(errorCases)(
  '%s fails with the named exception, a 4xx and a request id',
  async (_name, call, errorName) => {
    const error = (await call().then(
      () => undefined,
      (e: unknown) => e,
    )) as { name: string; $metadata: { httpStatusCode: number; requestId?: string } } | undefined;
    expect(error?.name).toBe(errorName);
    expect(error!.$metadata.httpStatusCode).toBeGreaterThanOrEqual(400);
    expect(error!.$metadata.httpStatusCode).toBeLessThan(500);
    expect(error!.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  },
);

test('DescribeServices reports a missing service as a MISSING failure', async () => {
  const out = await h.ecs.send(
    new DescribeServicesCommand({ cluster: 'api', services: ['ghost'] }),
  );
  expect(out.services).toEqual([]);
  expect(out.failures).toEqual([
    { arn: 'arn:aws:ecs:us-east-1:000000000000:service/api/ghost', reason: 'MISSING' },
  ]);
});

test('a request without a SigV4 Authorization header is refused', async () => {
  const res = await fetch(h.aws.endpoint, {
    method: 'POST',
    headers: {
      'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListClusters',
      'content-type': 'application/x-amz-json-1.1',
    },
    body: '{}',
  });
  expect(res.status).toBe(403);
  expect(await res.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
});

test('task definitions get revisions per family, list by family/status/sort, deregister and keep tags', async () => {
  const reg = (image: string) =>
    h.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'api-td',
        containerDefinitions: [{ name: 'app', image }],
        tags: [{ key: 'team', value: 'core' }],
      }),
    );
  const r1 = await reg('a:1');
  const r2 = await reg('a:2');
  expect([r1.taskDefinition!.revision, r2.taskDefinition!.revision]).toEqual([1, 2]);
  expect(r2.taskDefinition!.taskDefinitionArn).toBe(
    'arn:aws:ecs:us-east-1:000000000000:task-definition/api-td:2',
  );
  const latest = await h.ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: 'api-td', include: ['TAGS'] }),
  );
  expect(latest.taskDefinition!.revision).toBe(2);
  expect(latest.tags).toEqual([{ key: 'team', value: 'core' }]);
  expect(latest.taskDefinition!.registeredAt).toBeInstanceOf(Date);
  await h.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'api-td:1' }));
  const desc = await h.ecs.send(
    new ListTaskDefinitionsCommand({ familyPrefix: 'api-td', sort: 'DESC' }),
  );
  expect(desc.taskDefinitionArns!.map((a) => a.split(':').pop())).toEqual(['2']);
  const inactive = await h.ecs.send(
    new ListTaskDefinitionsCommand({ familyPrefix: 'api-td', status: 'INACTIVE' }),
  );
  expect(inactive.taskDefinitionArns!.map((a) => a.split(':').pop())).toEqual(['1']);
  await h.ecs.send(
    new TagResourceCommand({
      resourceArn: r2.taskDefinition!.taskDefinitionArn,
      tags: [{ key: 'env', value: 'dev' }],
    }),
  );
  const tags = await h.ecs.send(
    new ListTagsForResourceCommand({ resourceArn: r2.taskDefinition!.taskDefinitionArn }),
  );
  expect(tags.tags).toEqual([
    { key: 'team', value: 'core' },
    { key: 'env', value: 'dev' },
  ]);
});

test('a throttling fault fails a share of calls as throttled, which the SDK retries', async () => {
  h.aws.addFault({ kind: 'throttle', operation: 'ListClusters', rate: 1, count: 2 });
  const noRetry = new ECSClient({
    endpoint: h.aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
  await expect(
    noRetry.send(new DescribeServicesCommand({ cluster: 'api', services: ['x'] })),
  ).resolves.toBeDefined();
  const { ListClustersCommand } = await import('@aws-sdk/client-ecs');
  await expect(noRetry.send(new ListClustersCommand({}))).rejects.toMatchObject({
    name: 'ThrottlingException',
  });
  // One throttled call left: the default client retries it and succeeds.
  const out = await h.ecs.send(new ListClustersCommand({}));
  expect(out.$metadata.attempts).toBe(2);
  noRetry.destroy();
  h.aws.clearFaults();

  const res = await fetch(`${h.aws.endpoint}/_local/faults`, {
    method: 'POST',
    body: JSON.stringify({ kind: 'throttle', operation: 'DescribeTargetGroups', rate: 0.5 }),
  });
  expect(res.status).toBe(200);
  const elbNoRetry = new (
    await import('@aws-sdk/client-elastic-load-balancing-v2')
  ).ElasticLoadBalancingV2Client({
    endpoint: h.aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
  const outcomes = [];
  for (let i = 0; i < 4; i++)
    outcomes.push(
      await elbNoRetry.send(new DescribeTargetGroupsCommand({})).then(
        () => 'ok',
        (e: Error) => e.name,
      ),
    );
  // Query services name the error `Throttling`, as ELBv2 does.
  expect(outcomes).toEqual(['ok', 'Throttling', 'ok', 'Throttling']);
  elbNoRetry.destroy();
  await fetch(`${h.aws.endpoint}/_local/faults`, { method: 'DELETE' });
});

test('CloudWatch alarms round-trip over JSON and the older query protocol', async () => {
  await h.cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: 'api-5xx',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Namespace: 'AWS/ApplicationELB',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    }),
  );
  await h.cloudwatch.send(
    new SetAlarmStateCommand({ AlarmName: 'api-5xx', StateValue: 'ALARM', StateReason: 'test' }),
  );
  const out = await h.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['api-5xx'] }));
  expect(out.MetricAlarms![0]).toMatchObject({
    AlarmName: 'api-5xx',
    StateValue: 'ALARM',
    Threshold: 1,
    EvaluationPeriods: 1,
  });
  expect(out.MetricAlarms![0].StateUpdatedTimestamp).toBeInstanceOf(Date);
  const res = await fetch(h.aws.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    },
    body: 'Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=api-5xx',
  });
  const xml = await res.text();
  expect(xml).toContain('<DescribeAlarmsResult><MetricAlarms><member>');
  expect(xml).toContain('<StateValue>ALARM</StateValue>');
  await h.cloudwatch.send(
    new SetAlarmStateCommand({ AlarmName: 'api-5xx', StateValue: 'OK', StateReason: 'reset' }),
  );
});

const alarm = (extra: Partial<PutMetricAlarmCommandInput>): PutMetricAlarmCommandInput => ({
  AlarmName: 'bounded',
  MetricName: 'Errors',
  Namespace: 'App',
  Statistic: 'Sum',
  Period: 60,
  EvaluationPeriods: 1,
  Threshold: 1,
  ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  ...extra,
});
const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `alarm-${i}`);
const arns = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `arn:aws:sns:us-east-1:000000000000:topic-${i}`);

test.each<[string, () => Promise<unknown>]>([
  [
    'DescribeAlarms with 101 alarm names',
    () => h.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: names(101) })),
  ],
  [
    'DeleteAlarms with 101 alarm names',
    () => h.cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: names(101) })),
  ],
  [
    'PutMetricAlarm with 31 dimensions',
    () =>
      h.cloudwatch.send(
        new PutMetricAlarmCommand(
          alarm({ Dimensions: names(31).map((n) => ({ Name: n, Value: 'x' })) }),
        ),
      ),
  ],
  [
    'PutMetricAlarm with 6 alarm actions',
    () => h.cloudwatch.send(new PutMetricAlarmCommand(alarm({ AlarmActions: arns(6) }))),
  ],
  [
    'PutMetricAlarm with 6 OK actions',
    () => h.cloudwatch.send(new PutMetricAlarmCommand(alarm({ OKActions: arns(6) }))),
  ],
])('CloudWatch refuses %s with a ValidationError', async (_name, call) => {
  // The model's ValidationException travels as the query error code `ValidationError`.
  await expect(call()).rejects.toMatchObject({
    name: 'ValidationException',
    $metadata: { httpStatusCode: 400 },
  });
});

test('CloudWatch accepts the longest lists AWS allows', async () => {
  await h.cloudwatch.send(
    new PutMetricAlarmCommand(
      alarm({
        Dimensions: names(30).map((n) => ({ Name: n, Value: 'x' })),
        AlarmActions: arns(5),
        OKActions: arns(5),
        InsufficientDataActions: arns(5),
      }),
    ),
  );
  const out = await h.cloudwatch.send(
    new DescribeAlarmsCommand({ AlarmNames: ['bounded', ...names(99)] }),
  );
  expect(out.MetricAlarms!.map((a) => a.Dimensions!.length)).toEqual([30]);
  await h.cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: ['bounded'] }));
});

test.each([
  ['a dimension that is null', { Dimensions: [null] }],
  ['a dimension without a value', { Dimensions: [{ Name: 'a' }] }],
  ['alarm names that are not a list', { AlarmNames: 'x' }],
])('CloudWatch answers a request with %s as a ValidationError, not a 500', async (_n, bad) => {
  const res = await fetch(h.aws.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `GraniteServiceVersion20100801.${'AlarmNames' in bad ? 'DescribeAlarms' : 'PutMetricAlarm'}`,
      authorization: `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    },
    body: JSON.stringify({ ...alarm({}), ...bad }),
  });
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject({ __type: 'ValidationError' });
});

test('a deployment alarm in ALARM fails the rolling deployment and rolls back', async () => {
  const image = await h.pushApp('api', 'v1');
  const v1 = (
    await h.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'alarmed',
        containerDefinitions: [{ name: 'web', image, portMappings: [{ containerPort: 8080 }] }],
      }),
    )
  ).taskDefinition!.taskDefinitionArn!;
  const v2 = (
    await h.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'alarmed',
        containerDefinitions: [
          {
            name: 'web',
            image,
            portMappings: [{ containerPort: 8080 }],
            environment: [{ name: 'GREETING', value: 'v2' }],
          },
        ],
      }),
    )
  ).taskDefinition!.taskDefinitionArn!;
  await h.cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: 'alarmed-errors',
      MetricName: 'Errors',
      Namespace: 'App',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    }),
  );
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'api',
      serviceName: 'alarmed',
      taskDefinition: v1,
      desiredCount: 1,
      deploymentConfiguration: {
        alarms: { alarmNames: ['alarmed-errors'], enable: true, rollback: true },
      },
    }),
  );
  // The first deployment must have completed (its tasks past the settle window) before the
  // alarm goes off: with nothing completed, there would be nothing to roll back to.
  await eventually(async () => {
    const s = (
      await h.ecs.send(new DescribeServicesCommand({ cluster: 'api', services: ['alarmed'] }))
    ).services![0];
    return s.deployments?.[0]?.rolloutState === 'COMPLETED' ? s : undefined;
  }, 'the first deployment to complete');
  await h.cloudwatch.send(
    new SetAlarmStateCommand({
      AlarmName: 'alarmed-errors',
      StateValue: 'ALARM',
      StateReason: 'errors',
    }),
  );
  await h.ecs.send(
    new UpdateServiceCommand({ cluster: 'api', service: 'alarmed', taskDefinition: v2 }),
  );
  const svc = await eventually(async () => {
    const s = (
      await h.ecs.send(new DescribeServicesCommand({ cluster: 'api', services: ['alarmed'] }))
    ).services![0];
    return s.deployments!.length === 1 &&
      s.deployments![0].rolloutState === 'COMPLETED' &&
      s.taskDefinition === v1
      ? s
      : undefined;
  }, 'the alarm rollback');
  expect(svc.events!.some((e) => /deployment failed: alarm detected\.$/.test(e.message!))).toBe(
    true,
  );
  const sd = (
    await h.ecs.send(
      new DescribeServiceDeploymentsCommand({
        serviceDeploymentArns: [svc.currentServiceDeployment!],
      }),
    )
  ).serviceDeployments![0];
  expect(sd).toMatchObject({
    status: 'ROLLBACK_SUCCESSFUL',
    alarms: { status: 'TRIGGERED', triggeredAlarmNames: ['alarmed-errors'] },
  });
});

test('state is served at /_local/state, saved to the state file on stop and loaded at start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'local-aws-state-'));
  const stateFile = join(dir, 'state.json');
  try {
    const first = await startLocalAws({ stateFile, dataDir: join(dir, 'data') });
    const ecs = new ECSClient({
      endpoint: first.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    await ecs.send(new CreateClusterCommand({ clusterName: 'kept' }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'kept',
        containerDefinitions: [{ name: 'app', image: 'x' }],
      }),
    );
    const state = (await (await fetch(`${first.endpoint}/_local/state`)).json()) as {
      ecs: { clusters: { clusterArn: string }[] };
    };
    expect(state.ecs.clusters.map((c) => c.clusterArn)).toEqual([
      'arn:aws:ecs:eu-west-1:000000000000:cluster/kept',
    ]);
    ecs.destroy();
    await first.stop();

    const second = await startLocalAws({ stateFile, dataDir: join(dir, 'data') });
    const again = new ECSClient({
      endpoint: second.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    const td = await again.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'kept' }));
    expect(td.taskDefinition!.registeredAt).toBeInstanceOf(Date);
    const { clusterArns } = await again.send(
      new (await import('@aws-sdk/client-ecs')).ListClustersCommand({}),
    );
    expect(clusterArns).toEqual(['arn:aws:ecs:eu-west-1:000000000000:cluster/kept']);
    again.destroy();
    await second.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
