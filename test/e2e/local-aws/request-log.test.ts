/**
 * The request log: one entry per answered request with service, operation, status and
 * milliseconds, for every kind of traffic local-aws serves.
 */
import { DescribeClustersCommand, ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import {
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  formatRequestLogLine,
  startLocalAws,
  type LocalAws,
  type RequestLogEntry,
} from '../../../packages/local-aws/src';

const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };
let aws: LocalAws;
const entries: RequestLogEntry[] = [];
let waiters: (() => void)[] = [];

beforeAll(async () => {
  aws = await startLocalAws({
    port: 0,
    logRequests: (entry) => {
      entries.push(entry);
      for (const wake of waiters.splice(0)) wake();
    },
  });
});

afterAll(() => aws?.stop());

/** Waits until `count` entries have been logged (entries are logged when an answer ends). */
async function logged(count: number): Promise<RequestLogEntry[]> {
  while (entries.length < count) await new Promise<void>((wake) => waiters.push(wake));
  waiters = [];
  return entries.splice(0, count);
}

const auth = (service: string): string =>
  `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/${service}/aws4_request, ` +
  `SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;

/** A request by hand; resolves with the status once the body is read. */
async function send(path: string, init: RequestInit = {}): Promise<number> {
  const r = await fetch(`${aws.endpoint}${path}`, init);
  await r.arrayBuffer();
  return r.status;
}

beforeEach(() => {
  entries.length = 0;
});

test('SDK calls are logged with their service, operation and status', async () => {
  const client = { endpoint: aws.endpoint, region: 'us-east-1', credentials };
  const ecs = new ECSClient(client);
  const elb = new ElasticLoadBalancingV2Client(client);
  const s3 = new S3Client({
    ...client,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  try {
    await ecs.send(new ListClustersCommand({}));
    await elb.send(new DescribeLoadBalancersCommand({}));
    await s3.send(new CreateBucketCommand({ Bucket: 'logged' }));
    await s3.send(new PutObjectCommand({ Bucket: 'logged', Key: 'a', Body: 'b' }));
    await ecs.send(new DescribeClustersCommand({ clusters: ['nope'] }));
  } finally {
    for (const c of [ecs, elb, s3]) c.destroy();
  }
  const got = await logged(5);
  expect(got.map((e) => [e.service, e.operation, e.status])).toEqual([
    ['ecs', 'ListClusters', 200],
    ['elasticloadbalancing', 'DescribeLoadBalancers', 200],
    ['s3', 'CreateBucket', 200],
    ['s3', 'PutObject', 200],
    ['ecs', 'DescribeClusters', 200],
  ]);
  for (const e of got) expect(e.ms).toBeGreaterThanOrEqual(0);
});

test.each<[string, string, RequestInit, [string, string, number]]>([
  ['registry ping', '/v2/', {}, ['registry', 'Ping', 401]],
  [
    'registry manifest',
    '/v2/app/manifests/v1',
    { method: 'HEAD' },
    ['registry', 'HeadManifest', 401],
  ],
  ['admin health', '/_local/health', {}, ['local', 'GetHealth', 200]],
  ['admin faults', '/_local/faults', { method: 'DELETE' }, ['local', 'DeleteFaults', 200]],
  ['status page', '/', {}, ['local', 'Status', 200]],
  ['no route', '/nothing/here', {}, ['-', '-', 404]],
  [
    'unknown JSON target, with text that is not a name',
    '/',
    {
      method: 'POST',
      headers: {
        'x-amz-target': 'AmazonEC2ContainerServiceV20141113.Evil ::error::op',
        'content-type': 'application/x-amz-json-1.1',
        authorization: auth('ecs'),
      },
      body: '{}',
    },
    ['ecs', '?', 400],
  ],
  [
    'query call of an unknown action',
    '/',
    {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: auth('elasticloadbalancing'),
      },
      body: 'Action=Nope&Version=2015-12-01',
    },
    ['elasticloadbalancing', 'Nope', 400],
  ],
  [
    's3 bucket listing',
    '/missing-bucket?list-type=2',
    {
      headers: {
        authorization: auth('s3'),
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        'x-amz-date': new Date().toISOString().replace(/[-:]|\.\d+/g, ''),
      },
    },
    ['s3', 'ListObjectsV2', 404],
  ],
])('%s is logged', async (_what, path, init, [service, operation, status]) => {
  expect(await send(path, init)).toBe(status);
  const [entry] = await logged(1);
  expect([entry.service, entry.operation, entry.status]).toEqual([service, operation, status]);
});

test.each<[RequestLogEntry, string]>([
  [
    { service: 'ecs', operation: 'DescribeServices', status: 200, ms: 3.6 },
    'ecs DescribeServices 200 4ms',
  ],
  [{ service: 's3', operation: 'PutObject', status: 500, ms: 0.2 }, 's3 PutObject 500 0ms'],
  [{ service: '-', operation: '-', status: 404, ms: 1200 }, '- - 404 1200ms'],
])('%j is printed as %j', (entry, line) => {
  expect(formatRequestLogLine(entry)).toBe(line);
});
