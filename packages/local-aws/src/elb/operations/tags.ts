/** AddTags, RemoveTags, DescribeTags (on load balancers, target groups, listeners and rules). */
import { AwsError } from '../../contracts';
import type { ElbContext, ElbOperation } from '../context';
import { parseTags, strings } from '../validate';

/** DescribeTags describes "up to 20 resources in a single call". */
const MAX_DESCRIBED = 20;

/** The tag operations. */
export function tagOperations(ctx: ElbContext): Record<string, ElbOperation> {
  const { state } = ctx;
  return {
    AddTags: (p) => {
      for (const a of strings(p.ResourceArns)) {
        state.resourceMustExist(a);
        state.addTags(a, parseTags(p.Tags));
      }
      return {};
    },
    RemoveTags: (p) => {
      const keys = strings(p.TagKeys);
      for (const a of strings(p.ResourceArns)) {
        state.resourceMustExist(a);
        state.tags.set(
          a,
          (state.tags.get(a) ?? []).filter((t) => !keys.includes(t.Key)),
        );
      }
      return {};
    },
    DescribeTags: (p) => {
      const arns = strings(p.ResourceArns);
      if (arns.length > MAX_DESCRIBED)
        throw new AwsError(
          'ValidationError',
          `1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to ${MAX_DESCRIBED}`,
        );
      return {
        TagDescriptions: arns.map((a) => {
          state.resourceMustExist(a);
          return { ResourceArn: a, Tags: state.tags.get(a) ?? [] };
        }),
      };
    },
  };
}
