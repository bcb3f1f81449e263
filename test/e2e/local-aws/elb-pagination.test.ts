/**
 * ELBv2's Describe operations page as AWS documents them: `PageSize` (1–400) caps a page,
 * `NextMarker` leads to the next one and the SDK paginators walk every page.
 */
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  paginateDescribeTargetGroups,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';
import { freePort } from './support';

let aws: LocalAws;
let elb: ElasticLoadBalancingV2Client;
let lbArn: string;
let listenerArn: string;

beforeAll(async () => {
  aws = await startLocalAws({ port: 0 });
  elb = new ElasticLoadBalancingV2Client({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
  for (const name of ['page-a', 'page-b', 'page-c']) {
    await elb.send(
      new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 80, VpcId: 'vpc-local' }),
    );
    await elb.send(new CreateLoadBalancerCommand({ Name: name, Subnets: ['s'] }));
  }
  lbArn = (await elb.send(new DescribeLoadBalancersCommand({ Names: ['page-a'] })))
    .LoadBalancers![0].LoadBalancerArn!;
  for (let i = 0; i < 2; i++) {
    const listener = (
      await elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: lbArn,
          Protocol: 'HTTP',
          Port: await freePort(),
          DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
        }),
      )
    ).Listeners![0];
    listenerArn = listener.ListenerArn!;
  }
  for (const priority of [1, 2]) {
    await elb.send(
      new CreateRuleCommand({
        ListenerArn: listenerArn,
        Priority: priority,
        Conditions: [{ Field: 'path-pattern', Values: [`/${priority}`] }],
        Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }],
      }),
    );
  }
});

afterAll(async () => {
  elb?.destroy();
  await aws?.stop();
});

/** Walks an operation page by page with PageSize 2 and returns the size of each page. */
async function pageSizes(
  fetchPage: (marker: string | undefined) => Promise<{ items: unknown[]; next?: string }>,
): Promise<number[]> {
  const sizes: number[] = [];
  let marker: string | undefined;
  do {
    const page = await fetchPage(marker);
    sizes.push(page.items.length);
    marker = page.next;
  } while (marker && sizes.length < 10);
  return sizes;
}

test.each<
  [string, (marker: string | undefined) => Promise<{ items: unknown[]; next?: string }>, number[]]
>([
  [
    'DescribeTargetGroups',
    async (Marker) => {
      const r = await elb.send(new DescribeTargetGroupsCommand({ PageSize: 2, Marker }));
      return { items: r.TargetGroups ?? [], next: r.NextMarker };
    },
    [2, 1],
  ],
  [
    'DescribeLoadBalancers',
    async (Marker) => {
      const r = await elb.send(new DescribeLoadBalancersCommand({ PageSize: 2, Marker }));
      return { items: r.LoadBalancers ?? [], next: r.NextMarker };
    },
    [2, 1],
  ],
  [
    'DescribeListeners',
    async (Marker) => {
      const r = await elb.send(
        new DescribeListenersCommand({ LoadBalancerArn: lbArn, PageSize: 1, Marker }),
      );
      return { items: r.Listeners ?? [], next: r.NextMarker };
    },
    [1, 1],
  ],
  [
    'DescribeRules (two rules and the default rule)',
    async (Marker) => {
      const r = await elb.send(
        new DescribeRulesCommand({ ListenerArn: listenerArn, PageSize: 2, Marker }),
      );
      return { items: r.Rules ?? [], next: r.NextMarker };
    },
    [2, 1],
  ],
])(
  '%s returns at most PageSize items and a NextMarker until the last page',
  async (_op, fetchPage, sizes) => {
    expect(await pageSizes(fetchPage)).toEqual(sizes);
  },
);

test('the SDK paginator with PageSize 1 walks every target group once, one per page', async () => {
  const pages: string[][] = [];
  for await (const page of paginateDescribeTargetGroups({ client: elb }, { PageSize: 1 }))
    pages.push((page.TargetGroups ?? []).map((t) => t.TargetGroupName!));
  expect(pages).toEqual([['page-a'], ['page-b'], ['page-c']]);
});

test('without PageSize every target group comes in one page without NextMarker', async () => {
  const r = await elb.send(new DescribeTargetGroupsCommand({}));
  expect(r.TargetGroups).toHaveLength(3);
  expect(r.NextMarker).toBeUndefined();
});

test.each([0, 401])('PageSize %d is refused with ValidationError', async (size) => {
  await expect(elb.send(new DescribeTargetGroupsCommand({ PageSize: size }))).rejects.toMatchObject(
    {
      name: 'ValidationError',
    },
  );
});

test('a Marker that no page handed out is refused with ValidationError', async () => {
  await expect(
    elb.send(new DescribeLoadBalancersCommand({ Marker: 'not-a-marker' })),
  ).rejects.toMatchObject({ name: 'ValidationError' });
});
