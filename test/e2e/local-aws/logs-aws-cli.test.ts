/**
 * `aws logs tail` (AWS CLI v2 only: v1 has no `logs tail`) against local-aws's CloudWatch Logs,
 * as a user reads a task's logs: `--since`, `--format short`, stream names and prefixes, a filter
 * pattern, more than one page of FilterLogEvents, and `--follow` picking up a line written while
 * it runs. The CLI is looked for as `aws` on PATH, then /usr/bin/aws and /usr/local/bin/aws (a
 * Debian `awscli` package installs v2 in /usr/bin beside a pip v1 in /usr/local/bin); without a
 * v2 the suite is skipped and says so. The endpoint is given with `--endpoint-url`: v2 releases
 * before 2.13 (Debian 12 ships 2.9) ignore `AWS_ENDPOINT_URL`.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';

const run = promisify(execFile);

/** The first AWS CLI v2 found, and what was found instead when there is none. */
function findCliV2(): { path?: string; seen: string[] } {
  const seen: string[] = [];
  for (const candidate of ['aws', '/usr/bin/aws', '/usr/local/bin/aws']) {
    const out = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (out.error || out.status !== 0) continue;
    const version = `${out.stdout}${out.stderr}`.trim().split(/\s/)[0];
    if (/^aws-cli\/2\./.test(version)) return { path: candidate, seen };
    seen.push(`${candidate}: ${version}`);
  }
  return { seen };
}

const CLI = findCliV2();
const SKIP_REASON = `no AWS CLI v2 found (${CLI.seen.join(', ') || 'no `aws` at all'}); \`aws logs tail\` needs v2 (Debian: apt-get install -y awscli)`;
const suite = CLI.path ? describe : describe.skip;
if (!CLI.path) console.warn(`logs-aws-cli: skipped: ${SKIP_REASON}`);

let aws: LocalAws;
let logs: CloudWatchLogsClient;
let home: string;

function cliEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_PAGER: '',
  };
}

/** Runs `aws --endpoint-url … <args>` and returns its stdout. */
async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(CLI.path!, ['--endpoint-url', aws.endpoint, ...args], {
    env: cliEnv(),
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

async function put(stream: string, events: { timestamp: number; message: string }[]) {
  for (let i = 0; i < events.length; i += 10_000)
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: '/ecs/jobs',
        logStreamName: stream,
        logEvents: events.slice(i, i + 10_000),
      }),
    );
}

const MINUTE = 60_000;
// The events are placed relative to the wall clock because `--since` is read against it.
const now = Date.now();

beforeAll(async () => {
  if (!CLI.path) return;
  home = mkdtempSync(join(tmpdir(), 'local-aws-logs-cli-'));
  aws = await startLocalAws({ port: 0 });
  logs = new CloudWatchLogsClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/jobs' }));
  for (const stream of ['jobs/job/aaaa', 'jobs/job/bbbb', 'other/job/cccc'])
    await logs.send(
      new CreateLogStreamCommand({ logGroupName: '/ecs/jobs', logStreamName: stream }),
    );
  await put('jobs/job/aaaa', [
    { timestamp: now - 120 * MINUTE, message: 'two hours ago' },
    { timestamp: now - 5 * MINUTE, message: 'applying 0001_create_invoices' },
    { timestamp: now - 3 * MINUTE, message: 'applied 0001_create_invoices' },
  ]);
  await put('jobs/job/bbbb', [{ timestamp: now - 4 * MINUTE, message: 'crawl started' }]);
  await put('other/job/cccc', [{ timestamp: now - 2 * MINUTE, message: 'elsewhere' }]);
});

