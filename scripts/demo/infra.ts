/**
 * What Terraform would have made before the first pipeline run, created against local-aws by
 * the same provisioning as `npm run local-infra` (`../lib/local-infra.ts`): per environment an
 * ECR repository holding a first (bootstrap) image answering `v0`, a cluster, a load balancer
 * and a service running the bootstrap image. Staging deploys rolling behind one target group;
 * production deploys native blue/green with an alternate target group, a production and a test
 * listener rule. The load balancer checks `/` (is the process serving?), so a release whose
 * `/health` fails passes the load balancer and is caught by the health gate. Staging also runs
 * the sample service's queue worker (service `worker`, repository `worker-staging`, no port),
 * released with the API. Tasks log to CloudWatch Logs (`/ecs/app-<environment>`,
 * `/ecs/worker-staging`) and get the demo's `DATABASE_URL`, which the migration reads.
 */
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
} from '@aws-sdk/client-ecs';
import { provision as provisionLocal } from '../lib/local-infra';

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
  /** The queue worker deployed with the API in one release (staging only). */
  worker?: {
    service: string;
    container: string;
    repository: string;
    bootstrapTaskDefinition: string;
  };
}

/** Creates both environments and waits until their services run and serve the bootstrap release. */
export async function provision(endpoint: string, databaseUrl: string): Promise<Environment[]> {
  const { environments } = await provisionLocal({
    endpoint,
    region: 'us-east-1',
    environments: ['staging', 'production'],
    bootstrapVersion: 'v0',
    targetHealthCheckPath: '/',
    // A new task gets two minutes to start before failed load-balancer checks count.
    healthCheckGracePeriodSeconds: 120,
    bakeTimeInMinutes: 1,
    awslogs: true,
    workers: ['staging'],
    containerEnvironment: { DATABASE_URL: databaseUrl },
  });
  return environments.map((env) => ({
    name: env.name as Environment['name'],
    cluster: env.cluster,
    service: env.service,
    container: env.container,
    repository: env.repository,
    url: env.url,
    bootstrapTaskDefinition: env.taskDefinition,
    ...(env.worker
      ? {
          worker: {
            service: env.worker.service,
            container: env.worker.container,
            repository: env.worker.repository,
            bootstrapTaskDefinition: env.worker.taskDefinition,
          },
        }
      : {}),
  }));
}

const client = (endpoint: string): ECSClient =>
  new ECSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });

/** The task definition a service (default the environment's API) runs now. */
export async function currentTaskDefinition(
  endpoint: string,
  env: Environment,
  service = env.service,
): Promise<string | undefined> {
  return (await serviceDeployment(endpoint, env.cluster, service)).taskDefinition;
}

/** The revision a service runs and when its primary deployment (the one that moved it there) began. */
export async function serviceDeployment(
  endpoint: string,
  cluster: string,
  service: string,
): Promise<{ taskDefinition?: string; deployedAt?: Date }> {
  const ecs = client(endpoint);
  try {
    const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
    const found = out.services?.[0];
    const primary = found?.deployments?.find((d) => d.status === 'PRIMARY');
    return { taskDefinition: found?.taskDefinition, deployedAt: primary?.createdAt };
  } finally {
    ecs.destroy();
  }
}

/** The registered revisions of a task definition family, oldest first. */
export async function revisionsOf(endpoint: string, family: string): Promise<string[]> {
  const ecs = client(endpoint);
  try {
    const out = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family }));
    return (out.taskDefinitionArns ?? []).filter((a) => a.includes(`/${family}:`));
  } finally {
    ecs.destroy();
  }
}

/** The task definition a task ran, its last status and when it stopped. */
export async function describeTask(
  endpoint: string,
  cluster: string,
  taskArn: string,
): Promise<{ taskDefinitionArn?: string; lastStatus?: string; stoppedAt?: Date }> {
  const ecs = client(endpoint);
  try {
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
    const task = out.tasks?.[0];
    return {
      taskDefinitionArn: task?.taskDefinitionArn,
      lastStatus: task?.lastStatus,
      stoppedAt: task?.stoppedAt,
    };
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

/** The lines of a CloudWatch Logs group that contain `text`, oldest first (every page read). */
export async function logLinesWith(
  endpoint: string,
  group: string,
  text: string,
): Promise<string[]> {
  const logs = new CloudWatchLogsClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  try {
    const lines: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await logs.send(new FilterLogEventsCommand({ logGroupName: group, nextToken }));
      for (const e of out.events ?? []) if (e.message?.includes(text)) lines.push(e.message);
      nextToken = out.nextToken;
    } while (nextToken);
    return lines;
  } finally {
    logs.destroy();
  }
}
