/**
 * local-aws: one process that speaks the AWS wire protocols of ECS, ECR, ELBv2, CloudWatch,
 * CloudWatch Logs, CodeDeploy, RDS and S3, so that unmodified AWS SDK clients pointed at it with `AWS_ENDPOINT_URL`
 * work. Tasks run as real local processes behind real listener ports.
 */
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  existsSync,
  mkdirSync,
  renameSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Clock } from './clock';
import { CloudWatch } from './cloudwatch';
import { CodeDeploy, CODEDEPLOY_TARGET } from './codedeploy';
import { createEcrService, type LocalEcrService } from './ecr';
import { Ecs } from './ecs';
import { Elb, ELB_XMLNS } from './elb';
import { FaultInjector, type Fault } from './faults';
import { Logs } from './logs';
import { Rds, RDS_LIST_ITEM_NAMES, RDS_LIST_WRAPPERS } from './rds';
import { createS3Service, type S3Service } from './s3';
import {
  createRouter,
  formatRequestLogLine,
  type JsonServiceDef,
  type QueryServiceDef,
  type RequestLogEntry,
} from './server';

export { AwsError } from './contracts';
export type {
  Fault,
  CallFault,
  ImagePullFault,
  StopTaskFault,
  NoFargateCapacityFault,
} from './faults';
export type { QueryServiceDef, JsonServiceDef, QueryOperation, RequestLogEntry } from './server';
export { formatRequestLogLine } from './server';
export * as query from './protocol/query';

/** The account every resource belongs to. */
export const ACCOUNT_ID = '000000000000';

/** Options of {@link startLocalAws}. */
export interface LocalAwsOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** Run ECS/ELB timers this many times faster (health-check intervals, bake time, draining…). */
  timeScale?: number;
  /** JSON file loaded at start (when present) and written on stop. */
  stateFile?: string;
  /**
   * Where images are unpacked, task logs written and S3 objects stored (under `s3/`, so they
   * outlive a restart with the same directory); a temporary directory when absent.
   */
  dataDir?: string;
  /** Faults active from the start. */
  faults?: Fault[];
  /** Extra query-protocol services (e.g. RDS), routed by their `Version`. */
  extraQueryServices?: QueryServiceDef[];
  /** Receives diagnostic lines (internal errors); silent when absent. */
  log?: (line: string) => void;
  /**
   * The request log: `true` prints one line per answered request on stdout
   * (`s3 PutObject 200 12ms`: service, operation, status, milliseconds); a function receives
   * each request instead (format it with {@link formatRequestLogLine}).
   */
  logRequests?: boolean | ((entry: RequestLogEntry) => void);
}

