/**
 * The one HTTP endpoint: routes each request the way AWS front ends do (requests signed for
 * `s3` to S3, then the X-Amz-Target prefix, then the query form's Action/Version), checks SigV4
 * well-formedness, applies faults, writes responses and errors in each protocol's shape and
 * reports every answered request to the request log.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { AwsError, type EcrService, type JsonOperation, type RequestContext } from './contracts';
import type { FaultInjector } from './faults';
import { requestId as newRequestId } from './ids';
import { parseJsonBody, writeJson, writeJsonError } from './protocol/json';
import {
  parseForm,
  unflattenQuery,
  writeQuery,
  writeQueryError,
  type QueryParams,
} from './protocol/query';
import { checkSigV4 } from './protocol/sigv4';
import { isS3Request, refuseRequest, type S3Service } from './s3';

/** A query-protocol operation: decoded parameters in, result members out. */
export type QueryOperation = (params: QueryParams, ctx: RequestContext) => unknown;

/** A service spoken over awsJson1_0/1_1. */
export interface JsonServiceDef {
  /** `X-Amz-Target` prefix without the dot. */
  target: string;
  signingName: string;
  contentType: 'application/x-amz-json-1.0' | 'application/x-amz-json-1.1';
  queryCompatible?: boolean;
  operations: Record<string, JsonOperation>;
}

/** A service spoken over awsQuery. */
export interface QueryServiceDef {
  version: string;
  signingName: string;
  xmlns: string;
  listWrappers?: string[];
  listItemNames?: Record<string, string>;
  operations: Record<string, QueryOperation>;
}

/** Handles `/_local/...`; returns false when the path is unknown. */
export type AdminHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
) => Promise<boolean>;

/** What the router needs. */
export interface RouterOptions {
  accountId: string;
  json: JsonServiceDef[];
  query: QueryServiceDef[];
  ecr?: EcrService;
  faults: FaultInjector;
  admin: AdminHandler;
  /** S3, for requests signed for `s3` (see `isS3Request`). */
  s3?: S3Service;
  /** Called once per request when its answer is finished (or the connection closed). */
  onRequest?: (entry: RequestLogEntry) => void;
  /** Called for unexpected exceptions (bugs), which are answered with a 500. */
  onInternalError?: (error: unknown) => void;
}

/** One answered request, as the request log shows it. */
export interface RequestLogEntry {
  /**
   * The service: a signing name (`ecs`, `ecr`, `elasticloadbalancing`, `monitoring`, `rds`,
   * `s3`), `registry` for OCI registry traffic under `/v2/`, `local` for the admin endpoints and
   * `-` for requests no service answers.
   */
  service: string;
  /** The operation (`DescribeServices`, `PutObject`, `GetManifest`, `GetState`…) or `-`. */
  operation: string;
  /** The HTTP status answered (0 when the connection closed before an answer). */
  status: number;
  /** Milliseconds from the request's arrival to the end of its answer. */
  ms: number;
}

/** The request log's line for an entry: `ecs DescribeServices 200 4ms`. */
export function formatRequestLogLine(entry: RequestLogEntry): string {
  return `${entry.service} ${entry.operation} ${entry.status} ${Math.round(entry.ms)}ms`;
}

/** A service or operation name as the log shows it: client-chosen text outside a name is `?`. */
function logName(name: string | undefined): string {
  return name && /^[A-Za-z0-9_.:-]{1,80}$/.test(name) ? name : '?';
}

/** The registry operation of a request under `/v2/`, named after the distribution API. */
function registryOperation(method: string, path: string): string {
  if (path === '/v2' || path === '/v2/') return 'Ping';
  if (path === '/v2/_catalog') return 'Catalog';
  if (/\/tags\/list$/.test(path)) return 'ListTags';
  const verb = method === 'HEAD' ? 'Head' : method === 'DELETE' ? 'Delete' : 'Get';
  if (/\/manifests\/[^/]+$/.test(path)) return method === 'PUT' ? 'PutManifest' : `${verb}Manifest`;
  if (/\/blobs\/uploads(\/[^/]*)?$/.test(path)) {
    if (method === 'POST') return 'StartUpload';
    if (method === 'PATCH') return 'UploadChunk';
    if (method === 'PUT') return 'CompleteUpload';
    return method === 'DELETE' ? 'CancelUpload' : 'UploadStatus';
  }
  if (/\/blobs\/[^/]+$/.test(path)) return `${verb}Blob`;
  return 'Unknown';
}

