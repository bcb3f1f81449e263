import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DescribeImagesCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  DescribeClustersCommand,
  DescribeServicesCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
} from '@aws-sdk/client-ecs';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';

const CLI = resolve(__dirname, '..', '..', '..', 'scripts', 'local-infra.ts');
/** tsx's loader by URL, so that it is found from any working directory. */
const TSX = pathToFileURL(require.resolve('tsx')).href;

let aws: LocalAws;
let ecr: ECRClient;
let ecs: ECSClient;
let elb: ElasticLoadBalancingV2Client;

beforeAll(async () => {
  aws = await startLocalAws({ port: 0, timeScale: 30 });
  const config = {
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  ecr = new ECRClient(config);
  ecs = new ECSClient(config);
  elb = new ElasticLoadBalancingV2Client(config);
});
afterAll(async () => {
  for (const c of [ecr, ecs, elb]) c?.destroy();
  await aws?.stop();
});

/** Runs `npm run local-infra -- …args` and collects what it prints. */
function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const env = { ...process.env, AWS_REGION: 'us-east-1' };
    const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => done({ code, out, err }));
  });
}

/** Everything a run could change, as plain data: a second run must leave it equal. */
async function snapshot(): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const name of ['app-staging', 'app-production']) {
    const lb = (await elb.send(new DescribeLoadBalancersCommand({ Names: [name] })))
      .LoadBalancers![0];
    const listeners = (
      await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))
    ).Listeners!;
    const rules = [];
    for (const l of listeners)
      rules.push(
        ...(await elb.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn }))).Rules!.map(
          (r) => r.RuleArn,
        ),
      );
    const service = (
      await ecs.send(new DescribeServicesCommand({ cluster: name, services: ['app'] }))
    ).services![0];
    out[name] = {
      images: (
        await ecr.send(new DescribeImagesCommand({ repositoryName: name }))
      ).imageDetails!.map((i) => i.imageDigest),
      taskDefinitions: (await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: name })))
        .taskDefinitionArns,
      listeners: listeners.map((l) => `${l.ListenerArn} ${l.Port}`),
      rules,
      deployments: service.deployments!.map((d) => d.id),
      taskDefinition: service.taskDefinition,
    };
  }
  out.targetGroups = (await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups!.map(
    (t) => t.TargetGroupArn,
  );
  return out;
}

test('creates what the staging and production examples expect, prints how to deploy to them, and a second run changes nothing', async () => {
  const args = [
    '--endpoint',
    aws.endpoint,
    '--environment',
    'staging',
    '--environment',
    'production',
  ];
  const first = await cli(args);
  expect(first.err).not.toMatch(/^error:/m);
  expect(first.code).toBe(0);
  expect(first.out).toContain(`export AWS_ENDPOINT_URL=${aws.endpoint}\n`);
  expect(first.out).toMatch(/^created: ECR repository app-staging;/m);

  const repos = await ecr.send(
    new DescribeRepositoriesCommand({ repositoryNames: ['app-staging', 'app-production'] }),
  );
  expect(repos.repositories!.map((r) => r.repositoryName).sort()).toEqual([
    'app-production',
    'app-staging',
  ]);
  const clusters = await ecs.send(
    new DescribeClustersCommand({ clusters: ['app-staging', 'app-production'] }),
  );
  expect(clusters.clusters!.map((c) => c.status)).toEqual(['ACTIVE', 'ACTIVE']);
  const staging = (
    await ecs.send(new DescribeServicesCommand({ cluster: 'app-staging', services: ['app'] }))
  ).services![0];
  expect(staging.runningCount).toBe(1);
  expect(staging.deploymentConfiguration?.strategy ?? 'ROLLING').toBe('ROLLING');
  expect(staging.loadBalancers![0].containerName).toBe('app');
  const production = (
    await ecs.send(new DescribeServicesCommand({ cluster: 'app-production', services: ['app'] }))
  ).services![0];
  expect(production.runningCount).toBe(1);
  expect(production.deploymentConfiguration!.strategy).toBe('BLUE_GREEN');
  expect(production.loadBalancers![0].advancedConfiguration!.alternateTargetGroupArn).toContain(
    'app-production-green',
  );

  // Replaced tasks drain for 10 s, not AWS's default 300 s, so a local rollout stays short.
  const stagingGroup = (await elb.send(new DescribeTargetGroupsCommand({ Names: ['app-staging'] })))
    .TargetGroups![0];
  const attributes = await elb.send(
    new DescribeTargetGroupAttributesCommand({ TargetGroupArn: stagingGroup.TargetGroupArn }),
  );
  expect(
    attributes.Attributes!.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value,
  ).toBe('10');

  // The printed commands name the example workflows and URLs that answer the health gate.
  const stagingUrl = /--var STAGING_URL=(\S+)/.exec(first.out)![1];
  const productionUrl = /--var PRODUCTION_URL=(\S+)/.exec(first.out)![1];
  expect(first.out).toContain('npm run workflow -- workflows-examples/deploy-staging.yml');
  expect(first.out).toContain(`--var STAGING_ECR_REPOSITORY=${aws.registryHost}/app-staging`);
  for (const url of [stagingUrl, productionUrl]) {
    const res = await fetch(`${url}/health`, { headers: { connection: 'close' } });
    expect(`${url} ${res.status} ${await res.text()}`).toBe(`${url} 200 {"status":"healthy"}`);
  }

  const before = await snapshot();
  const second = await cli(args);
  expect(second.code).toBe(0);
  expect(second.out).toContain('nothing to create: every resource already exists');
  expect(/--var STAGING_URL=(\S+)/.exec(second.out)![1]).toBe(stagingUrl);
  expect(/--var PRODUCTION_URL=(\S+)/.exec(second.out)![1]).toBe(productionUrl);
  expect(await snapshot()).toEqual(before);
});

