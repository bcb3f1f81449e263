// Benchmarks local-aws: start time, DescribeServices requests per second on one core, and a
// 3-task rolling update at time scale 60 reaching COMPLETED (a service without a load balancer,
// so it includes ECS's 40-second settle window: 0.67 s at that scale). Run: npx tsx scripts/bench-local-aws.ts
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { startLocalAws } from '../packages/local-aws/src';
import { buildOciImage, ecrCredentials, pushOciImage } from '../test/support/oci-image';
import type { BenchRow } from './lib/bench-row';

const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };

/** Starts the CLI (`bin/local-aws.js`, as `npx local-aws` does); resolves at its "listening" line. */
function startCli(): Promise<{ child: ChildProcess; endpoint: string; ms: number }> {
  const t0 = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    [join(__dirname, '..', 'packages', 'local-aws', 'bin', 'local-aws.js'), '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /local-aws listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, endpoint: m[1], ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
    child.once('exit', (code) =>
      reject(new Error(`local-aws exited with ${code} before listening`)),
    );
  });
}

function stopCli(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function startTime(): Promise<{ cold: number; inProcess: number }> {
  const cold: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { child, ms } = await startCli();
    cold.push(ms);
    await stopCli(child);
  }
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    const aws = await startLocalAws();
    warm.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await aws.stop();
  }
  const median = (v: number[]): number => v.sort((a, b) => a - b)[2];
  return { cold: median(cold), inProcess: median(warm) };
}

/** DescribeServices per second against a server process: with a raw keep-alive client, and with the SDK client. */
async function describeRate(): Promise<{ raw: number; sdk: number }> {
  // The server runs alone in its own process (one core); the clients run here.
  const { child, endpoint } = await startCli();
  const ecs = new ECSClient({ endpoint, region: 'us-east-1', credentials });
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const body = JSON.stringify({ cluster: 'bench', services: ['svc'] });
  const headers = {
    'x-amz-target': 'AmazonEC2ContainerServiceV20141113.DescribeServices',
    'content-type': 'application/x-amz-json-1.1',
    authorization: `AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
  };
  const raw = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(endpoint, { method: 'POST', agent, headers }, (res) => {
        if (res.statusCode !== 200)
          reject(new Error(`DescribeServices answered ${res.statusCode}`));
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end(body);
    });
  const sdk = (): Promise<unknown> =>
    ecs.send(new DescribeServicesCommand({ cluster: 'bench', services: ['svc'] }));
  const rate = async (call: () => Promise<unknown>): Promise<number> => {
    const durationMs = 2000;
    const end = Date.now() + durationMs;
    let done = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (Date.now() < end) {
          await call();
          done++;
        }
      }),
    );
    return Math.round(done / (durationMs / 1000));
  };
  try {
    await ecs.send(new CreateClusterCommand({ clusterName: 'bench' }));
    const td = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'bench',
        containerDefinitions: [{ name: 'app', image: 'none:1' }],
      }),
    );
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'bench',
        serviceName: 'svc',
        taskDefinition: td.taskDefinition!.taskDefinitionArn,
        desiredCount: 0,
      }),
    );
    for (let i = 0; i < 200; i++) await raw();
    for (let i = 0; i < 50; i++) await sdk();
    return { raw: await rate(raw), sdk: await rate(sdk) };
  } finally {
    ecs.destroy();
    agent.destroy();
    await stopCli(child);
  }
}

async function rollingUpdate(): Promise<number> {
  const aws = await startLocalAws({ timeScale: 60 });
  const client = { endpoint: aws.endpoint, region: 'us-east-1', credentials };
  const ecs = new ECSClient(client);
  const ecr = new ECRClient(client);
  try {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'bench' }));
    const { username, password } = await ecrCredentials(ecr);
    const server =
      "require('http').createServer((q,s)=>s.end('ok')).listen(Number(process.env.PORT));process.on('SIGTERM',()=>process.exit(0));";
    const refs: string[] = [];
    for (const tag of ['v1', 'v2']) {
      const image = buildOciImage({
        files: { 'app/server.js': server, 'app/tag': tag },
        config: { Cmd: ['node', '/app/server.js'], WorkingDir: '/app' },
      });
      refs.push(
        (
          await pushOciImage(image, {
            registry: aws.endpoint,
            repository: 'bench',
            tag,
            username,
            password,
          })
        ).ref,
      );
    }
    const register = async (image: string): Promise<string> =>
      (
        await ecs.send(
          new RegisterTaskDefinitionCommand({
            family: 'roll',
            containerDefinitions: [{ name: 'app', image, portMappings: [{ containerPort: 80 }] }],
          }),
        )
      ).taskDefinition!.taskDefinitionArn!;
    const v1 = await register(refs[0]);
    const v2 = await register(refs[1]);
    await ecs.send(new CreateClusterCommand({ clusterName: 'roll' }));
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'roll',
        serviceName: 'svc',
        taskDefinition: v1,
        desiredCount: 3,
      }),
    );
    const completed = async (): Promise<void> => {
      for (;;) {
        const s = (
          await ecs.send(new DescribeServicesCommand({ cluster: 'roll', services: ['svc'] }))
        ).services![0];
        if (
          s.deployments!.length === 1 &&
          s.deployments![0].rolloutState === 'COMPLETED' &&
          s.runningCount === 3
        )
          return;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await completed();
    const t0 = Date.now();
    await ecs.send(
      new UpdateServiceCommand({ cluster: 'roll', service: 'svc', taskDefinition: v2 }),
    );
    await completed();
    return Date.now() - t0;
  } finally {
    ecs.destroy();
    ecr.destroy();
    await aws.stop();
  }
}

/** Runs the local-aws benchmarks and returns their figures. */
export async function bench(): Promise<BenchRow[]> {
  const start = await startTime();
  const rate = await describeRate();
  const roll = await rollingUpdate();
  return [
    {
      name: 'local-aws: `local-aws` process start to listening (median of 5)',
      value: Math.round(start.cold),
      unit: 'ms',
      target: '< 300',
      ok: start.cold < 300,
    },
    {
      name: 'local-aws: startLocalAws() in a loaded process (median of 5)',
      value: Math.round(start.inProcess),
      unit: 'ms',
      target: '—',
      ok: true,
    },
    {
      name: 'local-aws: DescribeServices, server process on one core (keep-alive client)',
      value: rate.raw,
      unit: 'req/s',
      target: '≥ 500',
      ok: rate.raw >= 500,
    },
    {
      name: 'local-aws: DescribeServices through one AWS SDK client',
      value: rate.sdk,
      unit: 'req/s',
      target: '—',
      ok: true,
    },
    {
      // No load balancer: new tasks count after ECS's 40 s settle window (0.67 s at scale 60).
      name: 'local-aws: 3-task rolling update at --time-scale 60 to COMPLETED (incl. 40 s settle)',
      value: roll,
      unit: 'ms',
      target: '< 5000',
      ok: roll < 5000,
    },
  ];
}

if (require.main === module) {
  bench().then(
    (rows) => {
      for (const r of rows)
        console.log(`${r.ok ? ' ' : '!'} ${r.name}: ${r.value} ${r.unit} (target ${r.target})`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
