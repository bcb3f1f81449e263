/**
 * Cancelling a build: SIGTERM while the builder runs stops the builder and everything it started,
 * and the action ends with the cancelled state instead of waiting for the build.
 */
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';
import { runAction } from '../../support/run-action';
import {
  ensureBuildah,
  localAwsEnv,
  privateStorageEnv,
  removePrivateStorage,
} from './sample-image';

/** A sleep no other process on the machine runs, so its survivors can be found. */
const MARKER_SECONDS = '7431';

let aws: LocalAws;
let ecr: ECRClient;
let dir: string;
let context: string;

/** The shell, `sleep` and the libraries they load, as a base for a RUN step (no registry needed). */
function writeContext(into: string): void {
  const files: [string, string][] = [
    ['/bin/dash', 'rootfs/bin/sh'],
    ['/bin/sleep', 'rootfs/bin/sleep'],
    ['/lib/x86_64-linux-gnu/libc.so.6', 'rootfs/lib/x86_64-linux-gnu/libc.so.6'],
    ['/lib64/ld-linux-x86-64.so.2', 'rootfs/lib64/ld-linux-x86-64.so.2'],
  ];
  for (const [from, to] of files) {
    mkdirSync(dirname(join(into, to)), { recursive: true });
    copyFileSync(from, join(into, to));
  }
  writeFileSync(
    join(into, 'Dockerfile'),
    `FROM scratch\nCOPY rootfs/ /\nRUN echo started && sleep ${MARKER_SECONDS} && echo finished\n`,
  );
}

/** Processes whose command line still runs the marker sleep. */
function survivors(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(`sleep ${MARKER_SECONDS}`)) found.push(`${pid} ${cmd}`);
    } catch {
      // gone already
    }
  }
  return found;
}

beforeAll(async () => {
  ensureBuildah();
  aws = await startLocalAws({ port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'build-and-push-cancel-'));
  context = join(dir, 'context');
  writeContext(context);
  ecr = new ECRClient({
    region: 'us-east-1',
    endpoint: aws.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  ecr?.destroy();
  await aws?.stop();
  if (dir) removePrivateStorage(dir);
});

it.each([
  ['the first build line', /^STEP 1\/\d+: /m],
  ["the RUN step's own output", /^started$/m],
])(
  'SIGTERM at %s stops the builder and its step, and the action exits cancelled',
  async (_moment, trigger) => {
    const repository = `cancel-${trigger.source.length}`;
    let sent = false;
    const run = await runAction('build-and-push', {
      cwd: context,
      env: { ...localAwsEnv(aws.endpoint, dir), ...privateStorageEnv(dir) },
      inputs: { repository, 'create-repository': 'true', builder: 'buildah', tags: 'v1' },
      // Safety net only: a build that ignored the cancel would run for two hours.
      killAfterMs: 90_000,
      onStart: (child) => {
        let seen = '';
        child.stdout?.on('data', (d: Buffer) => {
          seen += d.toString();
          if (!sent && trigger.test(seen)) {
            sent = true;
            child.kill('SIGTERM');
          }
        });
      },
    });
    expect(sent).toBe(true);
    expect(run.code).toBe(1);
    expect(run.error).toBe('Cancelled: the workflow was cancelled (SIGTERM)');
    expect(run.stdout).not.toMatch(/^finished$/m);
    expect(survivors()).toEqual([]);
    const images = await ecr.send(new DescribeImagesCommand({ repositoryName: repository }));
    expect(images.imageDetails ?? []).toEqual([]);
    // The post step still removes the login the main step wrote.
    const post = await runAction('build-and-push', { entry: 'post', state: run.state });
    expect(post.code).toBe(0);
  },
);
