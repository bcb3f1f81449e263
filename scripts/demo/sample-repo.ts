/**
 * A throwaway git repository of the sample service (test/fixtures/sample-image): the repository
 * the example workflows run for. It gets a package.json with a real test, so the staging
 * workflow's test job has something to run, its database migrations (`migrate.js`, copied into
 * the API's image beside the server), its queue worker (`worker/`, an image of its own with no
 * port), and one commit per release.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Unavailable } from './services';

/** The sample service's migrations (`node /app/migrate.js` in its image). */
const MIGRATE_JS = join(__dirname, 'sample-service', 'migrate.js');
/** The sample service's queue worker (`worker/worker.js`, its own image). */
const WORKER_JS = join(__dirname, 'sample-service', 'worker.js');
const SERVER_COPY = 'COPY server.js /app/server.js';

/** The worker's image: the worker alone, started by the host's node like the API's. */
const workerDockerfile = (version: string, starts: boolean): string => `FROM scratch
ARG APP_VERSION=${version}
ARG WORKER_STARTS=${starts}
ENV APP_VERSION=\${APP_VERSION} WORKER_STARTS=\${WORKER_STARTS}
WORKDIR /app
COPY worker.js /app/worker.js
CMD ["node", "/app/worker.js"]
`;

const PACKAGE = {
  name: 'sample-service',
  version: '1.0.0',
  private: true,
  description: 'The sample service shipkit deploys in its demo.',
  scripts: { test: 'node --test' },
};

const LOCK = {
  name: 'sample-service',
  version: '1.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: { '': { name: 'sample-service', version: '1.0.0' } },
};

// The service's own test: it starts server.js and asks it for its version.
const TEST = `'use strict';
const { test } = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

test('the service answers its version', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'server.js')], {
    env: { ...process.env, PORT: String(port), APP_VERSION: 'test' },
    stdio: 'ignore',
  });
  try {
    let body;
    for (let i = 0; i < 50 && !body; i++) {
      body = await fetch('http://127.0.0.1:' + port + '/version')
        .then((r) => r.json())
        .catch(() => new Promise((r) => setTimeout(r, 100)));
    }
    assert.deepStrictEqual(body, { version: 'test' });
  } finally {
    child.kill();
  }
});
`;

/** The sample service's repository. */
export interface SampleRepo {
  dir: string;
  /**
   * Commits release `version`: the Dockerfiles' defaults say the version, whether the API is
   * healthy (`healthy: false` is a release whose `/health` answers 503) and whether the worker
   * starts (`worker: 'crash'` is a release whose worker exits 1 at start). Returns the commit SHA.
   */
  commit(
    version: string,
    release: { healthy: boolean; worker: 'up' | 'crash' },
    message: string,
  ): string;
}

/** Creates the repository in `dir` from the fixture in `fixture` (no commit yet). */
export function createSampleRepo(dir: string, fixture: string): SampleRepo {
  mkdirSync(join(dir, 'test'), { recursive: true });
  mkdirSync(join(dir, 'worker'), { recursive: true });
  const fixtureDockerfile = readFileSync(join(fixture, 'Dockerfile'), 'utf8');
  for (const line of ['ARG APP_VERSION=', 'ARG HEALTHY=', SERVER_COPY])
    if (!fixtureDockerfile.includes(line))
      throw new Error(`the sample Dockerfile has no \`${line}…\` line the demo builds on`);
  // The image carries the migrations beside the server.
  const dockerfile = fixtureDockerfile.replace(
    SERVER_COPY,
    `${SERVER_COPY}\nCOPY migrate.js /app/migrate.js`,
  );
  writeFileSync(join(dir, 'server.js'), readFileSync(join(fixture, 'server.js')));
  writeFileSync(join(dir, 'migrate.js'), readFileSync(MIGRATE_JS));
  writeFileSync(join(dir, 'worker', 'worker.js'), readFileSync(WORKER_JS));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(PACKAGE, null, 2)}\n`);
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(LOCK, null, 2)}\n`);
  writeFileSync(join(dir, '.npmrc'), 'audit=false\nfund=false\nupdate-notifier=false\n');
  writeFileSync(join(dir, 'test', 'server.test.js'), TEST);
  const git = (...args: string[]): string =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Sample Developer',
        GIT_AUTHOR_EMAIL: 'dev@example.com',
        GIT_COMMITTER_NAME: 'Sample Developer',
        GIT_COMMITTER_EMAIL: 'dev@example.com',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
      },
    }).trim();
  try {
    git('init', '-q', '-b', 'main');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Unavailable('git is not installed (Debian: apt-get install git)');
    throw error;
  }
  return {
    dir,
    commit(version, { healthy, worker }, message) {
      writeFileSync(
        join(dir, 'Dockerfile'),
        dockerfile
          .replace(/^ARG APP_VERSION=.*$/m, `ARG APP_VERSION=${version}`)
          .replace(/^ARG HEALTHY=.*$/m, `ARG HEALTHY=${healthy}`),
      );
      writeFileSync(join(dir, 'worker', 'Dockerfile'), workerDockerfile(version, worker === 'up'));
      git('add', '-A');
      git('commit', '-q', '-m', message);
      return git('rev-parse', 'HEAD');
    },
  };
}
