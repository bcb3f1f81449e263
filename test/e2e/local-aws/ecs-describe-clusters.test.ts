/**
 * DescribeClusters reports a cluster it cannot find as ECS does: a `MISSING` failure whose `arn`
 * is the cluster's full ARN in the caller's region and account, whether the caller gave a name
 * or an ARN (ECS's answer quoted in getmoto/moto#2078: `arn:aws:ecs:us-east-1:123456:cluster/foobar`).
 */
import { CreateClusterCommand, DescribeClustersCommand, ECSClient } from '@aws-sdk/client-ecs';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';

let aws: LocalAws;
let ecs: ECSClient;

beforeAll(async () => {
  aws = await startLocalAws({ port: 0 });
  ecs = new ECSClient({
    endpoint: aws.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
  await ecs.send(new CreateClusterCommand({ clusterName: 'present' }));
});

afterAll(async () => {
  ecs?.destroy();
  await aws?.stop();
});

test.each([
  ['a name', 'absent'],
  ['an ARN', 'arn:aws:ecs:eu-west-1:000000000000:cluster/absent'],
])('a missing cluster given by %s is a MISSING failure with its full ARN', async (_n, ref) => {
  const out = await ecs.send(new DescribeClustersCommand({ clusters: ['present', ref] }));
  expect(out.clusters!.map((c) => c.clusterName)).toEqual(['present']);
  expect(out.failures).toEqual([
    { arn: 'arn:aws:ecs:eu-west-1:000000000000:cluster/absent', reason: 'MISSING' },
  ]);
});
