import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

// The first step of the example deploy workflow decides between one service and a release of
// several, and refuses a mix of the two forms before anything is built or called. Its script
// and the rollback planner are run here in bash as the runner runs them.
const ROOT = join(__dirname, '..', '..', '..');

interface Step {
  id?: string;
  run?: string;
  env?: Record<string, string>;
}
const steps = (
  parse(readFileSync(join(ROOT, 'workflows-examples', 'deploy.yml'), 'utf8')) as {
    jobs: { deploy: { steps: Step[] } };
  }
).jobs.deploy.steps;
const script = (id: string): Step => steps.find((s) => s.id === id)!;

/** Runs a step's script with `env`; returns its outputs, or its error annotation. */
function runStep(id: string, env: Record<string, string>): Record<string, string> | string {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-plan-'));
  try {
    const output = join(dir, 'output');
    const run = spawnSync('bash', ['-e', '-c', script(id).run!], {
      env: { PATH: process.env.PATH, GITHUB_OUTPUT: output, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(run.stderr).toBe('');
    if (run.status !== 0) return run.stdout.trim();
    const outputs: Record<string, string> = {};
    const lines = readFileSync(output, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const heredoc = /^([\w-]+)<<(.+)$/.exec(lines[i]);
      const single = /^([\w-]+)=(.*)$/.exec(lines[i]);
      if (heredoc) {
        const end = lines.indexOf(heredoc[2], i + 1);
        outputs[heredoc[1]] = lines.slice(i + 1, end).join('\n');
        i = end;
      } else if (single) outputs[single[1]] = single[2];
    }
    return outputs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const one = { SERVICE: 'app', CONTAINER: 'app', REPOSITORY: 'app', URL: 'https://app.example.com' };
const several = {
  SERVICE: 'api\nworker\n',
  IMAGES: 'api@shop/api=api\nworker@shop/worker=worker',
  HEALTH_CHECKS: '- url: https://api.example.com/health',
};

describe('the release plan', () => {
  test('passes every input it reads from the workflow', () => {
    expect(Object.keys(script('plan').env ?? {}).sort()).toEqual(
      [
        'CONTAINER',
        'HEALTH_CHECKS',
        'IMAGES',
        'MIGRATE_SERVICE',
        'PROMOTE_FROM',
        'REPOSITORY',
        'SERVICE',
        'URL',
      ].sort(),
    );
  });

  test.each<[string, Record<string, string>, Record<string, string>]>([
    [
      'one service is gated on its URL and migrates in itself',
      one,
      { several: 'false', gate: 'true', 'migrate-service': 'app' },
    ],
    [
      'several services are gated when a health check is given, and migrate in the first by default',
      several,
      { several: 'true', gate: 'true', 'migrate-service': 'api' },
    ],
    [
      'several services with no URL at all (workers) are not probed',
      { ...several, HEALTH_CHECKS: '' },
      { several: 'true', gate: 'false', 'migrate-service': 'api' },
    ],
    [
      'the migration runs in the service named for it',
      { ...several, MIGRATE_SERVICE: 'worker' },
      { several: 'true', gate: 'true', 'migrate-service': 'worker' },
    ],
    [
      'several services may promote tested images with promote-from lines instead of building',
      {
        ...several,
        IMAGES: '',
        PROMOTE_FROM:
          'api@shop/api-prod=shop/api-staging:abc\nworker@shop/worker-prod=shop/worker-staging:abc',
      },
      { several: 'true', gate: 'true', 'migrate-service': 'api' },
    ],
    [
      'one service promotes one image reference',
      { ...one, PROMOTE_FROM: 'app-staging:abc' },
      { several: 'false', gate: 'true', 'migrate-service': 'app' },
    ],
  ])('%s', (_what, env, outputs) => {
    expect(runStep('plan', env)).toEqual(outputs);
  });

  test.each<[string, Record<string, string>, string]>([
    [
      'one service without its URL',
      { ...one, URL: '' },
      'Input `url` is required with one service.',
    ],
    [
      'one service without its container',
      { ...one, CONTAINER: '' },
      'Input `container` is required with one service.',
    ],
    [
      'one service with the images of a release',
      { ...one, IMAGES: 'app@app=.' },
      'Inputs `images` and `health-checks` are for several services',
    ],
    ['several services without images', { ...several, IMAGES: '' }, 'Input `images` is needed'],
    [
      'several services with one container',
      { ...several, CONTAINER: 'api' },
      'Input `container` is for one service',
    ],
    [
      'several services that both build and promote',
      { ...several, PROMOTE_FROM: 'api@shop/api-prod=shop/api-staging:abc' },
      'Inputs `images` and `promote-from` cannot be used together',
    ],
    [
      'one service promoted with the lines of a release',
      { ...one, PROMOTE_FROM: 'app@app-prod=app-staging:abc' },
      'Input `promote-from` is one image reference with one service',
    ],
    [
      'several services promoted from one image',
      { ...several, PROMOTE_FROM: 'staging/api:abc' },
      'Input `promote-from` is for one service',
    ],
    [
      'a migration in a service the release does not deploy',
      { ...several, MIGRATE_SERVICE: 'web' },
      'Input `migrate-service` names `web`, which is not one of the services in `service`.',
    ],
  ])('refuses %s, naming the input', (_what, env, message) => {
    const result = runStep('plan', env);
    expect(typeof result).toBe('string');
    expect(result).toContain(`::error::${message}`);
  });
});

describe('the rollback of a release after a failed gate', () => {
  const arn = (family: string, n: number): string =>
    `arn:aws:ecs:eu-west-1:111122223333:task-definition/${family}:${n}`;
  const entry = (status: string, family: string, from: number, to: number): object => ({
    status,
    'task-definition-arn': arn(family, to),
    'previous-task-definition-arn': arn(family, from),
    reason: '',
  });

  test.each<[string, Record<string, object>, { service: string; 'task-definition': string }]>([
    [
      'every service the release moved goes back to its previous revision; an unchanged one stays',
      {
        api: entry('succeeded', 'api', 4, 5),
        worker: entry('succeeded', 'worker', 8, 9),
        web: entry('unchanged', 'web', 2, 2),
      },
      {
        service: 'api\nworker',
        'task-definition': `api=${arn('api', 4)}\nworker=${arn('worker', 8)}`,
      },
    ],
    [
      'one service moved: its revision alone (the one-service form of task-definition)',
      { api: entry('succeeded', 'api', 4, 5), worker: entry('unchanged', 'worker', 8, 8) },
      { service: 'api', 'task-definition': arn('api', 4) },
    ],
    [
      'services the release already rolled back are left alone; one whose rollback failed is retried',
      { api: entry('rolled-back', 'api', 4, 5), worker: entry('failed', 'worker', 8, 9) },
      { service: 'worker', 'task-definition': arn('worker', 8) },
    ],
    [
      'nothing to roll back when the deploy gave no services',
      {},
      { service: '', 'task-definition': '' },
    ],
  ])('%s', (_what, release, outputs) => {
    expect(
      runStep('rollback-plan', {
        RELEASE: Object.keys(release).length ? JSON.stringify(release) : '',
      }),
    ).toEqual(outputs);
  });
});
