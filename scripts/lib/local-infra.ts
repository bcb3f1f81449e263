/**
 * Creates in local-aws, idempotently, what the example workflows (`workflows-examples/`) expect
 * per environment: the ECR repository `app-<env>` holding a bootstrap image, the cluster
 * `app-<env>`, the task definition family `app-<env>` (container `app`), a load balancer with
 * its listener and target group(s), and the service `app`. Staging and development deploy
 * rolling behind one target group; production deploys native blue/green with an alternate
 * target group and a production and a test listener rule. Each resource is looked up first and
 * only created when missing, so a second run changes nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
} from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  waitUntilServicesStable,
  type CreateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  type Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { buildOciImage, ecrCredentials, pushOciImage } from '../../test/support/oci-image';
import { freePort } from '../demo/services';

/** The environments the example workflows deploy to. */
export const ENVIRONMENTS = ['development', 'staging', 'production'] as const;
/** One of {@link ENVIRONMENTS}. */
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/** A user mistake or an unusable endpoint, phrased for the command line. */
export class LocalInfraError extends Error {
  override name = 'LocalInfraError';
}

/** What one environment holds once provisioned, with the names the workflows read. */
export interface ProvisionedEnvironment {
  name: EnvironmentName;
  cluster: string;
  service: string;
  container: string;
  repository: string;
  /** `host:port/app-<env>`: the repository's URI (what `STAGING_ECR_REPOSITORY` holds). */
  repositoryUri: string;
  /** `http://127.0.0.1:PORT`: the production listener, probed by the health gate at `/health`. */
  url: string;
  loadBalancerArn: string;
  targetGroupArns: string[];
  /** `rolling` or `blue-green`: the strategy the example workflow deploys with. */
  strategy: 'rolling' | 'blue-green';
  /** The revision the service runs: the bootstrap release's when this run created the service. */
  taskDefinition: string;
  /** The environment's worker service, when {@link ProvisionOptions.workers} names it. */
  worker?: ProvisionedWorker;
}

/**
 * A worker service beside `app` in the same cluster: service and container `worker`, task
 * definition family and ECR repository `worker-<env>`, no port and no load balancer (its rollout
 * is its gate), rolling with the circuit breaker.
 */
export interface ProvisionedWorker {
  service: string;
  container: string;
  repository: string;
  repositoryUri: string;
  /** The revision the worker runs: the bootstrap release's when this run created it. */
  taskDefinition: string;
}

/** The result of one run: the environments and what this run created (empty when nothing). */
export interface ProvisionResult {
  environments: ProvisionedEnvironment[];
  created: string[];
}

/** How to reach local-aws and what to create. */
export interface ProvisionOptions {
  endpoint: string;
  region: string;
  environments: readonly EnvironmentName[];
  /** `APP_VERSION` of the bootstrap image, what its `/version` answers (default `bootstrap`). */
  bootstrapVersion?: string;
  /**
   * The path the target groups probe (default `/health`). The demo probes `/` (is the process
   * serving?) so that a release whose `/health` fails is left for the health gate to catch.
   */
  targetHealthCheckPath?: string;
  /** Seconds a new task gets before failed load-balancer checks count (default 60). */
  healthCheckGracePeriodSeconds?: number;
  /** Bake time of the blue/green (production) service, in minutes (default: none set). */
  bakeTimeInMinutes?: number;
  /**
   * When true, the task definitions log to CloudWatch Logs: group `/ecs/<family>` (created by
   * the driver, `awslogs-create-group`), stream prefix the container's name, `app` or `worker`
   * (where run-task reads a one-off task's lines). Default false.
   */
  awslogs?: boolean;
  /**
   * Environments that also get a worker service (see {@link ProvisionedWorker}); its bootstrap
   * task runs the bootstrap image with `PORT=0`. Default none.
   */
  workers?: readonly EnvironmentName[];
  /** Variables added to every container's environment (e.g. `DATABASE_URL`). Default none. */
  containerEnvironment?: Record<string, string>;
}

const APP_PORT = 8080;
/** Longest wait for a new service to run its bootstrap task and pass its health checks, in seconds. */
const MAX_WAIT_SECONDS = 180;
const ROOT = join(__dirname, '..', '..');

function awsErrorName(error: unknown): string {
  return (error as { name?: string }).name ?? '';
}

