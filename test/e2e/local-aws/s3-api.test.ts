/**
 * S3 on local-aws's one endpoint: the SDK's S3 client (path style, checksums when required, as
 * the actions configure it) against a local-aws with no separate S3 server. Any credentials
 * work; requests signed for other services, registry traffic and the admin API keep their own
 * routes.
 */
import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';

const MiB = 1024 * 1024;
const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };

let aws: LocalAws;
let s3: S3Client;

beforeAll(async () => {
  aws = await startLocalAws({ port: 0 });
  s3 = new S3Client({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});

afterAll(async () => {
  s3?.destroy();
  await aws?.stop();
});

/** The S3 error name a call fails with (or `ok`). */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    return (error as { name?: string }).name ?? String(error);
  }
}

async function text(bucket: string, key: string): Promise<string> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return r.Body!.transformToString();
}

test('buckets and objects: create, put, list, get, head, copy with metadata, delete', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'backups' }));
  await s3.send(new HeadBucketCommand({ Bucket: 'backups' }));
  const buckets = await s3.send(new ListBucketsCommand({}));
  expect(buckets.Buckets?.map((b) => b.Name)).toContain('backups');

  const put = await s3.send(
    new PutObjectCommand({
      Bucket: 'backups',
      Key: 'db/2026/dump.sql',
      Body: 'select 1;',
      ContentType: 'application/sql',
      Metadata: { source: 'app-db' },
    }),
  );
  expect(put.ETag).toBe(`"${createHash('md5').update('select 1;').digest('hex')}"`);
  expect(put.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);

  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'backups', Prefix: 'db/' }));
  expect(listed.Contents?.map((o) => [o.Key, o.Size])).toEqual([['db/2026/dump.sql', 9]]);
  expect(await text('backups', 'db/2026/dump.sql')).toBe('select 1;');
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'backups', Key: 'db/2026/dump.sql' }));
  expect(head).toMatchObject({ ContentLength: 9, ContentType: 'application/sql' });
  expect(head.Metadata).toEqual({ source: 'app-db' });

  // A copy keeps the metadata, or replaces it with REPLACE.
  await s3.send(
    new CopyObjectCommand({
      Bucket: 'backups',
      Key: 'copy/kept.sql',
      CopySource: 'backups/db/2026/dump.sql',
    }),
  );
  await s3.send(
    new CopyObjectCommand({
      Bucket: 'backups',
      Key: 'copy/replaced.sql',
      CopySource: 'backups/db/2026/dump.sql',
      MetadataDirective: 'REPLACE',
      Metadata: { verified: 'true' },
    }),
  );
  const kept = await s3.send(new HeadObjectCommand({ Bucket: 'backups', Key: 'copy/kept.sql' }));
  const replaced = await s3.send(
    new HeadObjectCommand({ Bucket: 'backups', Key: 'copy/replaced.sql' }),
  );
  expect(kept.Metadata).toEqual({ source: 'app-db' });
  expect(replaced.Metadata).toEqual({ verified: 'true' });
  expect(await text('backups', 'copy/replaced.sql')).toBe('select 1;');

  for (const key of ['db/2026/dump.sql', 'copy/kept.sql', 'copy/replaced.sql'])
    await s3.send(new DeleteObjectCommand({ Bucket: 'backups', Key: key }));
  expect(
    await outcome(s3.send(new HeadObjectCommand({ Bucket: 'backups', Key: 'copy/kept.sql' }))),
  ).toBe('NotFound');
  await s3.send(new DeleteBucketCommand({ Bucket: 'backups' }));
  expect(await outcome(s3.send(new HeadBucketCommand({ Bucket: 'backups' })))).toBe('NotFound');
  expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: 'backups' })))).toBe(
    'NoSuchBucket',
  );
});

