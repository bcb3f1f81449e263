// The actions the local runner does not run but replaces with what they mean on this machine,
// one entry per action (by its `owner/name`, any ref). Nothing here reaches AWS or Slack.
import { writeFileSync } from 'node:fs';
import type { StepKindRun, StepOutcome } from '../step';
import { replaceSlack } from './slack';

/** How the runner replaces one action locally. */
export type ReplacedAction = (run: StepKindRun) => StepOutcome | Promise<StepOutcome>;

/** Ends a replaced step with a note saying what was done instead (logged too). */
function replacedBy(
  run: StepKindRun,
  note: string,
  over: Parameters<StepKindRun['done']>[0] = {},
): StepOutcome {
  writeFileSync(run.s.logPath, `${note}\n`);
  return run.done({ replaced: note, ...over });
}

/** The replaced actions, by lower-case `owner/name`. */
export const REPLACED_ACTIONS: Record<string, ReplacedAction> = {
  'actions/checkout': (run) =>
    replacedBy(
      run,
      `replaced locally: the workspace is the local tree ${run.state.workspace}${run.withValues.ref ? ` (ref \`${run.withValues.ref}\` not checked out)` : ''}`,
    ),

  'actions/setup-node': (run) =>
    replacedBy(
      run,
      `replaced locally: using this machine's Node ${process.version} (asked for ${run.withValues['node-version'] || 'the default'})`,
    ),

  'aws-actions/configure-aws-credentials': (run) => {
    const awsEnv = run.state.opts.awsEnv;
    if (!awsEnv || !Object.keys(awsEnv).some((k) => k.startsWith('AWS_ENDPOINT_URL')))
      return run.fail(
        'no local AWS endpoint is configured (set AWS_ENDPOINT_URL to the local stand-in): refusing to reach AWS',
      );
    const region = run.withValues['aws-region'] || awsEnv.AWS_REGION || 'us-east-1';
    const endpoints = Object.entries(awsEnv)
      .filter(([k]) => k.startsWith('AWS_ENDPOINT_URL'))
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    return replacedBy(
      run,
      `replaced locally: instead of assuming ${run.withValues['role-to-assume'] || 'a role'} by OIDC, the AWS SDK points at ${endpoints} in ${region}`,
      {
        envChanges: {
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          ...awsEnv,
          AWS_REGION: region,
          AWS_DEFAULT_REGION: region,
        },
        outputs: { 'aws-account-id': awsEnv.AWS_ACCOUNT_ID ?? '000000000000' },
      },
    );
  },

  'slackapi/slack-github-action': replaceSlack,
};

/** The replaced actions' short names, for messages. */
export function replacedActionNames(): string {
  const names = Object.keys(REPLACED_ACTIONS).map((n) => n.split('/')[1]);
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
