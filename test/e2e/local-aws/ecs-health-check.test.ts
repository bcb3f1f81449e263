/**
 * Container health checks that address the container's own port, as on Fargate
 * (`curl -f http://localhost:8080/health` with `containerPort: 8080`), work although tasks
 * here listen on a host port of their own.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { eventually, httpGet, startHarness, type Harness } from './support';

let h: Harness;

const HEALTH_CHECK = {
  command: ['CMD-SHELL', 'curl -f http://localhost:8080/health || exit 1'],
  interval: 5,
  timeout: 5,
  retries: 2,
};

async function register(family: string, image: string): Promise<string> {
  const out = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [
        {
          name: 'web',
          image,
          essential: true,
          portMappings: [{ containerPort: 8080 }],
          healthCheck: HEALTH_CHECK,
        },
      ],
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

async function createService(name: string, taskDefinition: string): Promise<void> {
  await h.ecs.send(
    new CreateServiceCommand({
      cluster: 'checks',
      serviceName: name,
      taskDefinition,
      desiredCount: 1,
    }),
  );
}

async function tasksOf(service: string, desiredStatus: 'RUNNING' | 'STOPPED'): Promise<Task[]> {
  const arns = (
    await h.ecs.send(
      new ListTasksCommand({ cluster: 'checks', serviceName: service, desiredStatus }),
    )
  ).taskArns!;
  if (!arns.length) return [];
  return (await h.ecs.send(new DescribeTasksCommand({ cluster: 'checks', tasks: arns }))).tasks!;
}

beforeAll(async () => {
  h = await startHarness({ timeScale: 30 });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'checks' }));
});

afterAll(async () => {
  await h?.close();
});

test('a health check on localhost:<containerPort> passes for a healthy app and the deployment completes', async () => {
  await createService('healthy', await register('healthy', await h.pushApp('checks', 'ok')));
  const svc = await eventually(async () => {
    const s = (
      await h.ecs.send(new DescribeServicesCommand({ cluster: 'checks', services: ['healthy'] }))
    ).services![0];
    return s.deployments![0].rolloutState === 'COMPLETED' ? s : undefined;
  }, 'the deployment to complete');
  expect(svc.runningCount).toBe(1);
  const [task] = await tasksOf('healthy', 'RUNNING');
  expect(task.healthStatus).toBe('HEALTHY');
  expect(task.containers![0].healthStatus).toBe('HEALTHY');
  const binding = task.containers![0].networkBindings![0];
  expect(binding.containerPort).toBe(8080);
  // The container's log says how the check reached the app.
  const log = await httpGet(
    `${h.aws.endpoint}/_local/tasks/${task.taskArn!.split('/').pop()}/logs/web`,
  );
  expect(log.body).toContain(
    `local-aws: tasks share the host's network here, so the health check runs against localhost:8080 → localhost:${binding.hostPort}`,
  );
});

test('the same health check fails for an app whose /health answers 500, and ECS replaces the task', async () => {
  await createService(
    'sick',
    await register('sick', await h.pushApp('checks', 'sick', { broken: true })),
  );
  const stopped = await eventually(async () => {
    const tasks = await tasksOf('sick', 'STOPPED');
    return tasks.find((t) => t.stoppedReason === 'Task failed container health checks');
  }, 'a task stopped by its health check');
  expect(stopped.containers![0].healthStatus).toBe('UNHEALTHY');
});