/** Checks that `endpoint` answers at all, so an unreachable one fails with one clear sentence. */
async function checkReachable(endpoint: string): Promise<void> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new LocalInfraError(
      `--endpoint \`${endpoint}\` is not a URL (e.g. http://127.0.0.1:4566)`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new LocalInfraError(`--endpoint \`${endpoint}\` must start with http:// or https://`);
  try {
    await fetch(new URL('/_local/', url), { signal: AbortSignal.timeout(5000) }).then((r) =>
      r.body?.cancel(),
    );
  } catch (error) {
    throw new LocalInfraError(
      `nothing answers at ${endpoint} (${(error as Error).message}): start local-aws first (npx local-aws) or leave --endpoint out`,
    );
  }
}

/** Creates what the examples expect for each environment; returns it and what was created. */
export async function provision(opts: ProvisionOptions): Promise<ProvisionResult> {
  await checkReachable(opts.endpoint);
  const config = {
    endpoint: opts.endpoint,
    region: opts.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const ecr = new ECRClient(config);
  const ecs = new ECSClient(config);
  const elb = new ElasticLoadBalancingV2Client(config);
  const created: string[] = [];
  // The bootstrap image's server: the sample service, answering `/health` on `PORT`.
  const serverJs = readFileSync(
    join(ROOT, 'test', 'fixtures', 'sample-image', 'server.js'),
    'utf8',
  );

  const repositoryUri = async (name: string): Promise<string> => {
    try {
      const out = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
      return out.repositories![0].repositoryUri!;
    } catch (error) {
      if (awsErrorName(error) !== 'RepositoryNotFoundException') throw error;
    }
    const out = await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
    created.push(`ECR repository ${name}`);
    return out.repository!.repositoryUri!;
  };

  /** The bootstrap image's digest reference, pushed only when the tag is missing. */
  const bootstrapImage = async (repository: string, uri: string): Promise<string> => {
    try {
      const out = await ecr.send(
        new DescribeImagesCommand({
          repositoryName: repository,
          imageIds: [{ imageTag: 'bootstrap' }],
        }),
      );
      return `${uri}@${out.imageDetails![0].imageDigest!}`;
    } catch (error) {
      if (awsErrorName(error) !== 'ImageNotFoundException') throw error;
    }
    const { username, password } = await ecrCredentials(ecr);
    const image = buildOciImage({
      files: { 'app/server.js': serverJs },
      config: {
        Cmd: ['node', '/app/server.js'],
        WorkingDir: '/app',
        Env: [
          `APP_VERSION=${opts.bootstrapVersion ?? 'bootstrap'}`,
          'HEALTHY=true',
          `PORT=${APP_PORT}`,
        ],
        ExposedPorts: { [`${APP_PORT}/tcp`]: {} },
      },
    });
    const pushed = await pushOciImage(image, {
      registry: opts.endpoint,
      repository,
      tag: 'bootstrap',
      username,
      password,
    });
    created.push(`image ${repository}:bootstrap`);
    return `${uri}@${pushed.digest}`;
  };

  const cluster = async (name: string): Promise<void> => {
    const out = await ecs.send(new DescribeClustersCommand({ clusters: [name] }));
    if (out.clusters?.some((c) => c.status === 'ACTIVE')) return;
    await ecs.send(new CreateClusterCommand({ clusterName: name }));
    created.push(`ECS cluster ${name}`);
  };

  const extraEnvironment = Object.entries(opts.containerEnvironment ?? {}).map(([name, value]) => ({
    name,
    value,
  }));
  const taskDefinition = async (
    family: string,
    image: string,
    env: string,
    container: 'app' | 'worker' = 'app',
  ): Promise<string> => {
    try {
      const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family }));
      return out.taskDefinition!.taskDefinitionArn!;
    } catch (error) {
      if (!['ClientException', 'InvalidParameterException'].includes(awsErrorName(error)))
        throw error;
    }
    const out = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        containerDefinitions: [
          {
            name: container,
            image,
            essential: true,
            ...(container === 'app'
              ? {
                  portMappings: [{ containerPort: APP_PORT }],
                  environment: [{ name: 'ENVIRONMENT', value: env }, ...extraEnvironment],
                }
              : {
                  // The bootstrap image serves on any free port: a placeholder worker.
                  environment: [
                    { name: 'ENVIRONMENT', value: env },
                    { name: 'PORT', value: '0' },
                    ...extraEnvironment,
                  ],
                }),
            ...(opts.awslogs
              ? {
                  logConfiguration: {
                    logDriver: 'awslogs' as const,
                    options: {
                      'awslogs-group': `/ecs/${family}`,
                      'awslogs-region': opts.region,
                      'awslogs-stream-prefix': container,
                      'awslogs-create-group': 'true',
                    },
                  },
                }
              : {}),
          },
        ],
      }),
    );
    created.push(`task definition ${family}`);
    return out.taskDefinition!.taskDefinitionArn!;
  };

  const targetGroup = async (name: string): Promise<string> => {
    try {
      const out = await elb.send(new DescribeTargetGroupsCommand({ Names: [name] }));
      return out.TargetGroups![0].TargetGroupArn!;
    } catch (error) {
      if (awsErrorName(error) !== 'TargetGroupNotFoundException') throw error;
    }
    const out = await elb.send(
      new CreateTargetGroupCommand({
        Name: name,
        Protocol: 'HTTP',
        Port: APP_PORT,
        TargetType: 'ip',
        HealthCheckPath: opts.targetHealthCheckPath ?? '/health',
        HealthCheckIntervalSeconds: 10,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 3,
      }),
    );
    const arn = out.TargetGroups![0].TargetGroupArn!;
    // AWS drains a replaced task for 300 s by default: 10 s keeps a local rollout short.
    await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: arn,
        Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '10' }],
      }),
    );
    created.push(`target group ${name}`);
    return arn;
  };

  const loadBalancer = async (name: string): Promise<string> => {
    try {
      const out = await elb.send(new DescribeLoadBalancersCommand({ Names: [name] }));
      return out.LoadBalancers![0].LoadBalancerArn!;
    } catch (error) {
      if (awsErrorName(error) !== 'LoadBalancerNotFoundException') throw error;
    }
    const out = await elb.send(
      new CreateLoadBalancerCommand({ Name: name, Subnets: ['subnet-local-a', 'subnet-local-b'] }),
    );
    created.push(`load balancer ${name}`);
    return out.LoadBalancers![0].LoadBalancerArn!;
  };

  /** The load balancer's listeners, created (on free ports) when it has fewer than `count`. */
  const listeners = async (
    lb: string,
    name: string,
    count: number,
    actions: Action[],
  ): Promise<{ arn: string; port: number }[]> => {
    const out = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb }));
    // In the order they were created (the first is the production listener).
    const found = (out.Listeners ?? []).map((l) => ({ arn: l.ListenerArn!, port: l.Port! }));
    while (found.length < count) {
      const port = await freePort();
      const made = await elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb,
          Protocol: 'HTTP',
          Port: port,
          DefaultActions: actions,
        }),
      );
      created.push(`listener ${name}:${port}`);
      found.push({ arn: made.Listeners![0].ListenerArn!, port });
    }
    return found;
  };

  /** The listener's path rule forwarding to `actions`, created when it has none. */
  const rule = async (listenerArn: string, actions: Action[], label: string): Promise<string> => {
    const out = await elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn }));
    const existing = out.Rules?.find((r) => !r.IsDefault);
    if (existing) return existing.RuleArn!;
    const made = await elb.send(
      new CreateRuleCommand({
        ListenerArn: listenerArn,
        Priority: 1,
        Conditions: [{ Field: 'path-pattern', Values: ['/*'] }],
        Actions: actions,
      }),
    );
    created.push(`listener rule ${label}`);
    return made.Rules![0].RuleArn!;
  };

  /** The worker service of `env` in `cluster`, created (with its repository) when missing. */
  const workerService = async (
    env: EnvironmentName,
    cluster: string,
    waitFor: { cluster: string; service: string }[],
  ): Promise<ProvisionedWorker> => {
    const name = `worker-${env}`;
    const uri = await repositoryUri(name);
    const td = await taskDefinition(name, await bootstrapImage(name, uri), env, 'worker');
    const running = (
      await ecs.send(new DescribeServicesCommand({ cluster, services: ['worker'] }))
    ).services?.find((s) => s.status === 'ACTIVE');
    if (!running) {
      await ecs.send(
        new CreateServiceCommand({
          cluster,
          serviceName: 'worker',
          taskDefinition: td,
          desiredCount: 1,
          deploymentConfiguration: {
            deploymentCircuitBreaker: { enable: true, rollback: true },
            minimumHealthyPercent: 100,
            maximumPercent: 200,
            strategy: 'ROLLING',
          },
        }),
      );
      created.push(`ECS service ${cluster}/worker`);
      waitFor.push({ cluster, service: 'worker' });
    }
    return {
      service: 'worker',
      container: 'worker',
      repository: name,
      repositoryUri: uri,
      taskDefinition: running?.taskDefinition ?? td,
    };
  };

  try {
    const environments: ProvisionedEnvironment[] = [];
    const waitFor: { cluster: string; service: string }[] = [];
    for (const env of opts.environments) {
      const name = `app-${env}`;
      const uri = await repositoryUri(name);
      const image = await bootstrapImage(name, uri);
      await cluster(name);
      const td = await taskDefinition(name, image, env);
      const lb = await loadBalancer(name);
      const service: CreateServiceCommandInput = {
        cluster: name,
        serviceName: 'app',
        taskDefinition: td,
        desiredCount: 1,
        healthCheckGracePeriodSeconds: opts.healthCheckGracePeriodSeconds ?? 60,
        deploymentConfiguration: {
          deploymentCircuitBreaker: { enable: true, rollback: true },
          minimumHealthyPercent: 100,
          maximumPercent: 200,
        },
      };
      const running = (
        await ecs.send(new DescribeServicesCommand({ cluster: name, services: ['app'] }))
      ).services?.find((s) => s.status === 'ACTIVE');
      let url: string;
      let targetGroupArns: string[];
      const strategy = env === 'production' ? 'blue-green' : 'rolling';
      if (strategy === 'rolling') {
        const tg = await targetGroup(name);
        const [listener] = await listeners(lb, name, 1, [{ Type: 'forward', TargetGroupArn: tg }]);
        url = `http://127.0.0.1:${listener.port}`;
        targetGroupArns = [tg];
        service.loadBalancers = [
          { targetGroupArn: tg, containerName: 'app', containerPort: APP_PORT },
        ];
        service.deploymentConfiguration!.strategy = 'ROLLING';
      } else {
        const blue = await targetGroup(`${name}-blue`);
        const green = await targetGroup(`${name}-green`);
        const notFound: Action[] = [
          { Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } },
        ];
        const forward: Action[] = [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: blue, Weight: 100 },
                { TargetGroupArn: green, Weight: 0 },
              ],
            },
          },
        ];
        let [production, test] = await listeners(lb, name, 2, notFound);
        // A service that exists already says which listener carries production traffic.
        const productionRuleArn =
          running?.loadBalancers?.[0]?.advancedConfiguration?.productionListenerRule;
        if (productionRuleArn) {
          const rules = await elb.send(new DescribeRulesCommand({ ListenerArn: test.arn }));
          if (rules.Rules?.some((r) => r.RuleArn === productionRuleArn))
            [production, test] = [test, production];
        }
        const productionRule = await rule(production.arn, forward, `${name}:${production.port}`);
        const testRule = await rule(test.arn, forward, `${name}:${test.port}`);
        url = `http://127.0.0.1:${production.port}`;
        targetGroupArns = [blue, green];
        service.loadBalancers = [
          {
            targetGroupArn: blue,
            containerName: 'app',
            containerPort: APP_PORT,
            advancedConfiguration: {
              alternateTargetGroupArn: green,
              productionListenerRule: productionRule,
              testListenerRule: testRule,
              roleArn: 'arn:aws:iam::000000000000:role/ecs-blue-green',
            },
          },
        ];
        service.deploymentConfiguration!.strategy = 'BLUE_GREEN';
        if (opts.bakeTimeInMinutes !== undefined)
          service.deploymentConfiguration!.bakeTimeInMinutes = opts.bakeTimeInMinutes;
      }
      if (!running) {
        await ecs.send(new CreateServiceCommand(service));
        created.push(`ECS service ${name}/app`);
        waitFor.push({ cluster: name, service: 'app' });
      }
      const worker = opts.workers?.includes(env)
        ? await workerService(env, name, waitFor)
        : undefined;
      environments.push({
        name: env,
        cluster: name,
        service: 'app',
        container: 'app',
        repository: name,
        repositoryUri: uri,
        url,
        loadBalancerArn: lb,
        targetGroupArns,
        strategy,
        taskDefinition: running?.taskDefinition ?? td,
        ...(worker ? { worker } : {}),
      });
    }
    for (const { cluster, service } of waitFor) {
      const result = await waitUntilServicesStable(
        { client: ecs, maxWaitTime: MAX_WAIT_SECONDS, minDelay: 1, maxDelay: 2 },
        { cluster, services: [service] },
      ).catch((error: Error) => ({ state: 'FAILURE', reason: error.message }));
      if (result.state !== 'SUCCESS')
        throw new LocalInfraError(
          `the service ${cluster}/${service} did not start its bootstrap task (${String(result.state)}); its events: aws ecs describe-services --cluster ${cluster} --services ${service}`,
        );
    }
    const startedApps = new Set(waitFor.filter((w) => w.service === 'app').map((w) => w.cluster));
    for (const env of environments.filter((e) => startedApps.has(e.cluster)))
      await targetsHealthy(elb, env, MAX_WAIT_SECONDS);
    return { environments, created };
  } finally {
    for (const c of [ecr, ecs, elb]) c.destroy();
  }
}

