/**
 * Hostile and unlucky requests against a local-aws process of its own (so a crash or a
 * blocked event loop shows as a dead or silent server, not as a stuck test worker): huge list
 * indexes, oversized and endless bodies, deep JSON, huge headers. Each is answered with AWS's
 * error, and `/_local/health` answers during and after.
 */
import {
  CreateRepositoryCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr';
import { createHash } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { QUERY_LIMITS, unflattenQuery } from '../../../packages/local-aws/src/protocol/query';
import { BODY_LIMITS } from '../../../packages/local-aws/src/server';
import { startLocalAwsProcess, type LocalAwsProcess } from './server-process';

const MiB = 1024 * 1024;

let server: LocalAwsProcess;
let endpoint: string;

beforeAll(async () => {
  server = await startLocalAwsProcess();
  endpoint = server.endpoint;
});

afterAll(() => server?.stop());

/** The server is alive and its event loop free: `/_local/health` answers 200. */
async function expectHealthy(): Promise<void> {
  expect(server.exited()).toBeUndefined();
  expect(await server.healthy()).toBe(true);
}

const auth = (service: string): string =>
  `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/${service}/aws4_request, ` +
  `SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * Sends a request whose body is `chunk` repeated until the server answers or `maxBytes` are
 * written (a `Content-Length` header, when given, is sent as is). `whileSending` runs once,
 * after the first `pauseAfter` bytes, while the request is still open.
 */
function send(opts: {
  path?: string;
  method?: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  chunk?: Buffer;
  maxBytes?: number;
  pauseAfter?: number;
  whileSending?: () => Promise<void>;
}): Promise<Answer & { sent: number }> {
  const url = new URL(opts.path ?? '/', endpoint);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(
      url,
      { method: opts.method ?? 'POST', headers: { connection: 'close', ...opts.headers } },
      (res) => {
        answered = true;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          resolve({ status: res.statusCode!, headers: res.headers, body, sent });
          req.destroy();
        });
        res.on('error', reject);
      },
    );
    // Writing into a connection the server closed after answering is expected.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (opts.body !== undefined) {
      req.end(opts.body);
      return;
    }
    if (!opts.chunk) {
      req.flushHeaders(); // headers only: wait for the answer
      return;
    }
    const chunk = opts.chunk;
    const pump = async (): Promise<void> => {
      let paused = false;
      while (!answered && sent < (opts.maxBytes ?? Infinity)) {
        if (!paused && opts.whileSending && sent >= (opts.pauseAfter ?? 0)) {
          paused = true;
          await opts.whileSending();
        }
        sent += chunk.length;
        if (!req.write(chunk)) {
          await new Promise<void>((r) => {
            const go = (): void => {
              req.off('drain', go);
              req.off('close', go);
              r();
            };
            req.once('drain', go);
            req.once('close', go);
          });
        }
        if (req.destroyed) return;
      }
      if (!answered) req.end();
    };
    pump().catch(reject);
  });
}

const QUERY_HEADERS = {
  'content-type': 'application/x-www-form-urlencoded',
  authorization: auth('elasticloadbalancing'),
};
const ELB = 'Action=DescribeLoadBalancers&Version=2015-12-01';
const RDS = 'Action=DescribeDBSnapshots&Version=2014-10-31';
const names = (n: number): string =>
  Array.from({ length: n }, (_, i) => `Names.member.${i + 1}=lb${i}`).join('&');

describe('query requests', () => {
  test.each([
    ['a list index of 4294967295', 'ValidationError', `${ELB}&Names.member.4294967295=a`],
    ['a list index one past the limit', 'ValidationError', `${ELB}&Names.member.1001=a`],
    ['a list index of 0', 'ValidationError', `${ELB}&Names.member.0=a`],
    [
      'an RDS filter index past the limit',
      'ValidationError',
      `${RDS}&Filters.Filter.5000.Name=db-instance-id&Filters.Filter.5000.Values.Value.1=x`,
    ],
    ['10,001 parameters', 'ValidationError', `${ELB}&${names(9_999)}`],
    ['a parameter name of 17 parts', 'ValidationError', `${ELB}&Names${'.a'.repeat(16)}=x`],
    ['a member named __proto__', 'ValidationError', `${ELB}&__proto__.polluted=1`],
    ['1000 list members (the most accepted)', 'LoadBalancerNotFound', `${ELB}&${names(1000)}`],
  ])('%s is answered with %s and the server stays up', async (_name, code, body) => {
    const res = await send({ body, headers: QUERY_HEADERS });
    expect(res.status).toBe(400);
    expect(res.body).toContain(`<Code>${code}</Code>`);
    await expectHealthy();
  });

  test('the limits are those the parser enforces', () => {
    expect(QUERY_LIMITS).toEqual({
      maxListIndex: 1000,
      maxParameters: 10_000,
      maxNameSegments: 16,
    });
  });

  test.each([
    ['__proto__.polluted'],
    ['constructor.prototype.polluted'],
    ['Tags.member.1.__proto__.polluted'],
  ])('the parameter `%s` is refused and reaches no prototype', (key) => {
    expect(() => unflattenQuery({ Action: 'X', [key]: 'yes' })).toThrow(
      expect.objectContaining({ code: 'ValidationError' }),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('a query body larger than the query limit is answered with a 413', async () => {
    const res = await send({
      headers: QUERY_HEADERS,
      chunk: Buffer.from(`${ELB}&${'x'.repeat(64 * 1024)}`),
      maxBytes: 64 * MiB,
    });
    expect(res.status).toBe(413);
    expect(res.body).toContain('<Code>RequestEntityTooLarge</Code>');
    expect(res.sent).toBeLessThan(64 * MiB);
    await expectHealthy();
  });
});

const JSON_HEADERS = {
  'content-type': 'application/x-amz-json-1.1',
  'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListClusters',
  authorization: auth('ecs'),
};

describe('JSON requests', () => {
  test('an endless body is cut at the JSON limit with a 413, health answering meanwhile', async () => {
    let healthyWhileSending = false;
    // 600 MiB is the body that killed the process (its text is longer than V8's longest string).
    const res = await send({
      headers: { ...JSON_HEADERS, 'transfer-encoding': 'chunked' },
      chunk: Buffer.alloc(MiB, 0x20),
      maxBytes: 600 * MiB,
      pauseAfter: MiB,
      whileSending: async () => {
        await expectHealthy();
        healthyWhileSending = true;
      },
    });
    expect(healthyWhileSending).toBe(true);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ __type: 'RequestEntityTooLarge' });
    expect(res.sent).toBeLessThan(600 * MiB);
    await expectHealthy();
  });

  test('a declared Content-Length above the limit is answered before any body is sent', async () => {
    const res = await send({
      headers: { ...JSON_HEADERS, 'content-length': 600 * MiB },
    });
    expect(res.status).toBe(413);
    expect(res.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(res.body)).toMatchObject({
      __type: 'RequestEntityTooLarge',
      message: expect.stringContaining(String(BODY_LIMITS.json)),
    });
    await expectHealthy();
  });

  const nested = (depth: number): string =>
    `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

  test.each([
    ['64 levels deep is accepted', nested(64), 200, undefined],
    ['65 levels deep is refused', nested(65), 400, 'SerializationException'],
    ['brackets inside strings do not count', `{"a":"${'['.repeat(100)}"}`, 200, undefined],
    ['5 million levels deep is refused', nested(5_000_000), 400, 'SerializationException'],
  ])('a JSON body nested %s', async (_name, body, status, type) => {
    const res = await send({ body, headers: JSON_HEADERS });
    expect(res.status).toBe(status);
    if (type) expect(JSON.parse(res.body)).toMatchObject({ __type: type });
    await expectHealthy();
  });
});

