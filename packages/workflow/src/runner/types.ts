// The runner's public result types and its options, and the state one run shares.
import type { Masker } from '../commands';
import type { ExprValue } from '../expressions';

/** How a job or step ended. */
export type Conclusion = 'success' | 'failure' | 'cancelled' | 'skipped';

/** What the runner reports while it works (for progress lines). */
export type RunnerEvent =
  | { type: 'job-start'; job: string; name: string }
  | { type: 'job-end'; job: string; name: string; result: Conclusion; durationMs: number }
  | { type: 'step-start'; job: string; step: string }
  | {
      type: 'step-end';
      job: string;
      step: string;
      outcome: Conclusion;
      durationMs: number;
      error?: string;
    }
  | {
      type: 'log';
      job: string;
      step: string;
      line: string;
      level?: 'error' | 'warning' | 'notice';
    };

/** Settings of a local run. */
export interface RunnerOptions {
  /** shipkit's repository root: where `actions/<x>/action.yml` and `dist/<x>/` are. */
  root: string;
  /** The repository the workflow runs for (`GITHUB_WORKSPACE`); default `root`. */
  workspace?: string;
  /** Event that triggered the run: `push`, `workflow_dispatch`, `workflow_run`, `schedule`. */
  event: string;
  /** `workflow_dispatch` inputs (`--input k=v`). */
  inputs?: Record<string, string>;
  vars?: Record<string, string>;
  secrets?: Record<string, string>;
  /**
   * Run only these jobs (by id); the others are reported as skipped. Every job a selected job
   * needs must be selected too: the run is refused otherwise.
   */
  jobs?: string[];
  /** Folder for logs, summaries and `run.json`. */
  outDir: string;
  /**
   * Environment that replaces `aws-actions/configure-aws-credentials`: endpoints of the local
   * stand-ins and their credentials (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, …). When absent
   * the step fails instead of reaching AWS.
   */
  awsEnv?: Record<string, string>;
  /**
   * A local URL that `slackapi/slack-github-action` steps POST their payload to instead of
   * Slack, so a local run shows the message it would send. When absent the payload is only
   * written to the step's log.
   */
  slackWebhookUrl?: string;
  /** Extra environment for every step (e.g. `GITHUB_API_URL` of a local fake). */
  env?: Record<string, string>;
  /** Git facts; read from the workspace's git repository when not given. */
  sha?: string;
  ref?: string;
  repository?: string;
  actor?: string;
  /** Payload of a `workflow_run` event's run (merged over a successful run of this commit). */
  workflowRun?: Record<string, ExprValue>;
  onEvent?: (event: RunnerEvent) => void;
  signal?: AbortSignal;
}

/** One step's result. */
export interface StepResult {
  id: string;
  name: string;
  uses?: string;
  /** `main`, or `post` for a post step. */
  stage: 'main' | 'post';
  outcome: Conclusion;
  conclusion: Conclusion;
  outputs: Record<string, string>;
  error?: string;
  annotations: { level: string; text: string }[];
  startedAt: number;
  durationMs: number;
  log: string;
  /** What the local runner did instead of the real action, when it replaced it. */
  replaced?: string;
}

/** One job's result (a matrix instance, or a reusable-workflow job with the called jobs). */
export interface JobResult {
  id: string;
  name: string;
  result: Conclusion;
  outputs: Record<string, string>;
  steps: StepResult[];
  /** Job summary (Markdown) written by its steps. */
  summary: string;
  startedAt: number;
  durationMs: number;
  environment?: string;
  /** For a job that calls a reusable workflow: the called workflow's jobs. */
  called?: { path: string; jobs: JobResult[] };
  matrix?: Record<string, ExprValue>;
  /** Why the job could not run at all (a bad input, a missing reusable workflow). */
  error?: string;
}

/** A whole run. */
export interface WorkflowRun {
  workflow: string;
  path: string;
  event: string;
  /** `skipped` when no job ran. */
  result: Conclusion;
  jobs: JobResult[];
  startedAt: number;
  durationMs: number;
  outDir: string;
}

/** What one run shares between its jobs and steps. */
export interface RunState {
  opts: RunnerOptions;
  root: string;
  workspace: string;
  masker: Masker;
  github: Record<string, ExprValue>;
  eventPath: string;
  runnerTemp: string;
  baseEnv: Record<string, string>;
  cancelled: () => boolean;
}
