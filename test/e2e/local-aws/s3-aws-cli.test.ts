/**
 * The AWS CLI's `aws s3` commands against local-aws alone, as a user runs them: make a bucket,
 * copy a small and a multipart-sized file up and down, list buckets and objects, remove. Needs
 * the AWS CLI (`aws`, v1 or v2) on PATH and fails saying so when it is missing.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  startLocalAws,
  type LocalAws,
  type RequestLogEntry,
} from '../../../packages/local-aws/src';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const cliVersion = spawnSync('aws', ['--version'], { encoding: 'utf8' });
const CLI_MISSING =
  'the AWS CLI (`aws`) is not on PATH: install it (Debian: `apt-get install awscli`; or `pip install awscli`) to run this suite';

let aws: LocalAws;
let dir: string;
const requests: RequestLogEntry[] = [];

beforeAll(async () => {
  aws = await startLocalAws({ port: 0, logRequests: (entry) => requests.push(entry) });
  dir = mkdtempSync(join(tmpdir(), 'local-aws-s3-cli-'));
});

afterAll(async () => {
  await aws?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `aws …` against local-aws with the settings the README gives. */
async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run('aws', args, {
    cwd: dir,
    maxBuffer: 16 * MiB,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_CONFIG_FILE: join(dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
      AWS_ENDPOINT_URL: aws.endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
    },
  });
  return stdout;
}

test('aws s3 mb, cp (up, multipart, down), ls and rm work against local-aws alone', async () => {
  if (cliVersion.error || cliVersion.status !== 0) throw new Error(CLI_MISSING);
  expect(await cli('s3', 'mb', 's3://cli-backups')).toMatch(/make_bucket: cli-backups/);

  writeFileSync(join(dir, 'dump.sql'), 'select 1;\n');
  const big = Buffer.alloc(12 * MiB);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
  writeFileSync(join(dir, 'big.bin'), big);
  await cli('s3', 'cp', 'dump.sql', 's3://cli-backups/db/dump.sql', '--no-progress');
  // Above the CLI's 8 MiB threshold: a multipart upload.
  await cli('s3', 'cp', 'big.bin', 's3://cli-backups/db/big.bin', '--no-progress');

  expect(await cli('s3', 'ls')).toMatch(/^\S+ \S+ cli-backups$/m);
  const listing = await cli('s3', 'ls', 's3://cli-backups', '--recursive');
  expect(listing).toMatch(/\s10 db\/dump\.sql$/m);
  expect(listing).toMatch(new RegExp(`\\s${big.length} db/big\\.bin$`, 'm'));

  await cli('s3', 'cp', 's3://cli-backups/db/big.bin', 'big-back.bin', '--no-progress');
  expect(readFileSync(join(dir, 'big-back.bin')).equals(big)).toBe(true);
  expect(await cli('s3', 'cp', 's3://cli-backups/db/dump.sql', '-')).toBe('select 1;\n');

  await cli('s3', 'rm', 's3://cli-backups/db/big.bin');
  expect(await cli('s3', 'ls', 's3://cli-backups', '--recursive')).not.toMatch(/big\.bin/);

  // Each listing was answered at once: no retried ListBuckets, no 5xx anywhere.
  const s3 = requests.filter((r) => r.service === 's3');
  expect(s3.filter((r) => r.operation === 'ListBuckets')).toHaveLength(1);
  expect(s3.filter((r) => r.operation === 'UploadPart').length).toBeGreaterThanOrEqual(2);
  expect(s3.filter((r) => r.status >= 500)).toEqual([]);
});
