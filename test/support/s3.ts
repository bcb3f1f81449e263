import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import {
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
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
  list(
    bucket: string,
    prefix?: string,
  ): Promise<{ key: string; lastModified: Date; size: number }[]>;
  put(
    bucket: string,
    key: string,
    body: string | Buffer,
    metadata?: Record<string, string>,
  ): Promise<void>;
  get(bucket: string, key: string): Promise<Buffer>;
  head(
    bucket: string,
    key: string,
  ): Promise<{ metadata: Record<string, string>; size: number } | undefined>;
  remove(bucket: string, key: string): Promise<void>;
  /**
   * Sets an object's LastModified (s3rver reports the stored file's mtime), and waits until
   * s3rver reports it: its own write of the object can land after the PUT answered, and would
   * otherwise put the time back to now.
   */
  setLastModified(bucket: string, key: string, when: Date): Promise<void>;
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
          out.push({
            key: o.Key ?? '',
            lastModified: o.LastModified ?? new Date(0),
            size: o.Size ?? 0,
          });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
    async put(bucket, key, body, metadata) {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata }),
      );
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
    async setLastModified(bucket, key, when) {
      for (let attempt = 0; attempt < 40; attempt++) {
        utimesSync(server.store.getResourcePath(bucket, key, 'object'), when, when);
        const r = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        if (Math.abs((r.LastModified?.getTime() ?? 0) - when.getTime()) < 1000) return;
        await new Promise((ok) => setTimeout(ok, 50));
      }
      throw new Error(`s3rver keeps another LastModified for ${bucket}/${key}`);
    },
    async stop() {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** A proxy in front of an S3 endpoint that can fail or hold uploads. */
export interface S3Proxy {
  endpoint: string;
  /** Request body bytes forwarded so far. */
  forwardedBytes(): number;
  /** Upload requests (PUT) held back so far. */
  heldRequests(): number;
  /** Lets held requests through. */
  release(): void;
  stop(): Promise<void>;
}

export interface S3ProxyOptions {
  /**
   * After this many request body bytes, the PUT that crosses the limit and every later PUT is
   * answered with HTTP 500 InternalError (S3's "try again"): the SDK retries, then gives up,
   * as when S3 fails mid-upload.
   */
  failAfterBytes?: number;
  /** Holds every multipart part upload (PUT with `partNumber`) until `release()`. */
  holdParts?: boolean;
}

const INTERNAL_ERROR =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>';

/** Starts a proxy in front of `target` (see {@link S3ProxyOptions}). */
export async function startS3Proxy(target: string, opts: S3ProxyOptions = {}): Promise<S3Proxy> {
  const to = new URL(target);
  const limit = opts.failAfterBytes ?? Infinity;
  let forwarded = 0;
  let held = 0;
  let released = !opts.holdParts;
  const waiting: (() => void)[] = [];
  const fail = (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    const answer = (): void => {
      if (res.headersSent) return;
      res.writeHead(500, { 'content-type': 'application/xml', connection: 'close' });
      res.end(INTERNAL_ERROR);
    };
    if (req.complete) answer();
    else req.on('end', answer);
  };
  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'PUT' && forwarded >= limit) return fail(req, res);
    const upstream = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    const onData = (d: Buffer): void => {
      forwarded += d.length;
      if (req.method === 'PUT' && forwarded >= limit) {
        req.off('data', onData);
        req.unpipe(upstream);
        upstream.destroy();
        fail(req, res);
      }
    };
    req.on('data', onData);
    req.pipe(upstream);
  };
  const server: Server = createServer((req, res) => {
    if (!released && req.method === 'PUT' && /[?&]partNumber=/.test(req.url ?? '')) {
      held++;
      req.pause();
      waiting.push(() => forward(req, res));
      return;
    }
    forward(req, res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwardedBytes: () => forwarded,
    heldRequests: () => held,
    release() {
      released = true;
      for (const go of waiting.splice(0)) go();
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
