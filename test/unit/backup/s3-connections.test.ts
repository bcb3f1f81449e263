import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { streamUpload } from '../../../packages/backup/src/upload';
import { s3Client } from '../../../actions/db-backup/src/environment';

/** An S3 endpoint that takes a multipart upload in and counts the connections it was sent on. */
async function countingS3() {
  let connections = 0;
  const expectHeaders: string[] = [];
  /** `x-amz-content-sha256` of each part request. */
  const payloadHashes: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers.expect) expectHeaders.push(req.headers.expect);
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST' && url.searchParams.has('uploads')) {
        res.writeHead(200, { 'content-type': 'application/xml' });
        return res.end(
          '<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>',
        );
      }
      if (req.method === 'PUT' && url.searchParams.has('partNumber')) {
        payloadHashes.push(String(req.headers['x-amz-content-sha256']));
        return void res.writeHead(200, { etag: `"p${url.searchParams.get('partNumber')}"` }).end();
      }
      if (req.method === 'POST' && url.searchParams.has('uploadId')) {
        res.writeHead(200, { 'content-type': 'application/xml' });
        return res.end(
          '<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag>"x"</ETag></CompleteMultipartUploadResult>',
        );
      }
      res.writeHead(404).end();
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    expectHeaders,
    payloadHashes,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

describe("the action's S3 client", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  /** Streams nine parts (eight of 5 MiB and a short one, two at a time) with the action's client. */
  async function upload(checksums: string) {
    const s3 = await countingS3();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_REQUEST_CHECKSUM_CALCULATION: checksums,
    });
    const client = await s3Client('us-east-1', true);
    try {
      const body = Readable.from(
        (function* () {
          for (let i = 0; i < 8 * 5 + 1; i++) yield Buffer.alloc(1024 * 1024, i);
        })(),
      );
      await streamUpload(client, {
        bucket: 'b',
        key: 'k',
        body,
        contentType: 'application/octet-stream',
        metadata: {},
        partSize: 5 * 1024 * 1024,
        queueSize: 2,
        sse: 'AES256',
      });
      return s3;
    } finally {
      client.destroy();
      await s3.stop();
    }
  }

  it('sends the parts of a backup on kept-alive connections, without waiting for 100-continue', async () => {
    const s3 = await upload('WHEN_SUPPORTED');
    // The create, nine parts and the completion: about one connection per part in flight (a
    // part may start just before the socket of the one that ended is back in the pool), not
    // one per part.
    expect(s3.connections()).toBeLessThanOrEqual(3);
    expect(s3.expectHeaders).toEqual([]);
  });

  it.each([
    ['carry a checksum S3 verifies', 'WHEN_SUPPORTED', /^UNSIGNED-PAYLOAD$/],
    ['carry no checksum, over plain HTTP', 'WHEN_REQUIRED', /^[0-9a-f]{64}$/],
  ])(
    'signs the parts without hashing their bytes only when they %s',
    async (_when, checksums, hash) => {
      const s3 = await upload(checksums);
      expect(s3.payloadHashes).toHaveLength(9);
      for (const h of s3.payloadHashes) expect(h).toMatch(hash);
    },
  );
});
