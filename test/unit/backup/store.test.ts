import {
  checkBucket,
  listObjects,
  partSizeFor,
  replaceMetadata,
  type S3Api,
} from '../../../packages/backup/src/store';
import { awsError, FakeClient } from './fakes';

describe('listObjects', () => {
  it('follows continuation tokens across pages', async () => {
    const pages: Record<
      string,
      {
        Contents: { Key: string; LastModified: Date; Size: number }[];
        IsTruncated: boolean;
        NextContinuationToken?: string;
      }
    > = {
      start: {
        Contents: [{ Key: 'p/1', LastModified: new Date(1), Size: 1 }],
        IsTruncated: true,
        NextContinuationToken: 't2',
      },
      t2: {
        Contents: [{ Key: 'p/2', LastModified: new Date(2), Size: 2 }],
        IsTruncated: true,
        NextContinuationToken: 't3',
      },
      t3: { Contents: [{ Key: 'p/3', LastModified: new Date(3), Size: 3 }], IsTruncated: false },
    };
    const s3 = new FakeClient<S3Api>({
      ListObjectsV2Command: (input) => pages[(input.ContinuationToken as string) ?? 'start'],
    });
    const listed = await listObjects(s3.api, 'b', 'p/', 1);
    expect(listed.map((o) => o.key)).toEqual(['p/1', 'p/2', 'p/3']);
    expect(s3.sent.map((c) => c.input.ContinuationToken)).toEqual([undefined, 't2', 't3']);
    expect(s3.sent.every((c) => c.input.Prefix === 'p/' && c.input.MaxKeys === 1)).toBe(true);
  });

  it('refuses a truncated page without a token rather than deciding on half a listing', async () => {
    const s3 = new FakeClient<S3Api>({
      ListObjectsV2Command: () => ({ Contents: [], IsTruncated: true }),
    });
    await expect(listObjects(s3.api, 'b', 'p/')).rejects.toThrow(
      /truncated without a continuation token/,
    );
  });
});

describe('checkBucket', () => {
  it.each([
    [awsError('NotFound', 404), /Bucket `b` does not exist/],
    [awsError('Forbidden', 403), /Access to bucket `b` is denied/],
  ])('explains %s', async (error, message) => {
    const s3 = new FakeClient<S3Api>({
      HeadBucketCommand: () => {
        throw error;
      },
    });
    await expect(checkBucket(s3.api, 'b')).rejects.toThrow(message);
  });
});

describe('replaceMetadata', () => {
  const opts = {
    bucket: 'b',
    key: 'p/a b.dump',
    contentType: 'application/octet-stream',
    metadata: { sha256: 'x' },
    sse: 'aws:kms' as const,
    kmsKeyId: 'k',
    storageClass: 'STANDARD_IA',
  };

  it('copies a small object onto itself, keeping encryption and class', async () => {
    const s3 = new FakeClient<S3Api>({ CopyObjectCommand: () => ({}) });
    await replaceMetadata(s3.api, { ...opts, size: 100 });
    expect(s3.sent).toEqual([
      {
        name: 'CopyObjectCommand',
        input: expect.objectContaining({
          CopySource: 'b/p/a%20b.dump',
          MetadataDirective: 'REPLACE',
          Metadata: { sha256: 'x' },
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'k',
          StorageClass: 'STANDARD_IA',
        }),
      },
    ]);
  });

  it('copies an object beyond the copy limit in parts', async () => {
    const GiB = 1024 ** 3;
    const s3 = new FakeClient<S3Api>({
      CreateMultipartUploadCommand: () => ({ UploadId: 'u1' }),
      UploadPartCopyCommand: (input) => ({ CopyPartResult: { ETag: `e${input.PartNumber}` } }),
      CompleteMultipartUploadCommand: () => ({}),
    });
    await replaceMetadata(s3.api, { ...opts, size: 2.5 * GiB, maxCopyBytes: GiB });
    expect(s3.names()).toEqual([
      'CreateMultipartUploadCommand',
      'UploadPartCopyCommand',
      'UploadPartCopyCommand',
      'UploadPartCopyCommand',
      'CompleteMultipartUploadCommand',
    ]);
    expect(
      s3.sent.filter((c) => c.name === 'UploadPartCopyCommand').map((c) => c.input.CopySourceRange),
    ).toEqual([
      `bytes=0-${GiB - 1}`,
      `bytes=${GiB}-${2 * GiB - 1}`,
      `bytes=${2 * GiB}-${2.5 * GiB - 1}`,
    ]);
    expect(s3.sent[0].input).toMatchObject({
      Metadata: { sha256: 'x' },
      ServerSideEncryption: 'aws:kms',
    });
    expect(s3.sent[4].input.MultipartUpload).toEqual({
      Parts: [
        { PartNumber: 1, ETag: 'e1' },
        { PartNumber: 2, ETag: 'e2' },
        { PartNumber: 3, ETag: 'e3' },
      ],
    });
  });

  it('aborts the part copy when a part fails', async () => {
    const s3 = new FakeClient<S3Api>({
      CreateMultipartUploadCommand: () => ({ UploadId: 'u1' }),
      UploadPartCopyCommand: () => {
        throw awsError('InternalError', 500);
      },
      AbortMultipartUploadCommand: () => ({}),
    });
    await expect(replaceMetadata(s3.api, { ...opts, size: 10, maxCopyBytes: 1 })).rejects.toThrow(
      'InternalError',
    );
    expect(s3.names()).toEqual([
      'CreateMultipartUploadCommand',
      'UploadPartCopyCommand',
      'AbortMultipartUploadCommand',
    ]);
  });
});

describe('partSizeFor', () => {
  it.each([
    [0, 8],
    [50 * 1024 ** 2, 8],
    [200 * 1024 ** 3, 35],
  ])('%i bytes → %i MiB parts', (bytes, mib) => expect(partSizeFor(bytes)).toBe(mib * 1024 * 1024));
});
