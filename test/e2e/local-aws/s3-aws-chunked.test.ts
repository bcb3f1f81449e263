/**
 * Streamed uploads in S3's `aws-chunked` encoding (the SDK's default when it computes checksums)
 * are stored as their bytes, not as the encoding: the decoder on its own, then the SDK with its
 * default checksum settings against local-aws.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';
import { AwsChunkedDecoder } from '../../../packages/local-aws/src/s3/aws-chunked';

/** Feeds `body` to a decoder in pieces of `piece` bytes; resolves with the bytes or the error. */
async function decode(
  body: string,
  piece: number,
): Promise<{ bytes?: string; trailers?: Record<string, string>; error?: string }> {
  const decoder = new AwsChunkedDecoder();
  const out: Buffer[] = [];
  decoder.on('data', (d: Buffer) => out.push(d));
  const finished = new Promise<string | undefined>((resolve) => {
    decoder.on('end', () => resolve(undefined));
    decoder.on('error', (e) => resolve(e.message));
  });
  const raw = Buffer.from(body, 'latin1');
  for (let at = 0; at < raw.length; at += piece) decoder.write(raw.subarray(at, at + piece));
  decoder.end();
  const error = await finished;
  return error
    ? { error }
    : { bytes: Buffer.concat(out).toString('latin1'), trailers: decoder.trailers };
}

const SIGNED =
  `5;chunk-signature=${'a'.repeat(64)}\r\nhello\r\n6;chunk-signature=${'b'.repeat(64)}\r\n world\r\n` +
  `0;chunk-signature=${'c'.repeat(64)}\r\n\r\n`;
const TRAILER = '6\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n';

test.each([
  ['signed chunks, whole', SIGNED, 10_000, 'hello world', {}],
  ['signed chunks, one byte at a time', SIGNED, 1, 'hello world', {}],
  [
    'unsigned chunks with a checksum trailer',
    TRAILER,
    7,
    'hello world',
    { 'x-amz-checksum-crc32': 'DUoRhQ==' },
  ],
  ['an empty body', '0\r\n\r\n', 2, '', {}],
])('the decoder reads %s', async (_what, body, piece, bytes, trailers) => {
  expect(await decode(body, piece)).toEqual({ bytes, trailers });
});

test.each([
  ['a chunk size that is not hex', 'zz\r\nhello\r\n0\r\n\r\n', /chunk size is malformed/],
  ['a chunk longer than its size', '3\r\nhello\r\n0\r\n\r\n', /longer than its size/],
  ['a body cut short', '5\r\nhel', /ended early/],
])('the decoder refuses %s', async (_what, body, message) => {
  expect((await decode(body, 4)).error).toMatch(message);
});

describe('the SDK with its default checksum settings', () => {
  let aws: LocalAws;
  let s3: S3Client;

  beforeAll(async () => {
    aws = await startLocalAws({ port: 0 });
    // No requestChecksumCalculation: streams are sent aws-chunked with a CRC32 trailer.
    s3 = new S3Client({
      endpoint: aws.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      forcePathStyle: true,
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'chunked' }));
  });

  afterAll(async () => {
    s3?.destroy();
    await aws?.stop();
  });

  /** 2 MiB of varied bytes, streamed in 100 KiB pieces. */
  function payload(): { bytes: Buffer; stream: () => Readable } {
    const bytes = Buffer.alloc(2 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 10)) & 0xff;
    const pieces: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 100 * 1024)
      pieces.push(bytes.subarray(at, at + 100 * 1024));
    return { bytes, stream: () => Readable.from(pieces) };
  }

  async function stored(key: string): Promise<Buffer> {
    const r = await s3.send(new GetObjectCommand({ Bucket: 'chunked', Key: key }));
    return Buffer.from(await r.Body!.transformToByteArray());
  }

  test('a streamed PutObject is stored as its bytes', async () => {
    const { bytes, stream } = payload();
    await s3.send(
      new PutObjectCommand({
        Bucket: 'chunked',
        Key: 'put.bin',
        Body: stream(),
        ContentLength: bytes.length,
      }),
    );
    const got = await stored('put.bin');
    expect(got.length).toBe(bytes.length);
    expect(got.equals(bytes)).toBe(true);
  });

  test('streamed parts of a multipart upload are stored as their bytes', async () => {
    const { bytes, stream } = payload();
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'chunked', Key: 'parts.bin' }),
    );
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: 'chunked',
        Key: 'parts.bin',
        UploadId,
        PartNumber: 1,
        Body: stream(),
        ContentLength: bytes.length,
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'chunked',
        Key: 'parts.bin',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect((await stored('parts.bin')).equals(bytes)).toBe(true);
  });
});
