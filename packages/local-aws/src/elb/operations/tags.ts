/** AddTags, RemoveTags, DescribeTags (on load balancers, target groups, listeners and rules). */
import type { ElbContext, ElbOperation } from '../context';
import { parseTags, strings } from '../validate';

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
    DescribeTags: (p) => ({
      TagDescriptions: strings(p.ResourceArns).map((a) => {
        state.resourceMustExist(a);
        return { ResourceArn: a, Tags: state.tags.get(a) ?? [] };
      }),
    }),
  };
}