/** The admin operation of a request under `/_local/`: `GET /_local/state` is `GetState`. */
function adminOperation(method: string, path: string): string {
  const verb = method.charAt(0) + method.slice(1).toLowerCase();
  if (/^\/_local\/tasks\/[^/]+\/logs\/[^/]+$/.test(path)) return `${verb}TaskLogs`;
  const name = /^\/_local\/([a-z]+)$/.exec(path)?.[1];
  return name ? `${verb}${name.charAt(0).toUpperCase()}${name.slice(1)}` : 'Unknown';
}

/**
 * The largest request body each route reads into memory, in bytes. The JSON APIs allow for
 * ECR's PutImage (a manifest of up to 4 MiB, escaped inside a JSON string); the query APIs
 * (ELBv2, RDS, CloudWatch) and the admin endpoints carry a few kilobytes at most. Registry
 * traffic under `/v2/` is not read here: blob uploads stream to disk and manifests have their
 * own cap in the registry.
 */
export const BODY_LIMITS = {
  json: 10 * 1024 * 1024,
  query: 1024 * 1024,
  admin: 1024 * 1024,
  /** Registry uploads (streamed to disk, never buffered): ECR's largest layer, 52,000 MiB. */
  registryUpload: 52_000 * 1024 * 1024,
} as const;

/** The body is larger than the route reads: answered with a 413. */
function bodyTooLarge(limit: number): AwsError {
  return new AwsError(
    'RequestEntityTooLarge',
    `The request body is larger than ${limit} bytes, the most this endpoint accepts.`,
    413,
  );
}

/**
 * How much of a refused body is still read (and thrown away) after the answer, so that a client
 * still sending it receives the answer instead of a reset; past that the connection is closed.
 */
const DISCARD_AFTER_REFUSAL = 32 * 1024 * 1024;
/** How long a client may go on sending after the answer before the connection is closed. */
const DISCARD_GRACE_MS = 5_000;

/**
 * Throws away the rest of a body that will not be read, then closes the connection: once the
 * answer is written the connection is half-closed, so the client reads the answer and its end
 * and stops sending; what it sent meanwhile is read and dropped, up to
 * {@link DISCARD_AFTER_REFUSAL} bytes or {@link DISCARD_GRACE_MS} after the answer. Closing it
 * sooner with unread bytes would reset it, and a client that had not yet read the answer (its
 * writes land in loopback buffers of several MiB before it reads) would lose it.
 */
function discardRest(req: IncomingMessage, res: ServerResponse): void {
  res.shouldKeepAlive = true;
  res.once('finish', () => {
    req.socket.end();
    setTimeout(() => req.socket.destroy(), DISCARD_GRACE_MS).unref();
  });
  let discarded = 0;
  req.on('data', (c: Buffer) => {
    discarded += c.length;
    if (discarded > DISCARD_AFTER_REFUSAL) req.socket.destroy();
  });
  req.resume();
}

/**
 * Reads a request body of at most `limit` bytes as UTF-8. A larger body (declared by
 * `Content-Length` or found while reading) fails with a 413 `RequestEntityTooLarge` as soon as
 * the limit is passed, without buffering the rest.
 */
function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<string> {
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    discardRest(req, res);
    return Promise.reject(bodyTooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size <= limit) {
        chunks.push(c);
        return;
      }
      chunks.length = 0;
      discardRest(req, res);
      settle(bodyTooLarge(limit));
    };
    req.on('data', onData);
    req.on('end', () => settle());
    req.on('error', (error) => settle(error));
  });
}

