import type { EcsApi } from '../../../packages/ecs/src/api';
import {
  batchingEcsApi,
  cachingTaskDefinitions,
} from '../../../packages/ecs/src/release/batching-api';
import { SchedulerClock } from './release-fake';

/** An ECS that answers every service and deployment asked for, recording each call's items. */
function recordingApi(): { api: EcsApi; calls: { op: string; items: string[] }[] } {
  const calls: { op: string; items: string[] }[] = [];
  const api = {
    describeServices: async (input: { services?: string[] }) => {
      calls.push({ op: 'DescribeServices', items: input.services ?? [] });
      return {
        services: (input.services ?? [])
          .filter((n) => n !== 'gone')
          .map((n) => ({
            serviceName: n,
            serviceArn: `arn:aws:ecs:us-east-1:1:service/apps/${n}`,
          })),
        failures: (input.services ?? [])
          .filter((n) => n === 'gone')
          .map((n) => ({ arn: `arn:aws:ecs:us-east-1:1:service/apps/${n}`, reason: 'MISSING' })),
        $metadata: {},
      };
    },
    describeServiceDeployments: async (input: { serviceDeploymentArns?: string[] }) => {
      calls.push({ op: 'DescribeServiceDeployments', items: input.serviceDeploymentArns ?? [] });
      return {
        serviceDeployments: (input.serviceDeploymentArns ?? []).map((a) => ({
          serviceDeploymentArn: a,
        })),
        $metadata: {},
      };
    },
    describeTaskDefinition: async (input: { taskDefinition?: string }) => {
      calls.push({ op: 'DescribeTaskDefinition', items: [String(input.taskDefinition)] });
      return { taskDefinition: { taskDefinitionArn: input.taskDefinition }, $metadata: {} };
    },
  };
  return { api: api as unknown as EcsApi, calls };
}

test.each([
  [3, 3, [3]],
  [10, 10, [10]],
  [12, 12, [10, 2]],
])(
  '%i participants looking at once: %i services read in DescribeServices calls of %p',
  async (participants, services, sizes) => {
    const { api, calls } = recordingApi();
    const b = batchingEcsApi(api, { clock: new SchedulerClock(), participants });
    const names = Array.from({ length: services }, (_, i) => `s${i}`);
    const answers = await Promise.all(
      names.map((n) => b.api.describeServices({ cluster: 'apps', services: [n] })),
    );
    expect(calls.map((c) => c.items.length)).toEqual(sizes);
    answers.forEach((a, i) => expect(a.services?.map((s) => s.serviceName)).toEqual([names[i]]));
  },
);

test('each caller gets its own failure, and only its own', async () => {
  const { api } = recordingApi();
  const b = batchingEcsApi(api, { clock: new SchedulerClock(), participants: 2 });
  const [ok, gone] = await Promise.all([
    b.api.describeServices({ services: ['api'] }),
    b.api.describeServices({ services: ['gone'] }),
  ]);
  expect([ok.services?.length, ok.failures?.length]).toEqual([1, 0]);
  expect([gone.services?.length, gone.failures?.[0]?.reason]).toEqual([0, 'MISSING']);
});

test('a read waits for the others at most the longest wait, then goes alone', async () => {
  const { api, calls } = recordingApi();
  const clock = new SchedulerClock();
  const b = batchingEcsApi(api, { clock, participants: 3, maxWaitMs: 1500 });
  const t0 = clock.now();
  await b.api.describeServices({ services: ['api'] });
  expect(clock.now() - t0).toBe(1500);
  expect(calls).toHaveLength(1);
});

test('when a participant leaves, the others no longer wait for it', async () => {
  const { api, calls } = recordingApi();
  const clock = new SchedulerClock();
  const b = batchingEcsApi(api, { clock, participants: 2, maxWaitMs: 60_000 });
  const pending = b.api.describeServices({ services: ['api'] });
  b.leave();
  await pending;
  expect(clock.now()).toBe(new SchedulerClock().now());
  expect(calls).toHaveLength(1);
});

test('service deployments are read together too, and calls for several items go straight through', async () => {
  const { api, calls } = recordingApi();
  const b = batchingEcsApi(api, { clock: new SchedulerClock(), participants: 2 });
  await Promise.all([
    b.api.describeServiceDeployments({ serviceDeploymentArns: ['sd1'] }),
    b.api.describeServiceDeployments({ serviceDeploymentArns: ['sd2'] }),
  ]);
  await b.api.describeServices({ services: ['a', 'b'] });
  expect(calls).toEqual([
    { op: 'DescribeServiceDeployments', items: ['sd1', 'sd2'] },
    { op: 'DescribeServices', items: ['a', 'b'] },
  ]);
});

test('each revision is described once', async () => {
  const { api, calls } = recordingApi();
  const cached = cachingTaskDefinitions(api);
  await cached.describeTaskDefinition({ taskDefinition: 'web:1', include: ['TAGS'] });
  await cached.describeTaskDefinition({ taskDefinition: 'web:1', include: ['TAGS'] });
  await cached.describeTaskDefinition({ taskDefinition: 'web:2', include: ['TAGS'] });
  expect(calls.map((c) => c.items[0])).toEqual(['web:1', 'web:2']);
});
