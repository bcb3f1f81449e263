/** AddTagsToResource, ListTagsForResource, RemoveTagsFromResource (by RDS ARN). */
import { qList } from '../../protocol/query';
import type { RdsContext, RdsOperation } from '../context';
import { mergeTags, need, parseTags } from '../params';

/** The tag operations. */
export function tagOperations(ctx: RdsContext): Record<string, RdsOperation> {
  const { state } = ctx;
  return {
    AddTagsToResource: (p) => {
      const tags = state.tagsOf(need(p, 'ResourceName'));
      mergeTags(tags, parseTags(p.Tags));
      return {};
    },
    ListTagsForResource: (p) => {
      return { TagList: state.tagsOf(need(p, 'ResourceName')) };
    },
    RemoveTagsFromResource: (p) => {
      const tags = state.tagsOf(need(p, 'ResourceName'));
      const keys = new Set(qList(p.TagKeys).map(String));
      const kept = tags.filter((t) => !keys.has(t.Key));
      tags.splice(0, tags.length, ...kept);
      return {};
    },
  };
}