/**
 * Waits until the production target group of a new service has a healthy target, so that the
 * printed URL answers when the command returns (a service reaches its steady state before its
 * first target passes its health checks).
 */
async function targetsHealthy(
  elb: ElasticLoadBalancingV2Client,
  env: ProvisionedEnvironment,
  maxWaitSeconds: number,
): Promise<void> {
  const deadline = performance.now() + maxWaitSeconds * 1000;
  let states: string[] = [];
  while (performance.now() < deadline) {
    const out = await elb.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: env.targetGroupArns[0] }),
    );
    states = (out.TargetHealthDescriptions ?? []).map((t) => t.TargetHealth?.State ?? 'unknown');
    if (states.includes('healthy')) return;
    await new Promise((done) => setTimeout(done, 1000));
  }
  throw new LocalInfraError(
    `no target of ${env.cluster}/app became healthy in ${maxWaitSeconds} s (targets: ${states.join(', ') || 'none'})`,
  );
}

/** Quotes `text` for a POSIX shell when it holds anything but safe characters. */
function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The example workflow that deploys `env`, and the `--var`s it reads. */
function deployCommand(
  env: ProvisionedEnvironment,
  all: ProvisionedEnvironment[],
  region: string,
  workspace: string | undefined,
): string {
  const file = {
    development: 'deploy-dev',
    staging: 'deploy-staging',
    production: 'deploy-production',
  }[env.name];
  const args = ['npm', 'run', 'workflow', '--', `workflows-examples/${file}.yml`];
  if (workspace) args.push('--workspace', workspace);
  const vars: string[] = [`AWS_REGION=${region}`, `${env.name.toUpperCase()}_URL=${env.url}`];
  if (env.name === 'production') {
    const staging = all.find((e) => e.name === 'staging');
    vars.push(`STAGING_ECR_REPOSITORY=${staging?.repositoryUri ?? '<staging repository URI>'}`);
    vars.push('BACKUP_BUCKET=<bucket>');
  }
  for (const v of vars) args.push('--var', v);
  // Production backs the database up before it deploys (deploy-production sets `backup: true`).
  if (env.name === 'production') args.push('--secret', 'DATABASE_URL=<postgres URL>');
  return args.map(shellQuote).join(' ');
}

