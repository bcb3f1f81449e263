// `npm run workflow -- <file> [--event push|workflow_dispatch|workflow_run|schedule]
//   [--input k=v]… [--var k=v]… [--secret k=v]… [--job id]… [--workspace dir] [--out dir]
//   [--slack-webhook url] [--verbose]`
// Runs a workflow's jobs on this machine with the local runner (packages/workflow). shipkit's
// actions run their committed bundles; `aws-actions/configure-aws-credentials` is replaced by
// the AWS_* settings of this shell (AWS_ENDPOINT_URL of the local stand-in and its credentials).
//
// Paths are taken from the directory the command was started in (npm's INIT_CWD), which is also
// the workspace the jobs run in (`GITHUB_WORKSPACE`, where `run:` steps start) unless
// `--workspace dir` names another: run it from the repository whose workflow it is, e.g.
// `npm --prefix ../shipkit run workflow -- .github/workflows/deploy-staging.yml`.
// `--job id` runs only that job (repeatable); the jobs it needs must be selected too.
// `slackapi/slack-github-action` steps POST their payload to `--slack-webhook url` (default: the
// LOCAL_SLACK_WEBHOOK_URL variable) instead of Slack; without one the payload is only logged.
import { join, resolve } from 'node:path';
import { loadWorkflow } from '../packages/workflow/src/model';
import { runWorkflow, type RunnerEvent } from '../packages/workflow/src/runner';

const root = resolve(__dirname, '..');
/** Where the command was started: npm runs scripts in the package root and keeps it in INIT_CWD. */
const startedIn = process.env.INIT_CWD ?? process.cwd();

function usage(message?: string): never {
  if (message) console.error(`error: ${message}`);
  console.error(
    [
      'usage: npm run workflow -- <file> [--event push|workflow_dispatch|workflow_run|schedule] [--input k=v] [--var k=v] [--secret k=v] [--job id] [--workspace dir] [--out dir] [--slack-webhook url] [--verbose]',
      '  <file>            the workflow, relative to the directory the command was started in',
      '  --workspace dir   the repository the jobs run in (GITHUB_WORKSPACE); default: the directory the command was started in',
      '  --job id          run only this job (repeatable); the jobs it needs must be selected too',
      '  --out dir         where step logs, job summaries and run.json go; default: .tmp/workflow-runs/ in shipkit',
      '  --slack-webhook url   where Slack action steps POST their payload instead of Slack; default: $LOCAL_SLACK_WEBHOOK_URL',
    ].join('\n'),
  );
  process.exit(2);
}

function pair(text: string | undefined, flag: string): [string, string] {
  const at = text?.indexOf('=') ?? -1;
  if (!text || at <= 0) usage(`${flag} takes name=value, got \`${text ?? ''}\``);
  return [text.slice(0, at), text.slice(at + 1)];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let file: string | undefined;
  let event: string | undefined;
  let workspace: string | undefined;
  let out: string | undefined;
  let verbose = false;
  let slackWebhookUrl = process.env.LOCAL_SLACK_WEBHOOK_URL || undefined;
  const inputs: Record<string, string> = {};
  const vars: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  const jobs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = (): string => args[++i] ?? usage(`${a} needs a value`);
    if (a === '--event') event = next();
    else if (a === '--input') Object.assign(inputs, Object.fromEntries([pair(next(), a)]));
    else if (a === '--var') Object.assign(vars, Object.fromEntries([pair(next(), a)]));
    else if (a === '--secret') Object.assign(secrets, Object.fromEntries([pair(next(), a)]));
    else if (a === '--job') jobs.push(next());
    else if (a === '--workspace') workspace = resolve(startedIn, next());
    else if (a === '--out') out = resolve(startedIn, next());
    else if (a === '--slack-webhook') slackWebhookUrl = next();
    else if (a === '--verbose') verbose = true;
    else if (a === '--help' || a === '-h') usage();
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (!file) file = a;
    else usage(`unexpected argument ${a}`);
  }
  if (!file) usage('no workflow file given');
  file = resolve(startedIn, file);
  workspace ??= startedIn;
  const wf = loadWorkflow(file);
  const events = Object.keys(wf.on);
  event ??= ['push', 'workflow_dispatch'].find((e) => events.includes(e)) ?? events[0];
  const outDir =
    out ??
    join(
      root,
      '.tmp',
      'workflow-runs',
      `${(wf.name ?? 'workflow').replace(/[^\w-]+/g, '-')}-${Date.now()}`,
    );
  const awsEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('AWS_') && v) awsEnv[k] = v;

  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(130);
    console.log('\nCancelling: the running step gets SIGTERM…');
    controller.abort();
  });

  const icon = { success: '✓', failure: '✗', cancelled: '⊘', skipped: '–' } as const;
  const onEvent = (e: RunnerEvent): void => {
    if (e.type === 'job-start') console.log(`\n● job ${e.job}: ${e.name}`);
    else if (e.type === 'job-end' && e.result === 'skipped')
      console.log(`– job ${e.job}: ${e.name}`);
    else if (e.type === 'job-end')
      console.log(
        `${icon[e.result]} job ${e.job} ${e.result} (${(e.durationMs / 1000).toFixed(1)} s)`,
      );
    else if (e.type === 'step-end')
      console.log(
        `  ${icon[e.outcome]} ${e.step} (${(e.durationMs / 1000).toFixed(1)} s)${e.error ? `\n      ${e.error.split('\n').join('\n      ')}` : ''}`,
      );
    else if (e.type === 'log' && (verbose || e.level === 'warning')) console.log(`      ${e.line}`);
  };
  console.log(`Running ${wf.name ?? file} on \`${event}\` locally in ${workspace}`);
  const run = await runWorkflow(file, {
    root,
    workspace,
    event,
    inputs,
    vars,
    secrets,
    jobs: jobs.length ? jobs : undefined,
    outDir,
    awsEnv: Object.keys(awsEnv).length ? awsEnv : undefined,
    slackWebhookUrl,
    onEvent,
    signal: controller.signal,
  });
  console.log(
    run.result === 'skipped'
      ? `\n${icon.skipped} ${run.workflow}: skipped (no job ran: see each job's reason above)`
      : `\n${icon[run.result]} ${run.workflow}: ${run.result} in ${(run.durationMs / 1000).toFixed(1)} s`,
  );
  console.log(`Step logs and job summaries: ${run.outDir}`);
  // A run whose jobs were all skipped did not fail (GitHub shows it as skipped, not red).
  process.exit(run.result === 'success' || run.result === 'skipped' ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
