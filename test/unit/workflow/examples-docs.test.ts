import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { actionlint } from '../../../packages/workflow/src/actionlint';
import { checkWorkflow, fileCheckContext } from '../../../packages/workflow/src/checks';
import { parseWorkflow } from '../../../packages/workflow/src/model';

const ROOT = join(__dirname, '..', '..', '..');
const ctx = fileCheckContext(ROOT);

/** The ```yaml blocks of a Markdown file that hold a workflow's `jobs:`. */
function workflowBlocks(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1])
    .filter((block) => /^jobs:/m.test(block));
}

/**
 * A documented workflow made whole: a trigger and no default permissions around its `jobs:`,
 * and the placeholders for the owner and the pinned commit replaced by values a user writes.
 */
function asWorkflow(block: string): string {
  const filled = block
    .replace(/<owner>/g, 'your-org')
    .replace(/@<commit SHA[^>]*> # (v[\d.]+)/g, '@0123456789abcdef0123456789abcdef01234567 # $1');
  return `name: documented\non: push\npermissions: {}\n${filled}`;
}

describe.each([
  ['README.md', 2],
  ['docs/migrating-from-aws-actions.md', 2],
  ['workflows-examples/README.md', 1],
])('the workflows shown in %s', (file, count) => {
  const blocks = workflowBlocks(file);

  test('are all found', () => {
    expect(blocks).toHaveLength(count);
  });

  test.each(blocks.map((b, i) => [i + 1, b]))('workflow %i passes actionlint', async (_, b) => {
    const findings = await actionlint(asWorkflow(b), file);
    expect(findings.map((f) => `${f.line}:${f.column} ${f.kind}: ${f.message}`)).toEqual([]);
  });

  test.each(blocks.map((b, i) => [i + 1, b]))(
    'workflow %i gives shipkit actions only inputs they have, and reads only outputs they set',
    (_, b) => {
      const wf = asWorkflow(b);
      expect(checkWorkflow(parseWorkflow(wf, join(ROOT, file)), ctx)).toEqual([]);
    },
  );
});

describe('the README quick start', () => {
  const [quickStart] = workflowBlocks('README.md');
  const job = (parse(quickStart) as { jobs: Record<string, Record<string, unknown>> }).jobs.deploy;
  const steps = job.steps as { uses?: string; with?: Record<string, unknown> }[];

  test('records one GitHub Deployment: the job environment, not also ecs-deploy or rollback', () => {
    expect(job.environment).toBeDefined();
    const recording = steps.filter(
      (s) => /\/(ecs-deploy|rollback)@/.test(s.uses ?? '') && s.with?.environment !== undefined,
    );
    expect(recording).toEqual([]);
  });

  test('pins shipkit to a release commit with the tag in a comment', () => {
    const shipkit = [
      ...quickStart.matchAll(/uses: (\S*\/shipkit\/actions\/[^@\s]+@(?:<[^>]*>|\S+))(.*)/g),
    ];
    expect(shipkit.length).toBeGreaterThan(0);
    for (const [, ref, comment] of shipkit) {
      expect(ref).toMatch(/@<commit SHA of v\d+\.\d+\.\d+>$/);
      expect(comment).toMatch(/ # v\d+\.\d+\.\d+$/);
    }
  });

  test('the migration guide it links to exists and is linked', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('(docs/migrating-from-aws-actions.md)');
  });
});