test.each([
  [
    ['--environment', 'prod'],
    2,
    '--environment takes one of development, staging, production, got `prod`',
  ],
  [
    ['--endpoint', 'localhost:4566'],
    1,
    '--endpoint `localhost:4566` must start with http:// or https://',
  ],
  [['--endpoint', 'http://127.0.0.1:1'], 1, 'nothing answers at http://127.0.0.1:1'],
  [['--region', 'mars'], 2, '--region takes an AWS region such as us-east-1, got `mars`'],
  [['--verbose'], 2, 'unknown argument `--verbose`'],
  [['--port', '99999'], 2, '--port takes a TCP port (1-65535), got `99999`'],
  [
    ['--endpoint', 'http://127.0.0.1:4566', '--port', '4566'],
    2,
    '--port is the port of the local-aws this command starts: leave it out with --endpoint',
  ],
])('%j fails with exit code %i and says why', async (args, code, message) => {
  const r = await cli(args);
  expect(r.code).toBe(code);
  expect(r.err).toContain(`error: ${message}`);
});

test('without --endpoint it starts its own local-aws, keeps it serving the environment until SIGINT, then stops it', async () => {
  const child = spawn(process.execPath, ['--import', TSX, CLI, '--environment', 'development'], {
    env: { ...process.env, AWS_REGION: 'us-east-1' },
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('close', done));
  // Waits for the line that says the resources are ready, or for the command to end.
  const ready = await new Promise<boolean>((done) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ctrl-C stops it')) done(true);
    });
    void exited.then(() => done(false));
  });
  try {
    expect(`${ready} ${err.match(/^error:.*$/m)?.[0] ?? ''}`).toBe('true ');
    const endpoint = /^export AWS_ENDPOINT_URL=(\S+)$/m.exec(out)![1];
    const url = /--var DEVELOPMENT_URL=(\S+)/.exec(out)![1];
    expect(out).toContain('npm run workflow -- workflows-examples/deploy-dev.yml');
    const res = await fetch(`${url}/health`, { headers: { connection: 'close' } });
    expect(res.status).toBe(200);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(fetch(`${endpoint}/_local/`)).rejects.toThrow();
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('--port of a port in use fails saying so, and how to use what runs there', async () => {
  const port = new URL(aws.endpoint).port;
  const r = await cli(['--port', port]);
  expect(r.code).toBe(1);
  expect(r.err).toContain(`error: could not start local-aws on port ${port} (`);
  expect(r.err).toContain('pass --endpoint to use the local-aws that runs there');
});
