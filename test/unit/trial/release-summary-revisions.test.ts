// Found reading release summaries: a rolled-back service read `api:8 → api:9` as if it had moved,
// an unchanged one `worker:4 → worker:4`, a dry run `api:1 → (none)`.
import { revisionCell } from '../../../actions/ecs-deploy/src/release';

const arn = (r: string): string => `arn:aws:ecs:us-east-1:000000000000:task-definition/${r}`;

test.each([
  ['succeeded', 'api:1', 'api:2', 'api:1 → api:2'],
  ['rolled-back', 'api:8', 'api:9', 'api:8 → api:9 → back on api:8'],
  ['unchanged', 'worker:4', 'worker:4', 'worker:4'],
  ['dry-run', 'api:1', undefined, 'api:1 → (not registered)'],
  ['registered', 'api:8', 'api:10', 'api:10 registered; runs api:8'],
  ['in-progress', 'web:4', 'web:5', 'web:4 → web:5'],
])('a `%s` service from %s to %s reads `%s`', (status, from, to, says) => {
  expect(
    revisionCell({
      status,
      previousTaskDefinitionArn: arn(from),
      taskDefinitionArn: to && arn(to),
    }),
  ).toBe(says);
});
