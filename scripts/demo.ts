// `npm run demo`: the example workflows run locally for a sample service, against local-aws,
// s3rver and a throwaway PostgreSQL: in staging an API and its worker as one release, v1's
// database migration run with the API's new revision before it takes traffic; v1 to production, a
// backup, a broken v2 whose worker crashes, rolled back with the API automatically, then a manual
// rollback by workflow_dispatch. Ends with a table of what happened and the path of an HTML page of the run.
// Everything it starts is stopped at the end, also on failure and on Ctrl-C.
import { join, relative, resolve } from 'node:path';
import { runDemo, type DemoStage } from './demo/run';

const root = resolve(__dirname, '..');
// The SDK's notice about its Node 22 requirement from 2027 is not about the demo; keep the
// progress lines readable.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function table(stages: DemoStage[]): string {
  const icon = { passed: '✓', failed: '✗', 'not run': '–' } as const;
  const rows = stages.map((s, i) => [
    `${i + 1}`,
    `${icon[s.verdict]} ${s.verdict}`,
    s.verdict === 'not run' && !s.durationMs ? '' : `${(s.durationMs / 1000).toFixed(1)} s`,
    s.title,
  ]);
  const head = ['#', 'result', 'time', 'stage'];
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]): string =>
    r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(width[c]))).join('  ');
  const out = [line(head), line(width.map((w) => '-'.repeat(w)))];
  stages.forEach((s, i) => {
    out.push(line(rows[i]));
    out.push(`${' '.repeat(width[0] + width[1] + width[2] + 6)}${s.note}`);
  });
  return out.join('\n');
}

async function main(): Promise<void> {
  const controller = new AbortController();
  let interruptedAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    // One Ctrl-C reaches this process more than once (from the terminal, and relayed by npm and
    // tsx): a repeat within a few seconds is the same interrupt. A later one means "now".
    if (interruptedAt !== undefined) {
      if (Date.now() - interruptedAt < 3000) return;
      console.error(
        '\nInterrupted again: exiting without waiting for the clean-up (services may be left running).',
      );
      process.exit(130);
    }
    interruptedAt = Date.now();
    console.error(`\n${signal}: stopping the running step, then cleaning up…`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = join(root, '.tmp', 'demo', stamp);
  console.log(
    [
      'shipkit demo: the example workflows, run locally against local stand-ins.',
      'A sample service ships an API and a worker to staging as one release, migrating its database',
      "with v1's new API revision before v1 takes traffic; v1 goes on to production (with a database",
      'backup); a broken v2, whose worker exits at start, fails in staging and is rolled back with',
      'the API automatically, and never reaches production; then production is rolled back by hand',
      'with the rollback workflow.\n',
    ].join('\n'),
  );
  const result = await runDemo({ root, outDir, signal: controller.signal });
  console.log(`\n${table(result.stages)}\n`);
  for (const problem of result.cleanupProblems) console.log(`clean-up problem: ${problem}`);
  const passed = result.stages.filter((s) => s.verdict === 'passed').length;
  const total = result.durationMs / 1000;
  console.log(
    `${result.ok ? '✓' : '✗'} ${passed} of ${result.stages.length} stages behaved as described; total ${total.toFixed(1)} s${total > 180 ? ' (over the 3-minute target)' : ''}`,
  );
  console.log(`HTML page of the run: ${result.reportPath}`);
  console.log(`Step logs and job summaries: ${relative(process.cwd(), join(outDir, 'runs'))}`);
  process.exit(controller.signal.aborted ? 130 : result.ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(
    `demo error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exit(1);
});