test('a multipart upload is listed while in progress and completes into one object', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'multipart' }));
  const first = Buffer.alloc(5 * MiB, 'a');
  const second = Buffer.from('the last part');
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: 'multipart',
      Key: 'big.bin',
      Metadata: { parts: '2' },
    }),
  );
  const parts = [];
  for (const [i, body] of [first, second].entries()) {
    const r = await s3.send(
      new UploadPartCommand({
        Bucket: 'multipart',
        Key: 'big.bin',
        UploadId,
        PartNumber: i + 1,
        Body: body,
      }),
    );
    parts.push({ PartNumber: i + 1, ETag: r.ETag });
  }
  const inProgress = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'multipart' }));
  expect(inProgress.Uploads?.map((u) => [u.Key, u.UploadId])).toEqual([['big.bin', UploadId]]);
  expect(inProgress.Uploads?.[0].Initiated).toBeInstanceOf(Date);
  // An upload in progress is not an object yet.
  const before = await s3.send(new ListObjectsV2Command({ Bucket: 'multipart' }));
  expect(before.Contents ?? []).toEqual([]);

  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'multipart',
      Key: 'big.bin',
      UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
  const got = await s3.send(new GetObjectCommand({ Bucket: 'multipart', Key: 'big.bin' }));
  const bytes = Buffer.from(await got.Body!.transformToByteArray());
  expect(bytes.length).toBe(first.length + second.length);
  expect(bytes.equals(Buffer.concat([first, second]))).toBe(true);
  expect(got.Metadata).toEqual({ parts: '2' });
  const after = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'multipart' }));
  expect(after.Uploads ?? []).toEqual([]);
});

test('AbortMultipartUpload removes the upload; later calls on it fail with NoSuchUpload', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'aborted' }));
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: 'aborted', Key: 'half.bin' }),
  );
  await s3.send(
    new UploadPartCommand({
      Bucket: 'aborted',
      Key: 'half.bin',
      UploadId,
      PartNumber: 1,
      Body: Buffer.alloc(MiB, 'b'),
    }),
  );
  await s3.send(new AbortMultipartUploadCommand({ Bucket: 'aborted', Key: 'half.bin', UploadId }));

  const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'aborted' }));
  expect(listed.Uploads ?? []).toEqual([]);
  const calls: [string, Promise<unknown>][] = [
    [
      'abort again',
      s3.send(new AbortMultipartUploadCommand({ Bucket: 'aborted', Key: 'half.bin', UploadId })),
    ],
    [
      'upload a part',
      s3.send(
        new UploadPartCommand({
          Bucket: 'aborted',
          Key: 'half.bin',
          UploadId,
          PartNumber: 2,
          Body: 'late',
        }),
      ),
    ],
    [
      'complete',
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'aborted',
          Key: 'half.bin',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] },
        }),
      ),
    ],
    [
      'abort under another key',
      s3.send(new AbortMultipartUploadCommand({ Bucket: 'aborted', Key: 'other.bin', UploadId })),
    ],
  ];
  for (const [what, call] of calls)
    expect([what, await outcome(call)]).toEqual([what, 'NoSuchUpload']);
  expect(
    await outcome(
      s3.send(new AbortMultipartUploadCommand({ Bucket: 'nowhere', Key: 'k', UploadId })),
    ),
  ).toBe('NoSuchBucket');
  expect(
    await outcome(s3.send(new HeadObjectCommand({ Bucket: 'aborted', Key: 'half.bin' }))),
  ).toBe('NotFound');
});

test('ListMultipartUploads filters by prefix and pages with max-uploads and the markers', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'uploads-list' }));
  const ids: Record<string, string> = {};
  for (const key of ['a/1', 'a/2', 'a/3', 'b/1']) {
    const r = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'uploads-list', Key: key }));
    ids[key] = r.UploadId!;
  }
  const prefixed = await s3.send(
    new ListMultipartUploadsCommand({ Bucket: 'uploads-list', Prefix: 'a/' }),
  );
  expect(prefixed.Uploads?.map((u) => u.Key)).toEqual(['a/1', 'a/2', 'a/3']);

  const seen: string[] = [];
  let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
  for (let page = 0; page < 5; page++) {
    const r = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: 'uploads-list', MaxUploads: 3, ...markers }),
    );
    seen.push(...(r.Uploads ?? []).map((u) => `${u.Key}@${u.UploadId}`));
    if (!r.IsTruncated) break;
    markers = { KeyMarker: r.NextKeyMarker, UploadIdMarker: r.NextUploadIdMarker };
  }
  expect(seen).toEqual(['a/1', 'a/2', 'a/3', 'b/1'].map((k) => `${k}@${ids[k]}`));
});

