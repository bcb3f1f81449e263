/**
 * db-backup against local-aws alone: one `AWS_ENDPOINT_URL` (no S3 endpoint of its own, no
 * path-style input) serves the backup's S3 calls. Runs the committed bundle
 * (`dist/db-backup/index.js`), so `npm run build` first.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import {
  startLocalAws,
  type LocalAws,
  type RequestLogEntry,
} from '../../../packages/local-aws/src';
import { rowCounts, seedDatabase, startPostgres, type TestPostgres } from '../../support/postgres';
import { runAction, type ActionRun } from '../../support/run-action';

const BUCKET = 'app-backups';
let pg: TestPostgres;
let aws: LocalAws;
let s3: S3Client;
const requests: RequestLogEntry[] = [];

beforeAll(async () => {
  [pg, aws] = await Promise.all([
    startPostgres(),
    startLocalAws({ port: 0, logRequests: (entry) => requests.push(entry) }),
  ]);
  pg.createDatabase('app');
  seedDatabase(pg, 'app', 24);
  s3 = new S3Client({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
}, 120_000);

afterAll(async () => {
  s3?.destroy();
  await Promise.all([pg?.stop(), aws?.stop()]);
});

/** Runs db-backup with nothing but local-aws's endpoint, a region and any credentials. */
function backup(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction('db-backup', {
    inputs: { environment: 'staging', bucket: BUCKET, name: 'app', ...inputs },
    env: {
      AWS_ENDPOINT_URL: aws.endpoint,
      AWS_ENDPOINT_URL_S3: undefined,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      // The SDK's defaults: the action's own client settings must be enough.
      AWS_REQUEST_CHECKSUM_CALCULATION: undefined,
      AWS_RESPONSE_CHECKSUM_VALIDATION: undefined,
      GITHUB_REPOSITORY: 'acme/shop',
      GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    },
  });
}

test('db-backup dumps to local-aws’s S3 in parts and restores from it', async () => {
  const run = await backup({ 'database-url': pg.url('app') });
  expect(run.error).toBeUndefined();
  expect(run.code).toBe(0);
  const key = run.outputs.key;
  expect(run.outputs.location).toBe(`s3://${BUCKET}/${key}`);

  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  expect(String(head.ContentLength)).toBe(run.outputs.bytes);
  expect(head.Metadata?.sha256).toBe(run.outputs.sha256);
  const uploads = requests.filter((r) => r.service === 's3' && r.operation === 'UploadPart');
  expect(uploads.length).toBeGreaterThanOrEqual(2);
  expect(requests.filter((r) => r.status >= 500)).toEqual([]);

  pg.createDatabase('restored');
  const restore = await backup({
    mode: 'restore',
    'database-url': pg.url('restored'),
    'backup-key': key,
    'confirm-database': 'restored',
  });
  expect(restore.error).toBeUndefined();
  expect(restore.outputs.sha256).toBe(run.outputs.sha256);
  expect(rowCounts(pg, 'restored')).toEqual(rowCounts(pg, 'app'));
  // The restored dump is the stored object, byte for byte.
  const stored = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const bytes = Buffer.from(await stored.Body!.transformToByteArray());
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(run.outputs.sha256);
});
