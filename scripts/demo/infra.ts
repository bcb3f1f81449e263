/**
 * What Terraform would have made before the first pipeline run, created against local-aws:
 * per environment an ECR repository holding a first (bootstrap) image, a cluster, a load
 * balancer and a service running the bootstrap image. Staging deploys rolling behind one target
 * group; production deploys native blue/green with an alternate target group, a production and
 * a test listener rule. The load balancer checks `/` (is the process serving?), so a release
 * whose `/health` fails passes the load balancer and is caught by the health gate. Tasks log to
 * CloudWatch Logs (`/ecs/app-<environment>`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateRepositoryCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
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
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  type Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { buildOciImage, pushOciImage } from '../../test/support/oci-image';
import { freePort } from './services';

/** One environment as the workflows see it. */
export interface Environment {
  name: 'staging' | 'production';
  cluster: string;
  service: string;
  container: string;
  repository: string;
  /** Base URL of the production listener (`http://127.0.0.1:PORT`). */
  url: string;
  /** The bootstrap task definition the service started with. */
  bootstrapTaskDefinition: string;
}

const APP_PORT = 8080;

/** The release every service starts with: the sample service's server.js packed as `v0`. */
async function pushBootstrapImage(
  ecr: ECRClient,
  endpoint: string,
  repository: string,
  serverJs: string,
): Promise<string> {
  await ecr.send(new CreateRepositoryCommand({ repositoryName: repository }));
  const auth = await ecr.send(new GetAuthorizationTokenCommand({}));
  const [username, password] = Buffer.from(auth.authorizationData![0].authorizationToken!, 'base64')
    .toString()
    .split(':');
  const image = buildOciImage({
    files: { 'app/server.js': serverJs },
    config: {
      Cmd: ['node', '/app/server.js'],
      WorkingDir: '/app',
      Env: ['APP_VERSION=v0', 'HEALTHY=true', `PORT=${APP_PORT}`],
      ExposedPorts: { [`${APP_PORT}/tcp`]: {} },
    },
  });
  const pushed = await pushOciImage(image, {
    registry: endpoint,
    repository,
    tag: 'bootstrap',
    username,
    password,
  });
  return pushed.digestRef;
}