function toAwsError(error: unknown, onInternal?: (e: unknown) => void): AwsError {
  if (error instanceof AwsError) return error;
  onInternal?.(error);
  return new AwsError(
    'InternalFailure',
    `Internal error: ${(error as Error)?.message ?? String(error)}`,
    500,
    'Receiver',
  );
}

const DEFAULT_REGION = 'us-east-1';

/** Creates the request listener for the local-aws HTTP server. */
export function createRouter(
  opts: RouterOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const byTarget = new Map(opts.json.map((s) => [s.target, s]));
  const byVersion = new Map(opts.query.map((s) => [s.version, s]));

  const context = (req: IncomingMessage, region: string, requestId: string): RequestContext => ({
    region,
    accountId: opts.accountId,
    requestId,
    endpointHost: req.headers.host ?? '127.0.0.1',
  });

  /** What the request log says about a request: filled in as the router learns it. */
  interface Label {
    service: string;
    operation: string;
  }

  async function handleJson(
    req: IncomingMessage,
    res: ServerResponse,
    target: string,
    requestId: string,
    label: Label,
  ): Promise<void> {
    const dot = target.lastIndexOf('.');
    const svc = byTarget.get(target.slice(0, dot));
    const operation = target.slice(dot + 1);
    label.service = svc?.signingName ?? '?';
    label.operation = logName(operation);
    const writeOpts = {
      contentType: svc?.contentType ?? ('application/x-amz-json-1.1' as const),
      requestId,
      queryCompatible: svc?.queryCompatible,
    };
    try {
      if (!svc) throw new AwsError('UnknownOperationException', `Unknown target \`${target}\`.`);
      const body = await readBody(req, res, BODY_LIMITS.json);
      const scope = checkSigV4(req.headers.authorization, true);
      const handler = Object.prototype.hasOwnProperty.call(svc.operations, operation)
        ? svc.operations[operation]
        : undefined;
      if (!handler)
        throw new AwsError(
          svc.queryCompatible ? 'InvalidAction' : 'UnknownOperationException',
          `Operation \`${operation}\` is not supported by local-aws.`,
        );
      const fault = await opts.faults.beforeCall(svc.signingName, operation);
      if (fault)
        throw fault.code === 'ThrottlingException' && svc.queryCompatible
          ? new AwsError('Throttling', fault.message, 400)
          : fault;
      const input = parseJsonBody(body);
      const result = await handler(input, context(req, scope.region || DEFAULT_REGION, requestId));
      writeJson(res, result, writeOpts);
    } catch (error) {
      writeJsonError(res, toAwsError(error, opts.onInternalError), writeOpts);
    }
  }

  async function handleQuery(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    label: Label,
  ): Promise<void> {
    let xmlns: string | undefined;
    try {
      const body = await readBody(req, res, BODY_LIMITS.query);
      const url = new URL(req.url ?? '/', 'http://localhost');
      const flat = { ...Object.fromEntries(url.searchParams), ...parseForm(body) };
      const scope = checkSigV4(req.headers.authorization, false);
      const svc =
        byVersion.get(flat.Version ?? '') ??
        opts.query.find((s) => s.signingName === scope.service);
      label.service = svc?.signingName ?? logName(scope.service);
      label.operation = logName(flat.Action);
      if (!flat.Action)
        throw new AwsError('MissingAction', 'The request must contain the parameter Action.');
      if (!svc)
        throw new AwsError('InvalidAction', `No service answers \`Version=${flat.Version}\` here.`);
      xmlns = svc.xmlns;
      const handler = Object.prototype.hasOwnProperty.call(svc.operations, flat.Action)
        ? svc.operations[flat.Action]
        : undefined;
      if (!handler)
        throw new AwsError(
          'InvalidAction',
          `The action \`${flat.Action}\` is not valid for this web service.`,
        );
      const fault = await opts.faults.beforeCall(svc.signingName, flat.Action);
      if (fault)
        throw fault.code === 'ThrottlingException'
          ? new AwsError('Throttling', fault.message, 400)
          : fault;
      const params = unflattenQuery(flat, { listWrappers: svc.listWrappers });
      const result = await handler(params, context(req, scope.region || DEFAULT_REGION, requestId));
      writeQuery(res, flat.Action, result, {
        xmlns: svc.xmlns,
        requestId,
        listItemNames: svc.listItemNames,
      });
    } catch (error) {
      writeQueryError(res, toAwsError(error, opts.onInternalError), { xmlns, requestId });
    }
  }

  async function handleS3(
    s3: S3Service,
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    label: Label,
  ): Promise<void> {
    const operation = s3.operationOf(req);
    label.service = 's3';
    label.operation = operation;
    const fault = await opts.faults.beforeCall('s3', operation);
    if (fault) {
      const answer =
        fault.code === 'ThrottlingException'
          ? { code: 'SlowDown', message: 'Please reduce your request rate.', status: 503 }
          : {
              code: 'InternalError',
              message: 'We encountered an internal error. Please try again.',
              status: 500,
            };
      refuseRequest(req, res, answer, requestId);
      return;
    }
    await s3.handle(req, res, requestId);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, label: Label): Promise<void> {
    const requestId = newRequestId();
    const path = (req.url ?? '/').split('?')[0];
    if (opts.s3 && isS3Request(req)) return handleS3(opts.s3, req, res, requestId, label);
    if (path === '/v2' || path.startsWith('/v2/')) {
      label.service = 'registry';
      label.operation = registryOperation(req.method ?? 'GET', path);
      if (!opts.ecr) {
        res.writeHead(404).end();
        return;
      }
      if (Number(req.headers['content-length'] ?? 0) > BODY_LIMITS.registryUpload) {
        // Checked here because it needs no registry state; a chunked upload is not capped.
        const body = JSON.stringify({
          errors: [
            {
              code: 'SIZE_INVALID',
              message: `a layer is at most ${BODY_LIMITS.registryUpload} bytes`,
            },
          ],
        });
        discardRest(req, res);
        res
          .writeHead(413, {
            'content-type': 'application/json; charset=utf-8',
            'content-length': Buffer.byteLength(body),
            'docker-distribution-api-version': 'registry/2.0',
          })
          .end(body);
        return;
      }
      await opts.ecr.handleRegistry(req, res, context(req, DEFAULT_REGION, requestId));
      return;
    }
    if (path.startsWith('/_local/')) {
      label.service = 'local';
      label.operation = adminOperation(req.method ?? 'GET', path);
      let body: string;
      try {
        body = await readBody(req, res, BODY_LIMITS.admin);
      } catch (error) {
        const e = toAwsError(error, opts.onInternalError);
        res
          .writeHead(e.status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: e.message }));
        return;
      }
      if (!(await opts.admin(req, res, body))) {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: `no admin endpoint \`${path}\`` }));
      }
      return;
    }
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string' && target) return handleJson(req, res, target, requestId, label);
    if (req.method === 'POST' || (req.method === 'GET' && (req.url ?? '').includes('Action='))) {
      return handleQuery(req, res, requestId, label);
    }
    if (req.method === 'GET' && path === '/') {
      label.service = 'local';
      label.operation = 'Status';
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ service: 'local-aws', status: 'running' }));
      return;
    }
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ message: `no route for ${req.method} ${path}` }));
  }

  return (req, res) => {
    const label: Label = { service: '-', operation: '-' };
    if (opts.onRequest) {
      const onRequest = opts.onRequest;
      const started = performance.now();
      res.once('close', () =>
        onRequest({
          ...label,
          status: res.headersSent ? res.statusCode : 0,
          ms: performance.now() - started,
        }),
      );
    }
    handle(req, res, label).catch((error: unknown) => {
      opts.onInternalError?.(error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: (error as Error)?.message ?? String(error) }));
    });
  };
}
