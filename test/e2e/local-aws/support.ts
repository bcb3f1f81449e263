/**
 * Shared set-up for the local-aws end-to-end suites: a server at a time scale, real SDK clients
 * pointed at it, a tiny Node.js web app pushed as OCI images, and free ports for listeners.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  type CreateTargetGroupCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { createServer } from 'node:net';
import {
  startLocalAws,
  type LocalAws,
  type LocalAwsOptions,
} from '../../../packages/local-aws/src';
import { buildOciImage, ecrCredentials, pushOciImage } from '../../support/oci-image';

/** The web app every test image runs: `/health` answers 200 unless the image is broken. */
const SERVER_JS = `
const http = require('http');
const fs = require('fs');
const version = fs.readFileSync(__dirname + '/version.txt', 'utf8').trim();
const broken = fs.existsSync(__dirname + '/broken');
http.createServer((req, res) => {
  if (req.url === '/health') { res.writeHead(broken ? 500 : 200); res.end(broken ? 'broken' : 'ok'); return; }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(version + ' ' + (process.env.GREETING || ''));
}).listen(Number(process.env.PORT), '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

export interface Harness {
  aws: LocalAws;
  ecs: ECSClient;
  elb: ElasticLoadBalancingV2Client;
  cloudwatch: CloudWatchClient;
  ecr: ECRClient;
  /** Pushes the app as `repo:tag`, answering `version` (broken: `/health` answers 500). */
  pushApp(repo: string, tag: string, opts?: { broken?: boolean }): Promise<string>;
  close(): Promise<void>;
}

const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };

/** Starts local-aws and SDK clients for it. */
export async function startHarness(options: LocalAwsOptions = {}): Promise<Harness> {
  const aws = await startLocalAws({ timeScale: 30, ...options });
  const client = { endpoint: aws.endpoint, region: 'us-east-1', credentials };
  const ecs = new ECSClient(client);
  const elb = new ElasticLoadBalancingV2Client(client);
  const cloudwatch = new CloudWatchClient(client);
  const ecr = new ECRClient(client);
  const repos = new Set<string>();
  return {
    aws,
    ecs,
    elb,
    cloudwatch,
    ecr,
    async pushApp(repo, tag, opts = {}) {
      if (!repos.has(repo)) {
        await ecr.send(new CreateRepositoryCommand({ repositoryName: repo }));
        repos.add(repo);
      }
      const { username, password } = await ecrCredentials(ecr);
      const files: Record<string, string> = { 'app/server.js': SERVER_JS, 'app/version.txt': tag };
      if (opts.broken) files['app/broken'] = 'yes';
      const image = buildOciImage({
        files,
        config: { Cmd: ['node', '/app/server.js'], WorkingDir: '/app', Env: ['GREETING=hello'] },
      });
      const pushed = await pushOciImage(image, {
        registry: aws.endpoint,
        repository: repo,
        tag,
        username,
        password,
      });
      return pushed.ref;
    },
    async close() {
      for (const c of [ecs, elb, cloudwatch, ecr]) c.destroy();
      await aws.stop();
    },
  };
}

/** A free TCP port on 127.0.0.1 (for listener ports, which the ELB API cannot pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Polls `fn` until it returns a truthy value (at most `timeoutMs`). */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** GET a URL and return the body text (no keep-alive). */
export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, {
    headers: { connection: 'close' },
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: await res.text() };
}

/**
 * Creates an HTTP target group for the test app (port 8080, `/health` every 5 s, 2 checks either
 * way, 5 s deregistration delay); `extra` adds or overrides settings. Returns its ARN.
 */
export async function createTargetGroup(
  h: Harness,
  name: string,
  extra: Partial<CreateTargetGroupCommandInput> = {},
): Promise<string> {
  const out = await h.elb.send(
    new CreateTargetGroupCommand({
      Name: name,
      Protocol: 'HTTP',
      Port: 8080,
      TargetType: 'ip',
      HealthCheckPath: '/health',
      HealthCheckIntervalSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
      ...extra,
    }),
  );
  const arn = out.TargetGroups![0].TargetGroupArn!;
  await h.elb.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: arn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '5' }],
    }),
  );
  return arn;
}

/** Adds an HTTP listener on a free port forwarding everything to `targetGroupArn`; returns the port. */
export async function createForwardListener(
  h: Harness,
  loadBalancerArn: string | undefined,
  targetGroupArn: string,
): Promise<number> {
  const port = await freePort();
  await h.elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: loadBalancerArn,
      Protocol: 'HTTP',
      Port: port,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
    }),
  );
  return port;
}

/**
 * Adds a blue/green production listener on a free port: a 404 by default and a `/*` rule that
 * weighs blue 100 and green 0. Returns the port and the rule's ARN (the service's
 * `productionListenerRule`).
 */
export async function createBlueGreenListener(
  h: Harness,
  loadBalancerArn: string | undefined,
  blueTargetGroupArn: string,
  greenTargetGroupArn: string,
): Promise<{ port: number; ruleArn: string }> {
  const port = await freePort();
  const listener = (
    await h.elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: loadBalancerArn,
        Protocol: 'HTTP',
        Port: port,
        DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
      }),
    )
  ).Listeners![0];
  const ruleArn = (
    await h.elb.send(
      new CreateRuleCommand({
        ListenerArn: listener.ListenerArn,
        Priority: 1,
        Conditions: [{ Field: 'path-pattern', Values: ['/*'] }],
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: blueTargetGroupArn, Weight: 100 },
                { TargetGroupArn: greenTargetGroupArn, Weight: 0 },
              ],
            },
          },
        ],
      }),
    )
  ).Rules![0].RuleArn!;
  return { port, ruleArn };
}