describe('other routes', () => {
  test('an admin body larger than the admin limit is answered with a 413', async () => {
    const res = await send({
      path: '/_local/faults',
      chunk: Buffer.alloc(64 * 1024, 0x20),
      maxBytes: 64 * MiB,
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ message: expect.stringMatching(/larger than/) });
    await expectHealthy();
  });

  test('headers larger than 16 KiB are answered with a 431', async () => {
    const res = await send({
      method: 'GET',
      path: '/_local/health',
      headers: { 'x-big': 'x'.repeat(20 * 1024) },
      body: '',
    });
    expect(res.status).toBe(431);
    await expectHealthy();
  });
});

describe('registry uploads', () => {
  let ecr: ECRClient;
  let basic: string;

  beforeAll(async () => {
    ecr = new ECRClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'big' }));
    const token = await ecr.send(new GetAuthorizationTokenCommand({}));
    basic = `Basic ${token.authorizationData![0].authorizationToken}`;
  });

  afterAll(() => ecr.destroy());

  test('a 24 MiB layer, more than any API body, is pushed in chunks and whole', async () => {
    const part = Buffer.alloc(8 * MiB, 7);
    const digest = `sha256:${createHash('sha256')
      .update(Buffer.concat([part, part, part]))
      .digest('hex')}`;
    const started = await send({
      path: '/v2/big/blobs/uploads/',
      headers: { authorization: basic },
      body: '',
    });
    expect(started.status).toBe(202);
    let location = started.headers.location!;
    for (let i = 0; i < 3; i++) {
      const patched = await send({
        method: 'PATCH',
        path: location,
        headers: { authorization: basic, 'content-type': 'application/octet-stream' },
        body: part,
      });
      expect(patched.status).toBe(202);
      location = patched.headers.location!;
    }
    const done = await send({
      method: 'PUT',
      path: `${location}?digest=${digest}`,
      headers: { authorization: basic },
      body: '',
    });
    expect(done.status).toBe(201);

    const whole = Buffer.alloc(24 * MiB, 9);
    const wholeDigest = `sha256:${createHash('sha256').update(whole).digest('hex')}`;
    const monolithic = await send({
      path: `/v2/big/blobs/uploads/?digest=${wholeDigest}`,
      headers: { authorization: basic, 'content-type': 'application/octet-stream' },
      body: whole,
    });
    expect(monolithic.status).toBe(201);
    const head = await send({
      method: 'HEAD',
      path: `/v2/big/blobs/${wholeDigest}`,
      headers: { authorization: basic },
      body: '',
    });
    expect(head.headers['content-length']).toBe(String(24 * MiB));
  });

  test('an upload declaring more than ECR’s largest layer is answered with SIZE_INVALID', async () => {
    const res = await send({
      method: 'PUT',
      path: `/v2/big/blobs/uploads/?digest=sha256:${'0'.repeat(64)}`,
      headers: { authorization: basic, 'content-length': 52_001 * MiB },
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ errors: [{ code: 'SIZE_INVALID' }] });
    await expectHealthy();
  });
});
