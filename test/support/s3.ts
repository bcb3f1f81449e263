import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
// s3rver ships no types; the little used here is typed locally.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  store: { getResourcePath(bucket: string, key: string, resource: string): string };
}

/** Environment that points an action (or the SDK) at the test S3 server. */
export interface S3Env extends Record<string, string> {
  AWS_ENDPOINT_URL_S3: string;
  AWS_REGION: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_REQUEST_CHECKSUM_CALCULATION: string;
  AWS_RESPONSE_CHECKSUM_VALIDATION: string;
}

/** An s3rver instance started for a test suite. */
export interface TestS3 {
  endpoint: string;
  /** Environment variables that point the SDK (and so the actions) at this server. */
  env: S3Env;
  /** A client for assertions. */
  client: S3Client;
  createBucket(name: string): Promise<void>;
  /** Every key under `prefix` with its LastModified. */
  list(bucket: string, prefix?: string): Promise<{ key: string; lastModified: Date; size: number }[]>;
  put(bucket: string, key: string, body: string | Buffer, metadata?: Record<string, string>): Promise<void>;
  get(bucket: string, key: string): Promise<Buffer>;
  head(bucket: string, key: string): Promise<{ metadata: Record<string, string>; size: number } | undefined>;
  remove(bucket: string, key: string): Promise<void>;
  /** Sets an object's LastModified (s3rver reports the stored file's mtime). */
  setLastModified(bucket: string, key: string, when: Date): void;
  stop(): Promise<void>;
}

/**
 * Starts s3rver 3.7.1 on 127.0.0.1, a free port, storing in a temporary directory.
 * The returned env uses path-style addressing through an IP endpoint and the SDK's standard
 * `WHEN_REQUIRED` checksum settings. Call `stop()` in afterAll.
 */
export async function startS3(): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'shipkit-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const env: S3Env = {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    env,
    client,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async list(bucket, prefix = '') {
      const out: { key: string; lastModified: Date; size: number }[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) {
          out.push({ key: o.Key ?? '', lastModified: o.LastModified ?? new Date(0), size: o.Size ?? 0 });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
    async put(bucket, key, body, metadata) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata }));
    },
    async get(bucket, key) {
      const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await r.Body!.transformToByteArray());
    },
    async head(bucket, key) {
      try {
        const r = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { metadata: r.Metadata ?? {}, size: r.ContentLength ?? 0 };
      } catch (error) {
        if ((error as { name?: string }).name === 'NotFound') return undefined;
        throw error;
      }
    },
    async remove(bucket, key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    setLastModified(bucket, key, when) {
      utimesSync(server.store.getResourcePath(bucket, key, 'object'), when, when);
    },
    async stop() {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** A proxy in front of an S3 endpoint that starts failing uploads after some bytes. */
export interface FailingProxy {
  endpoint: string;
  /** Request body bytes forwarded so far. */
  forwardedBytes(): number;
  stop(): Promise<void>;
}

/**
 * Forwards requests to `target` until `failAfterBytes` bytes of request bodies have passed; from
 * then on every PUT is answered with HTTP 500 InternalError (S3's "try again"), so the SDK
 * retries and then gives up, as when S3 fails mid-upload.
 */
export async function startFailingProxy(target: string, failAfterBytes: number): Promise<FailingProxy> {
  const to = new URL(target);
  let forwarded = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    if (req.method === 'PUT' && forwarded >= failAfterBytes) {
      req.resume();
      req.on('end', () => {
        res.writeHead(500, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>',
        );
      });
      return;
    }
    const upstream = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.on('data', (d: Buffer) => (forwarded += d.length));
    req.pipe(upstream);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwardedBytes: () => forwarded,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
