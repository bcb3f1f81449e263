/**
 * The one HTTP endpoint: routes each request the way AWS front ends do (X-Amz-Target prefix,
 * then the query form's Action/Version), checks SigV4 well-formedness, applies faults and
 * writes responses and errors in each protocol's shape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
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
  /** Called for unexpected exceptions (bugs), which are answered with a 500. */
  onInternalError?: (error: unknown) => void;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
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

  async function handleJson(
    req: IncomingMessage,
    res: ServerResponse,
    target: string,
    requestId: string,
  ): Promise<void> {
    const dot = target.lastIndexOf('.');
    const svc = byTarget.get(target.slice(0, dot));
    const operation = target.slice(dot + 1);
    const writeOpts = {
      contentType: svc?.contentType ?? ('application/x-amz-json-1.1' as const),
      requestId,
      queryCompatible: svc?.queryCompatible,
    };
    try {
      if (!svc) throw new AwsError('UnknownOperationException', `Unknown target \`${target}\`.`);
      const body = await readBody(req);
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
  ): Promise<void> {
    let xmlns: string | undefined;
    try {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://localhost');
      const flat = { ...Object.fromEntries(url.searchParams), ...parseForm(body) };
      const scope = checkSigV4(req.headers.authorization, false);
      const svc =
        byVersion.get(flat.Version ?? '') ??
        opts.query.find((s) => s.signingName === scope.service);
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

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/v2' || path.startsWith('/v2/')) {
      if (!opts.ecr) {
        res.writeHead(404).end();
        return;
      }
      await opts.ecr.handleRegistry(req, res, context(req, DEFAULT_REGION, requestId));
      return;
    }
    if (path.startsWith('/_local/')) {
      const body = await readBody(req);
      if (!(await opts.admin(req, res, body))) {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: `no admin endpoint \`${path}\`` }));
      }
      return;
    }
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string' && target) return handleJson(req, res, target, requestId);
    if (req.method === 'POST' || (req.method === 'GET' && (req.url ?? '').includes('Action='))) {
      return handleQuery(req, res, requestId);
    }
    if (req.method === 'GET' && path === '/') {
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
    handle(req, res).catch((error: unknown) => {
      opts.onInternalError?.(error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: (error as Error)?.message ?? String(error) }));
    });
  };
}
