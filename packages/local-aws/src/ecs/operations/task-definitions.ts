/**
 * RegisterTaskDefinition, DescribeTaskDefinition, ListTaskDefinitions,
 * ListTaskDefinitionFamilies, DeregisterTaskDefinition.
 */
import { AwsError, type JsonOperation } from '../../contracts';
import { arn } from '../../ids';
import type { EcsContext } from '../context';
import type { ContainerDefinition, TaskDefinition } from '../model';
import { clone, paginate, parseTags, requireString, type Input } from '../util';
import { checkFargateTaskDefinition, taskCpu, taskMemory } from '../task-size';
import { validateTaskDefinition } from '../validate';
import { taskDefinitionView } from '../views';

/** The task definition operations. */
export function taskDefinitionOperations(ctx: EcsContext): Record<string, JsonOperation> {
  const { state } = ctx;
  return {
    RegisterTaskDefinition: (input: Input, rc) => {
      const family = validateTaskDefinition(input);
      const defs = input.containerDefinitions as ContainerDefinition[];
      const list = state.taskDefs.get(family) ?? [];
      const revision = (list[list.length - 1]?.revision ?? 0) + 1;
      const { tags, ...rest } = input;
      const size = { cpu: taskCpu(input.cpu), memory: taskMemory(input.memory) };
      checkFargateTaskDefinition({ ...input, ...size });
      const td: TaskDefinition = {
        ...clone(rest),
        containerDefinitions: clone(defs).map((c) => ({
          essential: true,
          environment: [],
          mountPoints: [],
          volumesFrom: [],
          portMappings: (c.portMappings ?? []).map((p) => ({
            protocol: 'tcp',
            ...p,
            hostPort: p.hostPort ?? (input.networkMode === 'awsvpc' ? p.containerPort : undefined),
          })),
          ...c,
        })),
        ...(size.cpu === undefined ? {} : { cpu: size.cpu }),
        ...(size.memory === undefined ? {} : { memory: size.memory }),
        family,
        taskDefinitionArn: arn(
          'ecs',
          rc.region,
          rc.accountId,
          `task-definition/${family}:${revision}`,
        ),
        revision,
        status: 'ACTIVE',
        registeredAt: new Date(),
        registeredBy: `arn:aws:iam::${rc.accountId}:root`,
        compatibilities: ['EC2', 'FARGATE'],
        requiresAttributes: [],
        volumes: (rest.volumes as unknown[]) ?? [],
        placementConstraints: (rest.placementConstraints as unknown[]) ?? [],
        tags: parseTags(tags),
      };
      list.push(td);
      state.taskDefs.set(family, list);
      return { taskDefinition: taskDefinitionView(td), tags: td.tags };
    },
    DescribeTaskDefinition: (input: Input) => {
      const ref = requireString(input, 'taskDefinition');
      const td = state.resolveTaskDef(ref);
      if (!td || td.status === 'DELETE_IN_PROGRESS')
        throw new AwsError('ClientException', 'Unable to describe task definition.');
      const include = Array.isArray(input.include) && input.include.includes('TAGS');
      return { taskDefinition: taskDefinitionView(td), ...(include ? { tags: td.tags } : {}) };
    },
    ListTaskDefinitions: (input: Input) => {
      const prefix = typeof input.familyPrefix === 'string' ? input.familyPrefix : undefined;
      const status = typeof input.status === 'string' ? input.status : 'ACTIVE';
      if (!['ACTIVE', 'INACTIVE', 'DELETE_IN_PROGRESS'].includes(status))
        throw new AwsError('InvalidParameterException', `Invalid \`status\` \`${status}\`.`);
      const sort = input.sort === 'DESC' ? -1 : 1;
      const all = [...state.taskDefs.values()]
        .flat()
        .filter((td) => td.status === status && (!prefix || td.family === prefix))
        .sort(
          (a, b) =>
            sort *
            (a.family === b.family ? a.revision - b.revision : a.family.localeCompare(b.family)),
        )
        .map((td) => td.taskDefinitionArn);
      const { page, nextToken } = paginate(all, input);
      return { taskDefinitionArns: page, nextToken };
    },
    ListTaskDefinitionFamilies: (input: Input) => {
      const prefix = typeof input.familyPrefix === 'string' ? input.familyPrefix : '';
      const status = typeof input.status === 'string' ? input.status : 'ACTIVE';
      const families = [...state.taskDefs.entries()]
        .filter(
          ([f, list]) =>
            f.startsWith(prefix) && (status === 'ALL' || list.some((t) => t.status === status)),
        )
        .map(([f]) => f)
        .sort();
      const { page, nextToken } = paginate(families, input);
      return { families: page, nextToken };
    },
    DeregisterTaskDefinition: (input: Input) => {
      const ref = requireString(input, 'taskDefinition');
      if (!/:\d+$/.test(ref))
        throw new AwsError(
          'ClientException',
          'The specified task definition needs a revision (family:revision or ARN).',
        );
      const td = state.resolveTaskDef(ref);
      if (!td)
        throw new AwsError('ClientException', 'The specified task definition does not exist.');
      td.status = 'INACTIVE';
      td.deregisteredAt = new Date();
      return { taskDefinition: taskDefinitionView(td) };
    },
  };
}
