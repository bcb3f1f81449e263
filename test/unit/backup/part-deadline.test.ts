import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { streamUpload } from '../../../packages/backup/src/upload';
import type { Clock } from '../../../packages/kit/src/poll';

/**
 * An S3 endpoint that starts multipart uploads and takes part uploads in, but never answers them
 * (when `answerAfter` is set, it answers the part attempts after that many).
 */
async function silentS3(answerAfter = Infinity) {
  const parts: IncomingMessage[] = [];
  let held = 0;
  const waiters: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST' && url.searchParams.has('uploads')) {
        res.writeHead(200, { 'content-type': 'application/xml' });
        return res.end(
          '<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>',
        );
      }
      if (req.method === 'PUT' && url.searchParams.has('partNumber')) {
        parts.push(req);
        if (parts.length > answerAfter) {
          res.writeHead(200, { etag: `"p${parts.length}"` });
          return res.end();
        }
        held++;
        for (const w of waiters.splice(0)) w();
        return; // accepted, never answered
      }
      if (req.method === 'POST' && url.searchParams.has('uploadId')) {
        res.writeHead(200, { 'content-type': 'application/xml' });
        return res.end(
          '<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag>"x"</ETag></CompleteMultipartUploadResult>',
        );
      }
      if (req.method === 'DELETE') return void res.writeHead(204).end();
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    client,
    parts: () => parts.length,
    /** Part requests held without an answer so far. */
    held: () => held,
    /** Resolves once the server holds more unanswered part requests than `seen`. */
    nextHeld: (seen: number): Promise<void> =>
      held > seen ? Promise.resolve() : new Promise((ok) => waiters.push(ok)),
    stop: async () => {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/**
 * A clock whose deadline passes as soon as the server holds (and will never answer) the attempt
 * it times, and never for an attempt the server answers.
 */
function clockDrivenBy(s3: { held(): number; nextHeld(seen: number): Promise<void> }): Clock {
  return {
    now: () => 0,
    sleep: (_ms, signal) => {
      const seen = s3.held();
      return new Promise((resolve, reject) => {
        signal?.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
        void s3.nextHeld(seen).then(() => resolve());
      });
    },
  };
}

const body = (): Readable => Readable.from([Buffer.alloc(3000, 1)]);

describe('a part upload that never answers', () => {
  it('is retried, then fails with a message that says which part and how long', async () => {
    const s3 = await silentS3();
    try {
      const error = await streamUpload(s3.client, {
        bucket: 'b',
        key: 'k',
        body: body(),
        contentType: 'application/octet-stream',
        metadata: {},
        partSize: 1000,
        queueSize: 1,
        sse: 'AES256',
        partTimeoutMs: 45_000,
        partAttempts: 3,
        clock: clockDrivenBy(s3),
      }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toBe(
        'S3 UploadPart of part 1 (1000 bytes) got no answer within 45 s, 3 times',
      );
      expect(s3.parts()).toBe(3);
    } finally {
      await s3.stop();
    }
  }, 20_000);

  it('goes on when a retry of the stalled part is answered, and says it sent it again', async () => {
    const s3 = await silentS3(1);
    const said: string[] = [];
    try {
      await streamUpload(s3.client, {
        bucket: 'b',
        key: 'k',
        body: body(),
        contentType: 'application/octet-stream',
        metadata: {},
        partSize: 1000,
        queueSize: 1,
        sse: 'AES256',
        partTimeoutMs: 45_000,
        partAttempts: 3,
        clock: clockDrivenBy(s3),
        onStall: (line) => said.push(line),
      });
      expect(said).toEqual([
        'S3 UploadPart of part 1 (1000 bytes) got no answer within 45 s; sending it again (attempt 2 of 3)',
      ]);
      // Part 1 twice (the first attempt stalled), parts 2 and 3 once.
      expect(s3.parts()).toBe(4);
    } finally {
      await s3.stop();
    }
  }, 20_000);
});
