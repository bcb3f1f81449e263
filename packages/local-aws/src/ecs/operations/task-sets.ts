/**
 * CreateTaskSet, DescribeTaskSets, UpdateTaskSet, UpdateServicePrimaryTaskSet, DeleteTaskSet: the
 * task sets of services with the `CODE_DEPLOY` or `EXTERNAL` deployment controller.
 */
import { AwsError, type JsonOperation } from '../../contracts';
import type { EcsContext } from '../context';
import type { Service } from '../model';
import {
  createTaskSet,
  deleteTaskSet,
  findTaskSet,
  makePrimary,
  scaleTaskSet,
  taskSet,
  taskSetsOf,
  taskSetView,
  usesTaskSets,
  type TaskSetService,
} from '../task-sets';
import { parseTags, requireString, type Input } from '../util';
import { requireNetworkConfiguration, validateLoadBalancers } from '../validate';

/** `scale` of Create/UpdateTaskSet: a percentage from 0 to 100 (default 100). */
function scalePercent(input: unknown): number {
  if (input === undefined) return 100;
  const s = input as { value?: unknown; unit?: unknown };
  if (s.unit !== undefined && s.unit !== 'PERCENT')
    throw new AwsError('InvalidParameterException', '`scale.unit` must be PERCENT.');
  const v = Number(s.value ?? 100);
  if (!(v >= 0 && v <= 100))
    throw new AwsError('InvalidParameterException', '`scale.value` must be between 0 and 100.');
  return v;
}

/** The ACTIVE task-set service named by the request. */
function taskSetService(ctx: EcsContext, input: Input): TaskSetService {
  const svc: Service = ctx.state.service(input);
  if (svc.status !== 'ACTIVE')
    throw new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
  if (!usesTaskSets(svc))
    throw new AwsError(
      'InvalidParameterException',
      'Task sets are only supported for services that use the EXTERNAL or CODE_DEPLOY deployment controller.',
    );
  return svc;
}

/** The task-set operations. */
export function taskSetOperations(ctx: EcsContext): Record<string, JsonOperation> {
  const { state, opts } = ctx;
  return {
    CreateTaskSet: (input: Input) => {
      const svc = taskSetService(ctx, input);
      const td = state.resolveTaskDef(requireString(input, 'taskDefinition'));
      if (!td || td.status !== 'ACTIVE')
        throw new AwsError('ClientException', 'TaskDefinition not found.');
      const networkConfiguration = input.networkConfiguration ?? svc.networkConfiguration;
      requireNetworkConfiguration(td, networkConfiguration);
      const loadBalancers = validateLoadBalancers(input.loadBalancers, opts.elb);
      const set = createTaskSet(ctx, svc, {
        taskDefinition: td.taskDefinitionArn,
        loadBalancers,
        scalePercent: scalePercent(input.scale),
        status: taskSetsOf(svc).some((s) => s.status === 'PRIMARY') ? 'ACTIVE' : 'PRIMARY',
        externalId: typeof input.externalId === 'string' ? input.externalId : undefined,
        launchType: typeof input.launchType === 'string' ? input.launchType : undefined,
        platformVersion:
          typeof input.platformVersion === 'string' ? input.platformVersion : undefined,
        networkConfiguration,
        tags: parseTags(input.tags),
      });
      return { taskSet: taskSetView(set) };
    },
    DescribeTaskSets: (input: Input) => {
      const svc = state.service(input);
      if (!usesTaskSets(svc))
        throw new AwsError(
          'InvalidParameterException',
          'Task sets are only supported for services that use the EXTERNAL or CODE_DEPLOY deployment controller.',
        );
      const refs = Array.isArray(input.taskSets) ? (input.taskSets as string[]) : undefined;
      if (!refs) return { taskSets: taskSetsOf(svc).map(taskSetView), failures: [] };
      const taskSets: unknown[] = [];
      const failures: unknown[] = [];
      for (const ref of refs) {
        const set = findTaskSet(svc, ref);
        if (set) taskSets.push(taskSetView(set));
        else failures.push({ arn: ref, reason: 'MISSING' });
      }
      return { taskSets, failures };
    },
    UpdateTaskSet: (input: Input) => {
      const svc = taskSetService(ctx, input);
      const set = taskSet(svc, input.taskSet);
      if (input.scale === undefined)
        throw new AwsError('InvalidParameterException', '`scale` must be given.');
      scaleTaskSet(ctx, svc, set, scalePercent(input.scale));
      return { taskSet: taskSetView(set) };
    },
    UpdateServicePrimaryTaskSet: (input: Input) => {
      const svc = taskSetService(ctx, input);
      const set = taskSet(svc, input.primaryTaskSet);
      if (set.status === 'DRAINING')
        throw new AwsError(
          'InvalidParameterException',
          'A DRAINING task set cannot become the primary task set.',
        );
      makePrimary(ctx, svc, set);
      return { taskSet: taskSetView(set) };
    },
    DeleteTaskSet: (input: Input) => {
      const svc = taskSetService(ctx, input);
      const set = taskSet(svc, input.taskSet);
      if (input.force !== true && set.scale.value > 0 && set.computedDesiredCount > 0)
        throw new AwsError(
          'InvalidParameterException',
          'The task set cannot be deleted while it is scaled above 0; scale it to 0 first or use `force`.',
        );
      deleteTaskSet(ctx, svc, set);
      return { taskSet: taskSetView(set) };
    },
  };
}
