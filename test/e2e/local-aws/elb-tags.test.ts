/**
 * DescribeTags takes "up to 20 resources in a single call" (ELBv2 API reference): 20 are
 * described, 21 are refused with a ValidationError before any lookup.
 */
import {
  CreateTargetGroupCommand,
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';

let aws: LocalAws;
let elb: ElasticLoadBalancingV2Client;
const arns: string[] = [];

beforeAll(async () => {
  aws = await startLocalAws({ port: 0 });
  elb = new ElasticLoadBalancingV2Client({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
  for (let i = 0; i < 21; i++) {
    const out = await elb.send(
      new CreateTargetGroupCommand({
        Name: `tagged-${i}`,
        Protocol: 'HTTP',
        Port: 80,
        VpcId: 'vpc-local',
        Tags: [{ Key: 'n', Value: String(i) }],
      }),
    );
    arns.push(out.TargetGroups![0].TargetGroupArn!);
  }
});

afterAll(async () => {
  elb?.destroy();
  await aws?.stop();
});

test('DescribeTags describes 20 resources in one call', async () => {
  const out = await elb.send(new DescribeTagsCommand({ ResourceArns: arns.slice(0, 20) }));
  expect(out.TagDescriptions!.map((d) => d.Tags![0].Value)).toEqual(
    Array.from({ length: 20 }, (_, i) => String(i)),
  );
});

test('DescribeTags of 21 resources is refused with ValidationError', async () => {
  await expect(elb.send(new DescribeTagsCommand({ ResourceArns: arns }))).rejects.toMatchObject({
    name: 'ValidationError',
  });
});