test('ListParts lists the uploaded parts with their sizes and ETags, in pages', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'parts-list' }));
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: 'parts-list', Key: 'p.bin' }),
  );
  const etags: string[] = [];
  for (const n of [1, 2, 3]) {
    const r = await s3.send(
      new UploadPartCommand({
        Bucket: 'parts-list',
        Key: 'p.bin',
        UploadId,
        PartNumber: n,
        Body: 'x'.repeat(n * 10),
      }),
    );
    etags.push(r.ETag!);
  }
  const first = await s3.send(
    new ListPartsCommand({ Bucket: 'parts-list', Key: 'p.bin', UploadId, MaxParts: 2 }),
  );
  expect(first.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
    [1, 10, etags[0]],
    [2, 20, etags[1]],
  ]);
  expect(first.IsTruncated).toBe(true);
  const rest = await s3.send(
    new ListPartsCommand({
      Bucket: 'parts-list',
      Key: 'p.bin',
      UploadId,
      PartNumberMarker: first.NextPartNumberMarker,
    }),
  );
  expect(rest.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([[3, 30, etags[2]]]);
  expect(rest.IsTruncated).toBe(false);
});

test('UploadPartCopy builds parts from byte ranges of an existing object', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'part-copy' }));
  const source = Buffer.alloc(6 * MiB);
  for (let i = 0; i < source.length; i++) source[i] = (i * 7) & 0xff;
  await s3.send(new PutObjectCommand({ Bucket: 'part-copy', Key: 'dir/source.bin', Body: source }));
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: 'part-copy',
      Key: 'copy.bin',
      Metadata: { rewritten: 'yes' },
    }),
  );
  const split = 5 * MiB;
  const ranges = [`bytes=0-${split - 1}`, `bytes=${split}-${source.length - 1}`];
  const parts = [];
  for (const [i, range] of ranges.entries()) {
    const r = await s3.send(
      new UploadPartCopyCommand({
        Bucket: 'part-copy',
        Key: 'copy.bin',
        UploadId,
        PartNumber: i + 1,
        CopySource: 'part-copy/dir/source.bin',
        CopySourceRange: range,
      }),
    );
    parts.push({ PartNumber: i + 1, ETag: r.CopyPartResult?.ETag });
  }
  expect(parts[0].ETag).toBe(
    `"${createHash('md5').update(source.subarray(0, split)).digest('hex')}"`,
  );
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'part-copy',
      Key: 'copy.bin',
      UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
  const got = await s3.send(new GetObjectCommand({ Bucket: 'part-copy', Key: 'copy.bin' }));
  expect(Buffer.from(await got.Body!.transformToByteArray()).equals(source)).toBe(true);
  expect(got.Metadata).toEqual({ rewritten: 'yes' });
});

test.each([
  ['a part number of 0', { PartNumber: 0 }, 'InvalidArgument'],
  ['a part number over 10000', { PartNumber: 10001 }, 'InvalidArgument'],
  ['a copy of a missing object', { CopySource: 'part-errors/missing' }, 'NoSuchKey'],
  ['a copy range past the end', { CopySourceRange: 'bytes=0-100' }, 'InvalidArgument'],
  ['a copy source without a key', { CopySource: 'part-errors' }, 'InvalidArgument'],
])('UploadPartCopy refuses %s', async (_what, change, error) => {
  // The bucket is made once for the table (a second CreateBucket is BucketAlreadyOwnedByYou).
  expect(await outcome(s3.send(new CreateBucketCommand({ Bucket: 'part-errors' })))).toMatch(
    /^(ok|BucketAlreadyOwnedByYou|BucketAlreadyExists)$/,
  );
  await s3.send(new PutObjectCommand({ Bucket: 'part-errors', Key: 'small', Body: 'tiny' }));
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: 'part-errors', Key: 'target' }),
  );
  const input = {
    Bucket: 'part-errors',
    Key: 'target',
    UploadId,
    PartNumber: 1,
    CopySource: 'part-errors/small',
    ...change,
  };
  expect(await outcome(s3.send(new UploadPartCopyCommand(input)))).toBe(error);
});

