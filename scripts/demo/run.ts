/**
 * The demo: the example workflows run locally, with the committed action bundles, for the
 * sample service against local stand-ins: in staging an API and its queue worker shipped as one
 * release (the demo's own `workflows/deploy-staging.yml` calling the examples' `deploy.yml`),
 * with v1's database migration run in the API's new revision before it takes traffic and both
 * revisions deployed as registered; v1 to production, a backup, a broken v2 whose worker exits 1
 * at start, which fails the release and takes the API back with it, the production guard that
 * keeps v2 out of production, and a manual rollback by `workflow_dispatch`. Every stage checks
 * what really happened (workflow results, step outcomes, the revisions ECS runs, what the
 * listener answers over HTTP); a stage that cannot run says why. */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import {
  CreateBucketCommand,
  ListObjectsV2Command,
  S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import {
  runWorkflow,
  type JobResult,
  type RunnerEvent,
  type StepResult,
  type WorkflowRun,
} from '../../packages/workflow/src/runner';
import { ensureImageBuilder, type ImageBuilder } from './builder';
import { Cleanup } from './cleanup';
import { renderDemoPage, type PageStage } from './report';
import { watchRollouts, type WatchedRollout } from './watch-rollouts';
import {
  currentTaskDefinition,
  describeTask,
  logLinesWith,
  provision,
  revisionsOf,
  serviceDeployment,
  servedVersion,
  type Environment,
} from './infra';
import { createSampleRepo, type SampleRepo } from './sample-repo';
import {
  startAws,
  startPostgres,
  startS3,
  Unavailable,
  type DemoPostgres,
  type DemoS3,
} from './services';

/** Settings of a demo run. */
export interface DemoOptions {
  /** shipkit's repository root. */
  root: string;
  /** Folder for the HTML page and the step logs (kept after the run). */
  outDir: string;
  /** Ctrl-C: the running step is stopped, then everything is cleaned up. */
  signal?: AbortSignal;
  /** Receives progress lines. */
  print?: (line: string) => void;
  /** local-aws time scale (health-check intervals, bake and draining run this much faster). */
  timeScale?: number;
  /** Folder of the workflows to run; default the repository's `workflows-examples`. */
  workflowsDir?: string;
}

/** One stage's outcome, for the final table and the page. */
export interface DemoStage extends PageStage {
  durationMs: number;
}

/** The whole demo's outcome. */
export interface DemoResult {
  /** True when every stage behaved as the story says. */
  ok: boolean;
  stages: DemoStage[];
  reportPath: string;
  durationMs: number;
  /** Problems met while stopping services (empty when everything was cleaned up). */
  cleanupProblems: string[];
}

/** A stage's check did not hold: the demo did not behave as described. */
class Expectation extends Error {
  override name = 'Expectation';
}

function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Expectation(message);
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function allJobs(run: WorkflowRun): JobResult[] {
  const flat = (jobs: JobResult[]): JobResult[] =>
    jobs.flatMap((j) => (j.called ? [j, ...flat(j.called.jobs)] : [j]));
  return flat(run.jobs);
}

function step(run: WorkflowRun, name: string): StepResult | undefined {
  for (const job of allJobs(run)) {
    const found = job.steps.find((s) => s.name === name || s.id === name);
    if (found) return found;
  }
  return undefined;
}

function failedSteps(run: WorkflowRun): string {
  const failed = allJobs(run).flatMap((j) =>
    j.error
      ? [`${j.id}: ${j.error}`]
      : j.steps
          .filter((s) => s.outcome === 'failure')
          .map((s) => `${s.name}: ${s.error ?? 'failed'}`),
  );
  return failed.length ? failed.join('; ') : 'no step failed';
}

const shortSha = (sha: string): string => sha.slice(0, 7);

/** The demo's own workflows (what the sample repository has beside the examples' deploy.yml). */
const DEMO_WORKFLOWS = join(__dirname, 'workflows');

/** One service's line of ecs-deploy's `services` output. */
interface ReleasedService {
  status: string;
  'task-definition-arn': string;
  'previous-task-definition-arn': string;
  reason: string;
}

/** ecs-deploy's `services` output of a step, by service (empty when it has none). */
function releaseOf(result: StepResult | undefined): Record<string, ReleasedService> {
  const text = result?.outputs.services;
  return text ? (JSON.parse(text) as Record<string, ReleasedService>) : {};
}

/** `family:revision` of a task definition ARN. */
const shortRevision = (arn: string | undefined): string => arn?.split('/').pop() ?? '(none)';
/** The family of a task definition ARN. */
const familyOf = (arn: string): string => shortRevision(arn).replace(/:\d+$/, '');

/** Runs the demo; never throws for a stage failure (it is in the result), only for bugs. */
export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const print = opts.print ?? ((line: string): void => console.log(line));
  const started = Date.now();
  const cleanup = new Cleanup();
  const work = mkdtempSync(join(tmpdir(), 'shipkit-demo-'));
  cleanup.add('temporary directory', () => rmSync(work, { recursive: true, force: true }));
  mkdirSync(opts.outDir, { recursive: true });
  // The sample repository's workflows folder: the demo's release workflow beside a copy of the
  // examples' reusable deploy.yml, which it calls as `./.github/workflows/deploy.yml`.
  const releaseWorkflows = join(work, 'workflows');
  mkdirSync(releaseWorkflows);
  for (const file of readdirSync(DEMO_WORKFLOWS))
    copyFileSync(join(DEMO_WORKFLOWS, file), join(releaseWorkflows, file));
  copyFileSync(
    join(opts.workflowsDir ?? join(opts.root, 'workflows-examples'), 'deploy.yml'),
    join(releaseWorkflows, 'deploy.yml'),
  );
  const stages: DemoStage[] = [];
  const fixture = join(opts.root, 'test', 'fixtures', 'sample-image');
  let runCount = 0;

  // What the stages share, filled in as they run.
  let aws: { endpoint: string } | undefined;
  let s3: DemoS3 | undefined;
  let pg: DemoPostgres | undefined;
  let builder: ImageBuilder | undefined;
  let envs: Record<'staging' | 'production', Environment> | undefined;
  let repo: SampleRepo | undefined;
  const bucket = 'shipkit-demo-backups';
  const releases: Record<
    string,
    { sha: string; taskDefinition?: string; workerTaskDefinition?: string }
  > = {};
  let lastStaging: WorkflowRun | undefined;
  const timeScale = opts.timeScale ?? 60;
  // Production's blue/green deployments, watched from outside the pipeline for the page.
  let watcher: { stop: () => Promise<WatchedRollout[]> } | undefined;
  let rollouts: WatchedRollout[] = [];
  const stopWatching = async (): Promise<void> => {
    const w = watcher;
    watcher = undefined;
    if (w) rollouts = await w.stop();
  };

  const workflow = async (
    file: string,
    settings: {
      event: string;
      inputs?: Record<string, string>;
      vars: Record<string, string>;
      workflowRun?: Record<string, string>;
    },
  ): Promise<WorkflowRun> => {
    runCount++;
    const outDir = join(
      opts.outDir,
      'runs',
      `${String(runCount).padStart(2, '0')}-${basename(file).replace(/\.yml$/, '')}`,
    );
    const onEvent = (e: RunnerEvent): void => {
      if (e.type === 'step-end' && e.outcome !== 'skipped')
        print(
          `      ${e.outcome === 'success' ? '✓' : e.outcome === 'failure' ? '✗' : '⊘'} ${e.job.split('/').pop()} › ${e.step} (${seconds(e.durationMs)})`,
        );
      else if (e.type === 'job-end' && e.result === 'skipped' && !e.job.includes('/'))
        print(`      – job ${e.name}`);
    };
    const run = await runWorkflow(
      isAbsolute(file)
        ? file
        : join(opts.workflowsDir ?? join(opts.root, 'workflows-examples'), file),
      {
        root: opts.root,
        workspace: repo!.dir,
        repository: 'acme/sample-service',
        actor: 'newcomer',
        event: settings.event,
        inputs: settings.inputs,
        vars: settings.vars,
        secrets: { DATABASE_URL: pg!.url('app') },
        workflowRun: settings.workflowRun,
        outDir,
        awsEnv: {
          AWS_ENDPOINT_URL: aws!.endpoint,
          AWS_REGION: 'us-east-1',
          // s3rver checks signatures against its own key; local-aws accepts any well-formed one.
          AWS_ACCESS_KEY_ID: 'S3RVER',
          AWS_SECRET_ACCESS_KEY: 'S3RVER',
          ...s3!.env,
        },
        env: { ...builder!.env },
        onEvent,
        signal: opts.signal,
      },
    );
    return run;
  };

  const deployVars = (): Record<string, string> => ({
    AWS_ROLE_ARN: 'arn:aws:iam::000000000000:role/shipkit-deploy',
    STAGING_URL: envs!.staging.url,
    STAGING_GATE_OBSERVE: '5s',
    STAGING_GATE_TIMEOUT: '30s',
    STAGING_ECR_REPOSITORY: envs!.staging.repository,
    PRODUCTION_URL: envs!.production.url,
    PRODUCTION_GATE_OBSERVE: '5s',
    PRODUCTION_GATE_TIMEOUT: '30s',
    PRODUCTION_ALARMS: '',
    BACKUP_BUCKET: bucket,
  });

  const tableExists = (table: string): boolean =>
    pg!.sql('app', `SELECT to_regclass('public.${table}') IS NOT NULL`) === 't';

  const listBackups = async (): Promise<_Object[]> => {
    const client = new S3Client({
      endpoint: s3!.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    try {
      return (await client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [];
    } finally {
      client.destroy();
    }
  };

  type Body = (runs: WorkflowRun[]) => Promise<string>;
  // `needs`: the stages (by id) that must have passed for this one to make sense.
  const plan: { id: string; title: string; needs: string[]; body: Body }[] = [
    {
      id: 'start',
      title: 'Start local AWS, S3 and PostgreSQL',
      needs: [],
      body: async () => {
        aws = await startAws(cleanup, timeScale, join(work, 'local-aws'));
        s3 = await startS3(cleanup);
        pg = await startPostgres(cleanup);
        pg.sql('postgres', 'CREATE DATABASE app');
        pg.sql(
          'app',
          `CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL, placed_at timestamptz NOT NULL);
           INSERT INTO orders SELECT g, 'item-' || g, now() - g * interval '1 minute' FROM generate_series(1, 5000) g;`,
        );
        const client = new S3Client({
          endpoint: s3.endpoint,
          region: 'us-east-1',
          forcePathStyle: true,
          credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        });
        await client
          .send(new CreateBucketCommand({ Bucket: bucket }))
          .finally(() => client.destroy());
        builder = ensureImageBuilder(work, cleanup);
        return `local-aws at ${aws.endpoint} (timers ×${timeScale}), s3rver, PostgreSQL 5,000 orders; image builder: ${builder.note}`;
      },
    },
    {
      id: 'infra',
      title: 'Create clusters, services and load balancers (as Terraform would)',
      needs: ['start'],
      body: async () => {
        const list = await provision(aws!.endpoint, pg!.url('app'));
        envs = { staging: list[0], production: list[1] };
        watcher = watchRollouts({
          endpoint: aws!.endpoint,
          environment: envs.production.name,
          cluster: envs.production.cluster,
          service: envs.production.service,
        });
        cleanup.add('deployment watcher', stopWatching);
        for (const env of list) {
          const version = await servedVersion(env);
          expect(
            version === 'v0',
            `${env.name} should serve the bootstrap release v0, it answers ${version}`,
          );
        }
        repo = createSampleRepo(join(work, 'sample-service'), fixture);
        return `staging (rolling) at ${envs.staging.url}, production (blue/green) at ${envs.production.url}, both serving the bootstrap release v0`;
      },
    },
    {
      id: 'v1-staging',
      title:
        'v1: push to main → deploy-staging (test, build, migrate before traffic, API + worker as one release, gate)',
      needs: ['infra'],
      body: async (runs) => {
        const env = envs!.staging;
        const worker = env.worker!;
        const sha = repo!.commit(
          'v1',
          { healthy: true, worker: 'up' },
          'v1: first release, with an invoices table',
        );
        releases.v1 = { sha };
        expect(
          !tableExists('invoices'),
          'the invoices table should not exist before the migration',
        );
        const run = await workflow(join(releaseWorkflows, 'deploy-staging.yml'), {
          event: 'push',
          vars: deployVars(),
        });
        runs.push(run);
        lastStaging = run;
        expect(run.result === 'success', `deploy-staging failed: ${failedSteps(run)}`);
        // Registered once, before the migration: one revision per service for v1.
        const registered = releaseOf(step(run, 'register'));
        for (const s of [env.service, worker.service])
          expect(
            !!registered[s]?.['task-definition-arn'],
            `ecs-deploy (deploy: false) should have registered a revision of ${s}`,
          );
        const apiRevision = registered[env.service]['task-definition-arn'];
        const workerRevision = registered[worker.service]['task-definition-arn'];
        const migrate = step(run, 'migrate');
        expect(
          migrate?.outputs.status === 'succeeded',
          `the migration should have exited 0: ${migrate?.outputs.reason ?? migrate?.error ?? 'it did not run'}`,
        );
        const task = await describeTask(aws!.endpoint, env.cluster, migrate.outputs['task-arns']);
        expect(
          task.taskDefinitionArn === apiRevision && task.lastStatus === 'STOPPED',
          `the migration task should have run ${apiRevision} and stopped; it ran ${task.taskDefinitionArn} and is ${task.lastStatus}`,
        );
        const lines = readFileSync(migrate.log, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('migrate: '));
        expect(
          lines.some((l) => l.includes('applying 0001_create_invoices')),
          `the step log should show the migration's lines, it has ${lines.length}`,
        );
        const columns = pg!
          .sql(
            'app',
            "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'invoices'",
          )
          .trim();
        expect(!!columns, 'the invoices table should exist after the migration');
        // Deployed as registered: the revisions the migration ran with, no second registration.
        const deployed = releaseOf(step(run, 'deploy'));
        for (const [s, revision] of [
          [env.service, apiRevision],
          [worker.service, workerRevision],
        ] as const) {
          expect(
            deployed[s]?.status === 'succeeded' && deployed[s]['task-definition-arn'] === revision,
            `${s} should have been deployed on ${revision} as registered; ecs-deploy says ${deployed[s]?.status} on ${deployed[s]?.['task-definition-arn']}`,
          );
        }
        const revisions = {
          api: await revisionsOf(aws!.endpoint, familyOf(apiRevision)),
          worker: await revisionsOf(aws!.endpoint, familyOf(workerRevision)),
        };
        expect(
          revisions.api.length === 2 && revisions.worker.length === 2,
          `v1 should have registered one revision per service; the families hold ${revisions.api.map(shortRevision).join(', ')} and ${revisions.worker.map(shortRevision).join(', ')}`,
        );
        // Traffic moved to v1 only after the migration had ended.
        const api = await serviceDeployment(aws!.endpoint, env.cluster, env.service);
        expect(
          api.taskDefinition === apiRevision &&
            !!task.stoppedAt &&
            !!api.deployedAt &&
            api.deployedAt >= task.stoppedAt,
          `staging's API should have moved to ${apiRevision} after the migration stopped (${task.stoppedAt?.toISOString()}); it runs ${api.taskDefinition} since ${api.deployedAt?.toISOString()}`,
        );
        const workerNow = await currentTaskDefinition(aws!.endpoint, env, worker.service);
        expect(
          workerNow === workerRevision,
          `the worker should run ${workerRevision}, it runs ${workerNow}`,
        );
        const gate = step(run, 'gate');
        expect(gate?.outcome === 'success', `the API's health gate should have passed`);
        const version = await servedVersion(env);
        expect(version === 'v1', `staging's listener should answer v1, it answers ${version}`);
        releases.v1.taskDefinition = apiRevision;
        releases.v1.workerTaskDefinition = workerRevision;
        return [
          `Commit ${shortSha(sha)}: app and worker images built, one revision each registered (${shortRevision(apiRevision)}, ${shortRevision(workerRevision)}).`,
          `The migration ran \`node /app/migrate.js\` in ${shortRevision(apiRevision)} and exited 0 before the release took traffic (log: ${lines.map((l) => l.slice('migrate: '.length)).join(' | ')}); table invoices (${columns}) exists.`,
          `Deployed the migrated revisions ${shortRevision(apiRevision)} and ${shortRevision(workerRevision)} as registered, as one release: the API gated on /health, the worker by its rollout; staging answers v1.`,
        ].join(' ');
      },
    },
    {
      id: 'v1-production',
      title: 'v1: staging green → deploy-production (promote, backup, blue/green, gate)',
      needs: ['v1-staging'],
      body: async (runs) => {
        const run = await workflow('deploy-production.yml', {
          event: 'workflow_run',
          vars: deployVars(),
          workflowRun: { conclusion: lastStaging!.result, head_sha: releases.v1.sha },
        });
        runs.push(run);
        expect(run.result === 'success', `deploy-production failed: ${failedSteps(run)}`);
        const image = step(run, 'image');
        expect(
          image?.outputs.action === 'promoted',
          `the staging image should have been promoted, the step says \`${image?.outputs.action}\``,
        );
        const backup = step(run, 'backup');
        expect(backup?.outcome === 'success', 'the pre-deploy backup did not run');
        const version = await servedVersion(envs!.production);
        expect(version === 'v1', `production's listener should answer v1, it answers ${version}`);
        return `staging's image promoted by digest (no rebuild), database backed up (${backup.outputs.bytes ?? '?'} bytes), blue/green deployment shifted traffic; production answers v1`;
      },
    },
    {
      id: 'backup',
      title: 'Nightly database backup, run on demand (workflow_dispatch)',
      needs: ['infra'],
      body: async (runs) => {
        const before = (await listBackups()).length;
        const run = await workflow('db-backup-nightly.yml', {
          event: 'workflow_dispatch',
          inputs: { environment: 'production' },
          vars: {
            AWS_BACKUP_ROLE_ARN: 'arn:aws:iam::000000000000:role/shipkit-backup',
            BACKUP_BUCKET: bucket,
          },
        });
        runs.push(run);
        expect(run.result === 'success', `db-backup-nightly failed: ${failedSteps(run)}`);
        const objects = await listBackups();
        expect(
          objects.length > before,
          `no new backup object in s3://${bucket} (${objects.length} there)`,
        );
        const newest = objects.sort(
          (a, b) => (b.LastModified?.getTime() ?? 0) - (a.LastModified?.getTime() ?? 0),
        )[0];
        return `${objects.length} backups in s3://${bucket}, newest ${newest.Key} (${newest.Size} bytes), verified by listing`;
      },
    },
    {
      id: 'v2-staging',
      title:
        'v2 (the worker exits 1 at start): deploy-staging → release fails → API and worker rolled back',
      needs: ['v1-staging'],
      body: async (runs) => {
        const env = envs!.staging;
        const worker = env.worker!;
        const sha = repo!.commit(
          'v2',
          { healthy: true, worker: 'crash' },
          'v2: a release whose worker exits 1 at start',
        );
        releases.v2 = { sha };
        const run = await workflow(join(releaseWorkflows, 'deploy-staging.yml'), {
          event: 'push',
          vars: deployVars(),
        });
        runs.push(run);
        lastStaging = run;
        expect(
          run.result === 'failure',
          `deploy-staging should have failed on the broken v2, it ended ${run.result}`,
        );
        const deploy = step(run, 'deploy');
        expect(
          deploy?.outcome === 'failure' && deploy.outputs.status === 'rolled-back',
          `the release should have failed and been rolled back, ecs-deploy ended ${deploy?.outcome ?? 'not run'} (${deploy?.outputs.status ?? 'no status'})`,
        );
        const reason = deploy.outputs.reason ?? '';
        expect(
          reason.includes(worker.service),
          `the release's reason should name the worker: ${reason}`,
        );
        const release = releaseOf(deploy);
        for (const s of [env.service, worker.service])
          expect(
            release[s]?.status === 'rolled-back',
            `${s} should be rolled back, ecs-deploy says ${release[s]?.status}`,
          );
        const gate = step(run, 'gate');
        expect(
          !gate || gate.outcome === 'skipped',
          `the gate should not have run after the failed release, it ended ${gate?.outcome}`,
        );
        const now = {
          api: await currentTaskDefinition(aws!.endpoint, env),
          worker: await currentTaskDefinition(aws!.endpoint, env, worker.service),
        };
        expect(
          now.api === releases.v1.taskDefinition && now.worker === releases.v1.workerTaskDefinition,
          `staging should run v1's ${releases.v1.taskDefinition} and ${releases.v1.workerTaskDefinition}, it runs ${now.api} and ${now.worker}`,
        );
        const version = await servedVersion(env);
        expect(
          version === 'v1',
          `staging's listener should answer v1 again, it answers ${version}`,
        );
        // Why the worker exited: its own last words, from CloudWatch Logs.
        const said = await logLinesWith(
          aws!.endpoint,
          `/ecs/${worker.repository}`,
          'worker v2: cannot start',
        );
        expect(
          said.length > 0,
          `the worker's log in /ecs/${worker.repository} should say why it exited`,
        );
        return [
          `The release failed on the worker, so the API was taken back too.`,
          `ecs-deploy: ${reason}`,
          `The worker's log says: ${said[0].trim()}.`,
          `Both services are back on v1's revisions (app on ${shortRevision(now.api)}, worker on ${shortRevision(now.worker)}); the gate did not run; staging answers v1.`,
        ].join(' ');
      },
    },
    {
      id: 'v2-held',
      title: 'v2 never reaches production (deploy-production after a failed staging run)',
      needs: ['v1-production', 'v2-staging'],
      body: async (runs) => {
        const run = await workflow('deploy-production.yml', {
          event: 'workflow_run',
          vars: deployVars(),
          workflowRun: { conclusion: lastStaging!.result, head_sha: releases.v2.sha },
        });
        runs.push(run);
        const job = run.jobs[0];
        expect(
          job?.result === 'skipped',
          `the production deploy job should be skipped, it ended ${job?.result}`,
        );
        const version = await servedVersion(envs!.production);
        expect(
          version === 'v1',
          `production's listener should still answer v1, it answers ${version}`,
        );
        return `the deploy job's \`if:\` saw staging's conclusion \`${lastStaging!.result}\` and skipped; production still answers v1`;
      },
    },
    {
      id: 'manual-rollback',
      title: 'Manual rollback of production by workflow_dispatch (rollback.yml, version: previous)',
      needs: ['v1-production'],
      body: async (runs) => {
        const env = envs!.production;
        const run = await workflow('rollback.yml', {
          event: 'workflow_dispatch',
          inputs: {
            environment: 'production',
            version: 'previous',
            reason: 'rehearsing a production rollback',
          },
          vars: {
            AWS_ROLE_ARN: 'arn:aws:iam::000000000000:role/shipkit-deploy',
            ECS_CLUSTER: env.cluster,
            ECS_SERVICE: env.service,
            URL: env.url,
            ROLLBACK_GATE_OBSERVE: '5s',
            ROLLBACK_GATE_TIMEOUT: '30s',
          },
        });
        runs.push(run);
        expect(run.result === 'success', `rollback.yml failed: ${failedSteps(run)}`);
        const rollback = step(run, 'rollback');
        expect(
          rollback?.outputs.status === 'succeeded',
          `the rollback should report succeeded, it says \`${rollback?.outputs.status}\``,
        );
        const now = await currentTaskDefinition(aws!.endpoint, env);
        expect(
          now === env.bootstrapTaskDefinition,
          `production should run the release before v1 (${env.bootstrapTaskDefinition}), it runs ${now}`,
        );
        const version = await servedVersion(env);
        expect(version === 'v0', `production's listener should answer v0, it answers ${version}`);
        return `production back on the release before v1 (${rollback.outputs.method}), gated healthy; it answers v0`;
      },
    },
  ];

  try {
    for (const [i, { title, needs, body }] of plan.entries()) {
      const label = `[${i + 1}/${plan.length}] ${title}`;
      const missing = needs
        .map((id) => plan.findIndex((p) => p.id === id))
        .filter((n) => stages[n]?.verdict !== 'passed');
      if (opts.signal?.aborted || missing.length) {
        const note = opts.signal?.aborted
          ? 'not run: cancelled (Ctrl-C)'
          : `not run: it needs stage ${missing.map((n) => n + 1).join(' and ')}, which did not pass`;
        stages.push({ title, verdict: 'not run', note, runs: [], durationMs: 0 });
        print(`– ${label}\n  ${note}`);
        continue;
      }
      print(`▶ ${label}`);
      const t0 = Date.now();
      const runs: WorkflowRun[] = [];
      try {
        const note = await body(runs);
        if (opts.signal?.aborted) throw new Error('cancelled (Ctrl-C)');
        stages.push({
          title,
          verdict: 'passed',
          note,
          runs,
          startedAt: t0,
          durationMs: Date.now() - t0,
        });
        print(`  ✓ ${note} (${seconds(Date.now() - t0)})`);
      } catch (error) {
        const e = error as Error;
        const notRun = e instanceof Unavailable || !!opts.signal?.aborted;
        const note = opts.signal?.aborted
          ? 'cancelled (Ctrl-C) while it ran'
          : notRun
            ? `could not run: ${e.message}`
            : e instanceof Expectation
              ? e.message
              : `${e.name}: ${e.message}`;
        stages.push({
          title,
          verdict: notRun ? 'not run' : 'failed',
          note,
          runs,
          startedAt: t0,
          durationMs: Date.now() - t0,
        });
        print(`  ${notRun ? '–' : '✗'} ${note} (${seconds(Date.now() - t0)})`);
      }
    }
  } finally {
    print('▶ Stopping everything and cleaning up');
  }
  await stopWatching();
  const cleanupProblems = await cleanup.run();
  const reportPath = join(opts.outDir, 'index.html');
  writeFileSync(
    reportPath,
    renderDemoPage({
      title: 'shipkit demo: the pipeline, run locally',
      stages,
      timeScale,
      rollouts,
      generatedAt: new Date(),
    }),
  );
  return {
    ok: stages.every((s) => s.verdict === 'passed') && !cleanupProblems.length,
    stages,
    reportPath,
    durationMs: Date.now() - started,
    cleanupProblems,
  };
}
