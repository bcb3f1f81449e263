/** TagResource, UntagResource, ListTagsForResource on clusters, services, task definitions, tasks. */
import { AwsError, type JsonOperation } from '../../contracts';
import { parseArn } from '../../ids';
import type { EcsContext } from '../context';
import type { Tag } from '../model';
import type { EcsState } from '../state';
import { mergeTags, parseTags, requireString, type Input } from '../util';

function resourceTags(
  state: EcsState,
  resourceArn: string,
): { get: () => Tag[]; set: (t: Tag[]) => void } {
  const p = parseArn(resourceArn);
  if (!p || p.service !== 'ecs')
    throw new AwsError(
      'InvalidParameterException',
      `\`${resourceArn}\` is not an ECS resource ARN.`,
    );
  const [type, ...path] = p.resource.split('/');
  const notFound = (): never => {
    throw new AwsError('ResourceNotFoundException', 'The specified resource could not be found.');
  };
  if (type === 'cluster') {
    const c = state.clusters.get(path[0]) ?? notFound();
    return { get: () => c.tags, set: (t) => (c.tags = t) };
  }
  if (type === 'service') {
    const s =
      state.services.get(path.length === 2 ? `${path[0]}/${path[1]}` : `default/${path[0]}`) ??
      notFound();
    return { get: () => s.tags, set: (t) => (s.tags = t) };
  }
  if (type === 'task-definition') {
    const td = state.resolveTaskDef(path.join('/')) ?? notFound();
    return { get: () => td.tags, set: (t) => (td.tags = t) };
  }
  if (type === 'task') {
    const t = state.tasks.get(resourceArn) ?? notFound();
    return { get: () => t.tags, set: (x) => (t.tags = x) };
  }
  return notFound();
}

/** The tagging operations. */
export function tagOperations(ctx: EcsContext): Record<string, JsonOperation> {
  const { state } = ctx;
  return {
    TagResource: (input: Input) => {
      const r = resourceTags(state, requireString(input, 'resourceArn'));
      r.set(mergeTags(r.get(), parseTags(input.tags)));
      return {};
    },
    UntagResource: (input: Input) => {
      const r = resourceTags(state, requireString(input, 'resourceArn'));
      const keys = Array.isArray(input.tagKeys) ? (input.tagKeys as string[]) : [];
      r.set(r.get().filter((t) => !keys.includes(t.key)));
      return {};
    },
    ListTagsForResource: (input: Input) => ({
      tags: resourceTags(state, requireString(input, 'resourceArn')).get(),
    }),
  };
}