test('UploadPart refuses a part number outside 1–10000', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'part-numbers' }));
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: 'part-numbers', Key: 'k' }),
  );
  for (const PartNumber of [0, 10001])
    expect(
      await outcome(
        s3.send(
          new UploadPartCommand({
            Bucket: 'part-numbers',
            Key: 'k',
            UploadId,
            PartNumber,
            Body: 'x',
          }),
        ),
      ),
    ).toBe('InvalidArgument');
});

test('any access key works, and GET / signed for s3 is ListBuckets, not the local-aws status', async () => {
  const other = new S3Client({
    endpoint: aws.endpoint,
    region: 'eu-west-3',
    credentials: { accessKeyId: 'ANOTHERKEY', secretAccessKey: 'x' },
    forcePathStyle: true,
  });
  try {
    await other.send(new CreateBucketCommand({ Bucket: 'any-key' }));
    const r = await other.send(new ListBucketsCommand({}));
    expect(r.Buckets?.map((b) => b.Name)).toContain('any-key');
  } finally {
    other.destroy();
  }
  const unsigned = await fetch(`${aws.endpoint}/`);
  expect(await unsigned.json()).toEqual({ service: 'local-aws', status: 'running' });
});

test('a presigned GET (X-Amz-Credential in the query) reaches S3', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'presigned' }));
  await s3.send(new PutObjectCommand({ Bucket: 'presigned', Key: 'report.txt', Body: 'hi' }));
  const now = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
  const query = new URLSearchParams({
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `AKIDLOCAL/${now.slice(0, 8)}/us-east-1/s3/aws4_request`,
    'X-Amz-Date': now,
    'X-Amz-Expires': '300',
    'X-Amz-SignedHeaders': 'host',
    'X-Amz-Signature': '0'.repeat(64),
  });
  const r = await fetch(`${aws.endpoint}/presigned/report.txt?${query}`);
  expect([r.status, await r.text()]).toEqual([200, 'hi']);
});

test('with S3 in use, the registry, other services and the admin API keep their routes', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'routes' }));
  await s3.send(new PutObjectCommand({ Bucket: 'routes', Key: 'v2/blobs/x', Body: 'an object' }));
  expect(await text('routes', 'v2/blobs/x')).toBe('an object');
  const ping = await fetch(`${aws.endpoint}/v2/`);
  expect(ping.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  const health = await fetch(`${aws.endpoint}/_local/health`);
  expect(health.status).toBe(200);
  const ecs = new ECSClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials });
  try {
    expect((await ecs.send(new ListClustersCommand({}))).clusterArns).toEqual([]);
  } finally {
    ecs.destroy();
  }
});

test('S3 faults: a server error is answered as S3’s InternalError, and the SDK retries it', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'faulty' }));
  aws.addFault({ kind: 'server-error', service: 's3', operation: 'PutObject', count: 1 });
  const put = await s3.send(new PutObjectCommand({ Bucket: 'faulty', Key: 'k', Body: 'v' }));
  expect(put.$metadata.attempts).toBe(2);
  aws.addFault({ kind: 'throttle', service: 's3', operation: 'GetObject', count: 1 });
  const get = await s3.send(new GetObjectCommand({ Bucket: 'faulty', Key: 'k' }));
  expect(get.$metadata.attempts).toBe(2);
  expect(await get.Body!.transformToString()).toBe('v');
  aws.clearFaults();
});

test('buckets and objects live under the data directory', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'on-disk' }));
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  expect(existsSync(join(aws.s3.directory, 'on-disk'))).toBe(true);
});