afterAll(async () => {
  logs?.destroy();
  await aws?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

suite('aws logs tail (AWS CLI v2)', () => {
  test("--since 1h prints the group's events of the last hour in time order with their stream names", async () => {
    const lines = (await cli('logs', 'tail', '/ecs/jobs', '--since', '1h')).trim().split('\n');
    expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual([
      'jobs/job/aaaa applying 0001_create_invoices',
      'jobs/job/bbbb crawl started',
      'jobs/job/aaaa applied 0001_create_invoices',
      'other/job/cccc elsewhere',
    ]);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 /);
  });

  test.each<[string, string[], string[]]>([
    [
      '--format short drops the stream',
      ['--format', 'short'],
      [
        'applying 0001_create_invoices',
        'crawl started',
        'applied 0001_create_invoices',
        'elsewhere',
      ],
    ],
    [
      '--log-stream-name-prefix keeps one prefix',
      ['--log-stream-name-prefix', 'jobs/job/b'],
      ['jobs/job/bbbb crawl started'],
    ],
    [
      '--log-stream-names keeps the streams named',
      ['--log-stream-names', 'other/job/cccc'],
      ['other/job/cccc elsewhere'],
    ],
    [
      '--filter-pattern keeps the matching events',
      ['--filter-pattern', 'applied'],
      ['jobs/job/aaaa applied 0001_create_invoices'],
    ],
    [
      '--since 3h reaches the older event',
      ['--since', '3h', '--log-stream-names', 'jobs/job/aaaa'],
      [
        'jobs/job/aaaa two hours ago',
        'jobs/job/aaaa applying 0001_create_invoices',
        'jobs/job/aaaa applied 0001_create_invoices',
      ],
    ],
  ])('%s', async (_what, args, expected) => {
    const out = await cli('logs', 'tail', '/ecs/jobs', '--since', '1h', ...args);
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => l.replace(/^\S+ /, '')),
    ).toEqual(expected);
  });

  test('more than one page of FilterLogEvents (10,000 events) is printed whole', async () => {
    await logs.send(
      new CreateLogStreamCommand({ logGroupName: '/ecs/jobs', logStreamName: 'bulk/job/dddd' }),
    );
    const events = Array.from({ length: 10_050 }, (_, i) => ({
      timestamp: now - 50 * MINUTE + i,
      message: `line ${i}`,
    }));
    await put('bulk/job/dddd', events);
    const out = await cli(
      'logs',
      'tail',
      '/ecs/jobs',
      '--since',
      '1h',
      '--log-stream-name-prefix',
      'bulk/',
      '--format',
      'short',
    );
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(10_050);
    expect(lines[10_049]).toMatch(/ line 10049$/);
  });

  test('an unknown group fails with ResourceNotFoundException', async () => {
    await expect(cli('logs', 'tail', '/ecs/nope')).rejects.toMatchObject({
      stderr: expect.stringContaining('ResourceNotFoundException'),
    });
  });

  test('--follow prints what is there, then a line written while it runs, once', async () => {
    const child = spawn(
      CLI.path!,
      [
        '--endpoint-url',
        aws.endpoint,
        'logs',
        'tail',
        '/ecs/jobs',
        '--follow',
        '--format',
        'short',
        '--log-stream-names',
        'jobs/job/bbbb',
      ],
      // Python buffers a pipe's output until exit: unbuffered, lines arrive as printed.
      { env: { ...cliEnv(), PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    let exited: number | null | undefined;
    const waiting: (() => void)[] = [];
    const wake = (): void => waiting.splice(0).forEach((w) => w());
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      wake();
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      exited = code;
      wake();
    });
    /** Resolves once stdout has `text`; fails if the CLI exits first. */
    const seen = async (text: string): Promise<void> => {
      while (!out.includes(text)) {
        if (exited !== undefined)
          throw new Error(`aws exited ${exited} before printing ${text}: ${err}`);
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    };
    try {
      await seen('crawl started');
      await put('jobs/job/bbbb', [{ timestamp: Date.now(), message: 'crawl finished' }]);
      await seen('crawl finished');
    } finally {
      child.kill('SIGINT');
    }
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => l.replace(/^\S+ /, '')),
    ).toEqual(['crawl started', 'crawl finished']);
  }, 30_000);
});

if (!CLI.path) test.skip(`aws logs tail: ${SKIP_REASON}`, () => undefined);
