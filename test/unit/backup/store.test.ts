import {
  checkBucket,
  copyObject,
  listObjects,
  type S3Api,
} from '../../../packages/backup/src/store';
import {
  partSizeFor,
  streamUpload,
  type StreamUploadOptions,
} from '../../../packages/backup/src/upload';
import { Readable } from 'node:stream';
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

describe('copyObject', () => {
  const opts = {
    bucket: 'b',
    sourceKey: 'p/a b.dump.incomplete',
    key: 'p/a b.dump',
    contentType: 'application/octet-stream',
    metadata: { sha256: 'x' },
    sse: 'aws:kms' as const,
    kmsKeyId: 'k',
    storageClass: 'STANDARD_IA',
  };

  it('copies a small object with new metadata in one call, keeping encryption and class', async () => {
    const s3 = new FakeClient<S3Api>({ CopyObjectCommand: () => ({}) });
    await copyObject(s3.api, { ...opts, size: 100 });
    expect(s3.sent).toEqual([
      {
        name: 'CopyObjectCommand',
        input: expect.objectContaining({
          CopySource: 'b/p/a%20b.dump.incomplete',
          Key: 'p/a b.dump',
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
    await copyObject(s3.api, { ...opts, size: 2.5 * GiB, maxCopyBytes: GiB });
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
    await expect(copyObject(s3.api, { ...opts, size: 10, maxCopyBytes: 1 })).rejects.toThrow(
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
    [0, 5],
    [50 * 1024 ** 2, 5],
    [20 * 1024 ** 3, 5],
    [200 * 1024 ** 3, 35],
  ])('%i bytes → %i MiB parts', (bytes, mib) => expect(partSizeFor(bytes)).toBe(mib * 1024 * 1024));
});

describe('streamUpload', () => {
  /** A fake S3 that keeps a copy of every part (the uploader reuses its buffers). */
  function fakeS3(opts: { failPart?: number; checksums?: boolean } = {}) {
    const parts = new Map<number, Buffer>();
    const puts: Buffer[] = [];
    let inFlight = 0;
    let peakInFlight = 0;
    const s3 = new FakeClient<S3Api>({
      CreateMultipartUploadCommand: () => ({ UploadId: 'up-1' }),
      UploadPartCommand: async (input) => {
        inFlight++;
        peakInFlight = Math.max(peakInFlight, inFlight);
        const body = Buffer.from(input.Body as Buffer);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        if (input.PartNumber === opts.failPart) throw awsError('InternalError', 500);
        parts.set(input.PartNumber as number, body);
        return { ETag: `"e${input.PartNumber as number}"`, ChecksumCRC32: 'crc' };
      },
      CompleteMultipartUploadCommand: () => ({}),
      PutObjectCommand: (input) => {
        puts.push(Buffer.from(input.Body as Buffer));
        return {};
      },
      AbortMultipartUploadCommand: () => ({}),
      HeadObjectCommand: () => {
        throw awsError('NotFound', 404);
      },
    });
    if (opts.checksums)
      Object.assign(s3, { config: { requestChecksumCalculation: async () => 'WHEN_SUPPORTED' } });
    return {
      s3,
      parts,
      puts,
      peak: () => peakInFlight,
      joined: () =>
        Buffer.concat([...parts.keys()].sort((a, b) => a - b).map((n) => parts.get(n) as Buffer)),
    };
  }

  const options = (
    body: Readable,
    extra: Partial<StreamUploadOptions> = {},
  ): StreamUploadOptions => ({
    bucket: 'b',
    key: 'k/backup.dump',
    body,
    contentType: 'application/octet-stream',
    metadata: { 'shipkit-kind': 'custom' },
    partSize: 1000,
    queueSize: 2,
    sse: 'AES256',
    ...extra,
  });

  /** `total` bytes of a recognisable pattern, in chunks of `chunk`. */
  function bytes(total: number): Buffer {
    return Buffer.from(Array.from({ length: total }, (_, i) => (i * 7 + (i >> 8)) % 256));
  }
  const chunked = (data: Buffer, chunk: number): Readable =>
    Readable.from(
      Array.from({ length: Math.ceil(data.length / chunk) }, (_, i) =>
        data.subarray(i * chunk, (i + 1) * chunk),
      ),
    );

  it.each([
    ['a body shorter than a part', 999, 333, [], 1],
    ['an empty body', 0, 1, [], 1],
    ['exactly one part', 1000, 300, [1000], 0],
    ['parts and a short last one', 4321, 77, [1000, 1000, 1000, 1000, 321], 0],
    ['chunks larger than a part', 3000, 2500, [1000, 1000, 1000], 0],
  ])('stores %s intact (%i bytes in chunks of %i)', async (_name, total, chunk, sizes, puts) => {
    const data = bytes(total);
    const s3 = fakeS3();
    await streamUpload(s3.s3.api, options(chunked(data, chunk)));
    expect(s3.puts.length).toBe(puts);
    if (puts) {
      expect(s3.puts[0].equals(data)).toBe(true);
      expect(s3.s3.names()).toEqual(['PutObjectCommand']);
      return;
    }
    expect([...s3.parts.keys()].sort((a, b) => a - b).map((n) => s3.parts.get(n)?.length)).toEqual(
      sizes,
    );
    expect(s3.joined().equals(data)).toBe(true);
    const complete = s3.s3.sent.find((c) => c.name === 'CompleteMultipartUploadCommand');
    expect(complete?.input.MultipartUpload).toEqual({
      Parts: sizes.map((_s, i) => ({
        PartNumber: i + 1,
        ETag: `"e${i + 1}"`,
        ChecksumCRC32: 'crc',
      })),
    });
    const create = s3.s3.sent.find((c) => c.name === 'CreateMultipartUploadCommand');
    expect(create?.input).toMatchObject({
      Metadata: { 'shipkit-kind': 'custom' },
      ServerSideEncryption: 'AES256',
      ContentType: 'application/octet-stream',
    });
    expect(create?.input.ChecksumAlgorithm).toBeUndefined();
  });

  it('shows every byte to inspect once, in order, and asks beforeComplete before completing', async () => {
    const data = bytes(4321);
    const s3 = fakeS3();
    const seen: Buffer[] = [];
    const order: string[] = [];
    await streamUpload(
      s3.s3.api,
      options(chunked(data, 77), {
        inspect: (b) => {
          seen.push(Buffer.from(b));
          order.push(`inspect ${b.length}`);
        },
        beforeComplete: async () => {
          order.push(
            `check after ${s3.s3.names().filter((n) => n === 'UploadPartCommand').length} parts`,
          );
        },
      }),
    );
    expect(Buffer.concat(seen).equals(data)).toBe(true);
    expect(seen.map((b) => b.length)).toEqual([1000, 1000, 1000, 1000, 321]);
    // The check sees every byte (the last, short part included) before anything completes.
    expect(order).toEqual([
      'inspect 1000',
      'inspect 1000',
      'inspect 1000',
      'inspect 1000',
      'inspect 321',
      'check after 4 parts',
    ]);
  });

  it('lets beforeComplete see a body shorter than one part before the PutObject', async () => {
    const s3 = fakeS3();
    let seenAtCheck = 0;
    let seen = 0;
    await streamUpload(
      s3.s3.api,
      options(chunked(bytes(640), 64), {
        inspect: (b) => (seen += b.length),
        beforeComplete: async () => {
          seenAtCheck = seen;
        },
      }),
    );
    expect(seenAtCheck).toBe(640);
    expect(s3.s3.names()).toEqual(['PutObjectCommand']);
  });

  it.each([
    ['a multipart upload', 4321],
    ['a single PutObject', 500],
  ])('completes nothing when beforeComplete throws (%s)', async (_name, total) => {
    const s3 = fakeS3();
    const error = await streamUpload(
      s3.s3.api,
      options(chunked(bytes(total), 100), {
        beforeComplete: () => Promise.reject(new Error('pg_dump exited with code 1')),
      }),
    ).catch((e: unknown) => e as Error & { cleanup: { clean: boolean } });
    expect(error?.message).toBe('pg_dump exited with code 1');
    expect(error?.cleanup.clean).toBe(true);
    expect(s3.s3.names()).not.toContain('CompleteMultipartUploadCommand');
    expect(s3.s3.names()).not.toContain('PutObjectCommand');
  });

  it('keeps at most queueSize parts in flight', async () => {
    const s3 = fakeS3();
    await streamUpload(s3.s3.api, options(chunked(bytes(20_000), 500), { queueSize: 3 }));
    expect(s3.peak()).toBe(3);
    expect(s3.parts.size).toBe(20);
  });

  it('asks for CRC32 part checksums when the client adds them', async () => {
    const s3 = fakeS3({ checksums: true });
    await streamUpload(s3.s3.api, options(chunked(bytes(2500), 500)));
    const create = s3.s3.sent.find((c) => c.name === 'CreateMultipartUploadCommand');
    expect(create?.input.ChecksumAlgorithm).toBe('CRC32');
  });

  it('aborts the upload and completes nothing when a part fails', async () => {
    const s3 = fakeS3({ failPart: 3 });
    const error = await streamUpload(s3.s3.api, options(chunked(bytes(8000), 400))).catch(
      (e: unknown) => e as Error & { cleanup: { clean: boolean; notes: string[] } },
    );
    expect(error).toMatchObject({ name: 'InternalError' });
    expect(error?.cleanup.clean).toBe(true);
    expect(error?.cleanup.notes.join()).toMatch(/aborted the multipart upload/);
    expect(s3.s3.names()).not.toContain('CompleteMultipartUploadCommand');
    expect(s3.s3.names()).toContain('AbortMultipartUploadCommand');
  });

  it('aborts the upload when the body fails midway', async () => {
    const s3 = fakeS3();
    async function* failing(): AsyncGenerator<Buffer> {
      yield bytes(2500);
      throw new Error('pg_dump exited with code 1');
    }
    await expect(streamUpload(s3.s3.api, options(Readable.from(failing())))).rejects.toThrow(
      'pg_dump exited with code 1',
    );
    expect(s3.s3.names()).toContain('AbortMultipartUploadCommand');
    expect(s3.s3.names()).not.toContain('CompleteMultipartUploadCommand');
  });

  it('stops a body that waits for its producer when the run is cancelled', async () => {
    const s3 = fakeS3();
    const controller = new AbortController();
    const body = new Readable({ read() {} }); // never ends on its own
    body.push(bytes(1500));
    setTimeout(() => controller.abort(), 20);
    await expect(
      streamUpload(s3.s3.api, options(body, { signal: controller.signal })),
    ).rejects.toThrow(/cancelled/);
    expect(s3.s3.names()).toContain('AbortMultipartUploadCommand');
    expect(s3.s3.names()).not.toContain('CompleteMultipartUploadCommand');
  });

  it('reports progress after each stored part', async () => {
    const s3 = fakeS3();
    const seen: [number, number][] = [];
    await streamUpload(
      s3.s3.api,
      options(chunked(bytes(2500), 500), { queueSize: 1, onPart: (b, p) => seen.push([b, p]) }),
    );
    expect(seen).toEqual([
      [1000, 1],
      [2000, 2],
      [2500, 3],
    ]);
  });
});
