/** ListTasks, DescribeTasks, RunTask, StopTask. */
import { AwsError, type JsonOperation } from '../../contracts';
import type { EcsContext } from '../context';
import type { Task, TaskDefinition } from '../model';
import { clone, nameOf, paginate, parseTags, requireString, type Input } from '../util';
import { requireNetworkConfiguration } from '../validate';
import { taskView } from '../views';

interface ContainerOverride {
  name: string;
  command?: string[];
  environment?: { name: string; value: string }[];
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
      const tasks: Task[] = [];
      for (let i = 0; i < count; i++) {
        const t = scheduler.newTask(
          cluster.clusterArn,
          td,
          typeof input.group === 'string' ? input.group : `family:${td.family}`,
          input.startedBy as string | undefined,
          input.launchType as string | undefined,
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
