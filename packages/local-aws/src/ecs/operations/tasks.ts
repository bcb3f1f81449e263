/** ListTasks, DescribeTasks, RunTask, StopTask. */
import { AwsError, type JsonOperation } from '../../contracts';
import type { EcsContext } from '../context';
import type { Cluster, Task, TaskDefinition } from '../model';
import { clone, nameOf, paginate, parseTags, requireString, type Input } from '../util';
import { requireNetworkConfiguration } from '../validate';
import { taskView } from '../views';

interface ContainerOverride {
  name: string;
  command?: string[];
  environment?: { name: string; value: string }[];
}

/** The capacity providers AWS runs on Fargate; any other one is backed by container instances. */
const FARGATE_PROVIDERS = new Set(['FARGATE', 'FARGATE_SPOT']);

/**
 * Where RunTask places its tasks, refused as ECS refuses it. There are no container instances
 * here, so the EC2 and EXTERNAL launch types (and capacity providers other than Fargate's) have
 * nowhere to run: ECS answers that with an error, not with `failures`. Returns the launch type.
 */
function placement(input: Input, cluster: Cluster, td: TaskDefinition): string {
  const strategy = Array.isArray(input.capacityProviderStrategy)
    ? (input.capacityProviderStrategy as { capacityProvider?: unknown }[])
    : undefined;
  const launchType = typeof input.launchType === 'string' ? input.launchType : undefined;
  if (launchType && strategy?.length)
    throw new AwsError(
      'InvalidParameterException',
      'Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.',
    );
  if (launchType && !['FARGATE', 'EC2', 'EXTERNAL'].includes(launchType))
    throw new AwsError(
      'InvalidParameterException',
      `Invalid launch type \`${launchType}\`: use FARGATE, EC2 or EXTERNAL.`,
    );
  for (const item of strategy ?? []) {
    const name = String(item?.capacityProvider ?? '');
    if (FARGATE_PROVIDERS.has(name)) continue;
    if (!cluster.capacityProviders.includes(name))
      throw new AwsError(
        'InvalidParameterException',
        'The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.',
      );
    throw new AwsError(
      'InvalidParameterException',
      'No Container Instances were found in your cluster.',
    );
  }
  if (launchType === 'EC2' || launchType === 'EXTERNAL')
    throw new AwsError(
      'InvalidParameterException',
      'No Container Instances were found in your cluster.',
    );
  if (td.requiresCompatibilities?.length && !td.requiresCompatibilities.includes('FARGATE'))
    throw new AwsError(
      'InvalidParameterException',
      'Task definition does not support launch_type FARGATE.',
    );
  return 'FARGATE';
}

/** The task operations. */
export function taskOperations(ctx: EcsContext): Record<string, JsonOperation> {
  const { state, scheduler } = ctx;
  return {
    ListTasks: (input: Input) => {
      const cluster = state.cluster(input.cluster);
      const desired = typeof input.desiredStatus === 'string' ? input.desiredStatus : 'RUNNING';
      const svcName = typeof input.serviceName === 'string' ? nameOf(input.serviceName) : undefined;
      if (svcName && !state.findService(cluster, svcName))
        throw new AwsError('ServiceNotFoundException', 'Service not found.');
      const family = typeof input.family === 'string' ? input.family : undefined;
      const startedBy = typeof input.startedBy === 'string' ? input.startedBy : undefined;
      const arns = [...state.tasks.values()]
        .filter(
          (t) =>
            t.clusterArn === cluster.clusterArn &&
            t.desiredStatus === desired &&
            (!svcName || t.serviceName === svcName) &&
            (!family || t.taskDefinitionArn.includes(`task-definition/${family}:`)) &&
            (!startedBy || t.startedBy === startedBy),
        )
        .map((t) => t.taskArn);
      const { page, nextToken } = paginate(arns, input);
      return { taskArns: page, nextToken };
    },
    DescribeTasks: (input: Input) => {
      const cluster = state.cluster(input.cluster);
      if (!Array.isArray(input.tasks) || !input.tasks.length)
        throw new AwsError('InvalidParameterException', 'Tasks cannot be empty.');
      if (input.tasks.length > 100)
        throw new AwsError(
          'InvalidParameterException',
          'At most 100 tasks can be described at once.',
        );
      const include = Array.isArray(input.include) && input.include.includes('TAGS');
      const tasks: unknown[] = [];
      const failures: unknown[] = [];
      for (const ref of input.tasks as string[]) {
        const t = state.findTask(ref, cluster.clusterArn);
        if (t && t.clusterArn === cluster.clusterArn) tasks.push(taskView(t, include));
        else failures.push({ arn: ref, reason: 'MISSING' });
      }
      return { tasks, failures };
    },
    RunTask: (input: Input) => {
      const cluster = state.cluster(input.cluster);
      const td = state.resolveTaskDef(requireString(input, 'taskDefinition'));
      if (!td || td.status !== 'ACTIVE')
        throw new AwsError('ClientException', 'TaskDefinition not found.');
      requireNetworkConfiguration(td, input.networkConfiguration);
      const launchType = placement(input, cluster, td);
      const count = input.count === undefined ? 1 : Number(input.count);
      if (!(count >= 1 && count <= 10))
        throw new AwsError('InvalidParameterException', '`count` must be between 1 and 10.');
      const overrides =
        (input.overrides as { containerOverrides?: ContainerOverride[] } | undefined)
          ?.containerOverrides ?? [];
      const effective: TaskDefinition = clone(td);
      for (const o of overrides) {
        const c = effective.containerDefinitions.find((x) => x.name === o.name);
        if (!c)
          throw new AwsError(
            'InvalidParameterException',
            `Override for unknown container \`${o.name}\`.`,
          );
        if (o.command) c.command = o.command;
        if (o.environment)
          c.environment = [
            ...(c.environment ?? []).filter((e) => !o.environment!.some((n) => n.name === e.name)),
            ...o.environment,
          ];
      }
      const failures = ctx.capacity.place(count);
      if (failures.length) return { tasks: [], failures };
      const tasks: Task[] = [];
      for (let i = 0; i < count; i++) {
        const t = scheduler.newTask(
          cluster.clusterArn,
          td,
          typeof input.group === 'string' ? input.group : `family:${td.family}`,
          input.startedBy as string | undefined,
          launchType,
        );
        t.overrides = { containerOverrides: clone(overrides) };
        t.tags = parseTags(input.tags);
        scheduler.startTask(t, effective);
        tasks.push(t);
      }
      return { tasks: tasks.map((t) => taskView(t, false)), failures: [] };
    },
    StopTask: async (input: Input) => {
      const cluster = state.cluster(input.cluster);
      const ref = requireString(input, 'task');
      const t = state.findTask(ref, cluster.clusterArn);
      if (!t) throw new AwsError('InvalidParameterException', 'The referenced task was not found.');
      void scheduler.stopTask(
        t,
        typeof input.reason === 'string' ? input.reason : 'Task stopped by user',
        'UserInitiated',
        false,
      );
      await new Promise((r) => setImmediate(r));
      return { task: taskView(t, false) };
    },
  };
}