/** A running local-aws. */
export interface LocalAws {
  /** `http://HOST:PORT`, for `AWS_ENDPOINT_URL`. */
  endpoint: string;
  port: number;
  host: string;
  /** The registry host for image references (`HOST:PORT`). */
  registryHost: string;
  /** Stops tasks and listeners, saves state (when a state file is set) and closes the port. */
  stop(): Promise<void>;
  /** The whole state as `GET /_local/state` returns it. */
  state(): unknown;
  /** Adds a fault (same as `POST /_local/faults`). */
  addFault(fault: Fault): void;
  clearFaults(): void;
  ecs: Ecs;
  elb: Elb;
  cloudwatch: CloudWatch;
  /** ECR, with the registry's upload counters (bytes and blobs received per repository). */
  ecr: LocalEcrService;
  /** RDS; `rds.addSnapshot(...)` seeds back-dated snapshots (admin only). */
  rds: Rds;
  /** S3 (an embedded s3rver); `s3.directory` holds the buckets. */
  s3: S3Service;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Starts local-aws and resolves once it listens. */
export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const host = options.host ?? '127.0.0.1';
  const clock = new Clock(options.timeScale ?? 1);
  const ownDataDir = !options.dataDir;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'local-aws-'));
  mkdirSync(dataDir, { recursive: true });
  const log = options.log ?? ((): void => undefined);

  const ecr = createEcrService({ dataDir: join(dataDir, 'ecr'), accountId: ACCOUNT_ID });
  const cloudwatch = new CloudWatch(clock);
  const elb = new Elb(clock);
  const rds = new Rds({ clock, accountId: ACCOUNT_ID });
  const s3 = createS3Service({ directory: join(dataDir, 's3') });
  // The faults act on ECS, which is built with them.
  const ecsForFaults: { current?: Ecs } = {};
  const running = (): Ecs => {
    if (!ecsForFaults.current) throw new Error('ECS is not running');
    return ecsForFaults.current;
  };
  const faults = new FaultInjector({
    stopTask: (taskArn, reason) => running().stopTaskByFault(taskArn, reason),
    withholdFargateCapacity: (opts) => running().withholdFargateCapacity(opts),
    // Before ECS exists there is no outage to list or end.
    withheldFargateCapacity: () => ecsForFaults.current?.withheldFargateCapacity() ?? [],
    restoreFargateCapacity: () => ecsForFaults.current?.restoreFargateCapacity(),
  });
  const ecs = new Ecs({
    clock,
    elb,
    cloudwatch,
    images: ecr.imageStore,
    faults,
    dataDir,
    accountId: ACCOUNT_ID,
    log,
  });
  ecsForFaults.current = ecs;
  const ecsRef = ecs;
  // CodeDeploy (ECS blue/green) drives ECS task sets and ELB listener weights through their APIs.
  const codedeploy = new CodeDeploy({
    clock,
    accountId: ACCOUNT_ID,
    ecs: ecs.operations,
    elb,
    cloudwatch,
    log,
  });

  // CloudWatch Logs: its wire operations, and where `awslogs` containers write.
  const logs = new Logs();
  ecs.runner.setAwslogsSink(logs);

  const state = (): unknown => ({
    version: 1,
    savedAt: new Date().toISOString(),
    ecs: ecsRef.snapshot(),
    elb: elb.snapshot(),
    cloudwatch: cloudwatch.snapshot(),
    ecr: ecr.snapshot(),
    rds: rds.snapshot(),
    codedeploy: codedeploy.snapshot(),
    logs: logs.snapshot(),
  });

  if (options.stateFile && existsSync(options.stateFile)) {
    const text = readFileSync(options.stateFile, 'utf8');
    // Timestamps were written as ISO strings; bring them back as dates.
    const saved = JSON.parse(text, (_k, v: unknown) =>
      typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(v)
        ? new Date(v)
        : v,
    ) as { ecs?: unknown; elb?: unknown; cloudwatch?: unknown; ecr?: unknown };
    // Log events hold numbers and free text: read them without the date reviver, so a message
    // that looks like a timestamp stays a string.
    logs.restore((JSON.parse(text) as { logs?: unknown }).logs);
    ecr.restore(JSON.parse(text).ecr);
    rds.restore(JSON.parse(text).rds);
    cloudwatch.restore(saved.cloudwatch);
    await elb.restore(saved.elb);
    ecs.restore(saved.ecs);
    codedeploy.restore((saved as { codedeploy?: unknown }).codedeploy);
  }
  for (const f of options.faults ?? []) faults.add(f);

  const cloudwatchOps = cloudwatch.operations;
  const json: JsonServiceDef[] = [
    {
      target: 'AmazonEC2ContainerServiceV20141113',
      signingName: 'ecs',
      contentType: 'application/x-amz-json-1.1',
      operations: ecs.operations,
    },
    {
      target: 'AmazonEC2ContainerRegistry_V20150921',
      signingName: 'ecr',
      contentType: 'application/x-amz-json-1.1',
      operations: ecr.operations,
    },
    {
      target: CODEDEPLOY_TARGET,
      signingName: 'codedeploy',
      contentType: 'application/x-amz-json-1.1',
      operations: codedeploy.operations,
    },
    {
      target: 'GraniteServiceVersion20100801',
      signingName: 'monitoring',
      contentType: 'application/x-amz-json-1.0',
      queryCompatible: true,
      operations: cloudwatchOps,
    },
    {
      target: 'Logs_20140328',
      signingName: 'logs',
      contentType: 'application/x-amz-json-1.1',
      operations: logs.operations,
    },
  ];
  const query: QueryServiceDef[] = [
    {
      version: '2015-12-01',
      signingName: 'elasticloadbalancing',
      xmlns: ELB_XMLNS,
      operations: elb.operations,
    },
    {
      version: '2010-08-01',
      signingName: 'monitoring',
      xmlns: 'http://monitoring.amazonaws.com/doc/2010-08-01/',
      operations: cloudwatchOps as QueryServiceDef['operations'],
    },
    {
      version: '2014-10-31',
      signingName: 'rds',
      xmlns: 'http://rds.amazonaws.com/doc/2014-10-31/',
      listWrappers: RDS_LIST_WRAPPERS,
      listItemNames: RDS_LIST_ITEM_NAMES,
      operations: rds.operations,
    },
    ...(options.extraQueryServices ?? []),
  ];

  const admin = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: string,
  ): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://local');
    const path = url.pathname;
    if (path === '/_local/state' && req.method === 'GET') {
      sendJson(res, 200, state());
      return true;
    }
    if (path === '/_local/health' && req.method === 'GET') {
      sendJson(res, 200, { status: 'ok', timeScale: clock.scale });
      return true;
    }
    if (path === '/_local/faults') {
      if (req.method === 'GET') sendJson(res, 200, { faults: faults.list() });
      else if (req.method === 'DELETE') {
        faults.clear();
        sendJson(res, 200, { faults: [] });
      } else if (req.method === 'POST') {
        try {
          const parsed = JSON.parse(body || '{}') as Fault | Fault[] | { faults: Fault[] };
          const list = Array.isArray(parsed)
            ? parsed
            : 'faults' in parsed
              ? parsed.faults
              : [parsed];
          for (const f of list) faults.add(f);
          sendJson(res, 200, { faults: faults.list() });
        } catch (error) {
          sendJson(res, 400, { message: (error as Error).message });
        }
      } else sendJson(res, 405, { message: 'use GET, POST or DELETE' });
      return true;
    }
    const logMatch = /^\/_local\/tasks\/([0-9a-f]{32})\/logs\/([^/]+)$/.exec(path);
    if (logMatch && req.method === 'GET') {
      const file = ecsRef.runner.logPath(logMatch[1], decodeURIComponent(logMatch[2]));
      if (!existsSync(file))
        sendJson(res, 404, {
          message: `no log for task \`${logMatch[1]}\` container \`${logMatch[2]}\``,
        });
      else {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(readFileSync(file));
      }
      return true;
    }
    return false;
  };

  const server = createServer(
    createRouter({
      accountId: ACCOUNT_ID,
      json,
      query,
      ecr,
      faults,
      admin,
      s3,
      onRequest:
        options.logRequests === true
          ? (entry) => process.stdout.write(`${formatRequestLogLine(entry)}\n`)
          : options.logRequests || undefined,
      onInternalError: (e) => log(`internal error: ${(e as Error)?.stack ?? String(e)}`),
    }),
  );
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  let stopped: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await ecsRef.close();
      await elb.close();
      clock.dispose();
      if (options.stateFile) {
        mkdirSync(dirname(options.stateFile), { recursive: true });
        const tmp = `${options.stateFile}.tmp`;
        writeFileSync(tmp, JSON.stringify(state(), null, 2));
        renameSync(tmp, options.stateFile);
      }
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    })();
    return stopped;
  };

  return {
    endpoint: `http://${shownHost}:${port}`,
    port,
    host: shownHost,
    registryHost: `${shownHost}:${port}`,
    stop,
    state,
    addFault: (f) => faults.add(f),
    clearFaults: () => faults.clear(),
    ecs: ecsRef,
    elb,
    cloudwatch,
    ecr,
    rds,
    s3,
  };
}