/** The lines a user pastes: the exports for the SDK, then one deploy and one rollback command per environment. */
export function instructions(
  endpoint: string,
  region: string,
  environments: ProvisionedEnvironment[],
  workspace?: string,
): string[] {
  const lines = [
    `export AWS_ENDPOINT_URL=${endpoint}`,
    `export AWS_REGION=${region} AWS_DEFAULT_REGION=${region}`,
    'export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local',
    '',
  ];
  for (const env of environments) {
    lines.push(
      `# ${env.name}: cluster ${env.cluster}, service ${env.service}, container ${env.container}, repository ${env.repositoryUri}, ${env.strategy}, ${env.url}`,
    );
    lines.push(deployCommand(env, environments, region, workspace));
    const rollback = [
      'npm',
      'run',
      'workflow',
      '--',
      'workflows-examples/rollback.yml',
      '--event',
      'workflow_dispatch',
      '--input',
      `environment=${env.name}`,
      '--input',
      'version=previous',
      '--input',
      'reason=local test',
      '--var',
      `AWS_REGION=${region}`,
      '--var',
      `ECS_CLUSTER=${env.cluster}`,
      '--var',
      `ECS_SERVICE=${env.service}`,
      '--var',
      `URL=${env.url}`,
    ];
    lines.push(rollback.map(shellQuote).join(' '));
  }
  return lines;
}