/** Creates both environments and waits until their services run the bootstrap release. */
export async function provision(endpoint: string, fixture: string): Promise<Environment[]> {
  const config = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const ecr = new ECRClient(config);
  const ecs = new ECSClient(config);
  const elb = new ElasticLoadBalancingV2Client(config);
  const serverJs = readFileSync(join(fixture, 'server.js'), 'utf8');
  try {
    const targetGroup = async (name: string): Promise<string> => {
      const arn = (
        await elb.send(
          new CreateTargetGroupCommand({
            Name: name,
            Protocol: 'HTTP',
            Port: APP_PORT,
            TargetType: 'ip',
            HealthCheckPath: '/',
            HealthCheckIntervalSeconds: 10,
            HealthyThresholdCount: 2,
            UnhealthyThresholdCount: 3,
          }),
        )
      ).TargetGroups![0].TargetGroupArn!;
      await elb.send(
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: arn,
          Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '10' }],
        }),
      );
      return arn;
    };
    const listener = async (lb: string, port: number, actions: Action[]): Promise<string> =>
      (
        await elb.send(
          new CreateListenerCommand({
            LoadBalancerArn: lb,
            Protocol: 'HTTP',
            Port: port,
            DefaultActions: actions,
          }),
        )
      ).Listeners![0].ListenerArn!;

    const environments: Environment[] = [];
    for (const name of ['staging', 'production'] as const) {
      const cluster = `app-${name}`;
      const repository = `app-${name}`;
      const image = await pushBootstrapImage(ecr, endpoint, repository, serverJs);
      await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
      const taskDefinition = (
        await ecs.send(
          new RegisterTaskDefinitionCommand({
            family: `app-${name}`,
            containerDefinitions: [
              {
                name: 'app',
                image,
                essential: true,
                portMappings: [{ containerPort: APP_PORT }],
                environment: [{ name: 'ENVIRONMENT', value: name }],
                // Tasks log to CloudWatch Logs, where run-task reads a migration's lines.
                logConfiguration: {
                  logDriver: 'awslogs',
                  options: {
                    'awslogs-group': `/ecs/app-${name}`,
                    'awslogs-region': 'us-east-1',
                    'awslogs-stream-prefix': 'app',
                    'awslogs-create-group': 'true',
                  },
                },
              },
            ],
          }),
        )
      ).taskDefinition!.taskDefinitionArn!;
      const lb = (
        await elb.send(
          new CreateLoadBalancerCommand({ Name: `app-${name}`, Subnets: ['subnet-1'] }),
        )
      ).LoadBalancers![0].LoadBalancerArn!;
      const port = await freePort();
      const service: CreateServiceCommandInput = {
        cluster,
        serviceName: 'app',
        taskDefinition,
        desiredCount: 1,
        // A new task gets two minutes to start before failed load-balancer checks count.
        healthCheckGracePeriodSeconds: 120,
        deploymentConfiguration: {
          deploymentCircuitBreaker: { enable: true, rollback: true },
          minimumHealthyPercent: 100,
          maximumPercent: 200,
        },
      };
      if (name === 'staging') {
        const tg = await targetGroup('app-staging');
        await listener(lb, port, [{ Type: 'forward', TargetGroupArn: tg }]);
        service.loadBalancers = [
          { targetGroupArn: tg, containerName: 'app', containerPort: APP_PORT },
        ];
        service.deploymentConfiguration!.strategy = 'ROLLING';
      } else {
        const blue = await targetGroup('app-production-blue');
        const green = await targetGroup('app-production-green');
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
        const rule = async (listenerArn: string): Promise<string> =>
          (
            await elb.send(
              new CreateRuleCommand({
                ListenerArn: listenerArn,
                Priority: 1,
                Conditions: [{ Field: 'path-pattern', Values: ['/*'] }],
                Actions: forward,
              }),
            )
          ).Rules![0].RuleArn!;
        const productionRule = await rule(await listener(lb, port, notFound));
        const testRule = await rule(await listener(lb, await freePort(), notFound));
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
        service.deploymentConfiguration!.bakeTimeInMinutes = 1;
      }
      await ecs.send(new CreateServiceCommand(service));
      environments.push({
        name,
        cluster,
        service: 'app',
        container: 'app',
        repository,
        url: `http://127.0.0.1:${port}`,
        bootstrapTaskDefinition: taskDefinition,
      });
    }
    for (const env of environments)
      await waitUntilServicesStable(
        { client: ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
        { cluster: env.cluster, services: [env.service] },
      );
    return environments;
  } finally {
    for (const c of [ecr, ecs, elb]) c.destroy();
  }
}

/** The task definition a service runs now. */
export async function currentTaskDefinition(
  endpoint: string,
  env: Environment,
): Promise<string | undefined> {
  const ecs = new ECSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  try {
    const out = await ecs.send(
      new DescribeServicesCommand({ cluster: env.cluster, services: [env.service] }),
    );
    return out.services?.[0]?.taskDefinition;
  } finally {
    ecs.destroy();
  }
}

/** The task definition a task ran and its last status. */
export async function describeTask(
  endpoint: string,
  cluster: string,
  taskArn: string,
): Promise<{ taskDefinitionArn?: string; lastStatus?: string }> {
  const ecs = new ECSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  try {
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
    const task = out.tasks?.[0];
    return { taskDefinitionArn: task?.taskDefinitionArn, lastStatus: task?.lastStatus };
  } finally {
    ecs.destroy();
  }
}

/** What the environment's listener answers on `/version` (the running release), or why not. */
export async function servedVersion(env: Environment): Promise<string> {
  try {
    const res = await fetch(`${env.url}/version`, {
      headers: { connection: 'close' },
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    if (res.status !== 200) return `HTTP ${res.status}`;
    return (JSON.parse(text) as { version?: string }).version ?? text;
  } catch (error) {
    return `no answer (${(error as Error).message})`;
  }
}
