import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError } from '../../../packages/kit/src/errors';
import type { Clock } from '../../../packages/kit/src/poll';
import {
  runBackup,
  type BackupFacts,
  type BackupLog,
  type RunBackupOptions,
} from '../../../packages/backup/src/run-backup';
import type { S3Api } from '../../../packages/backup/src/store';
import { memoryBucket } from './fakes';

const DAY = 86_400_000;
const NOW = new Date('2026-03-31T12:00:00Z');
let dir: string;
let temp: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shipkit-run-backup-'));
  temp = mkdtempSync(join(tmpdir(), 'shipkit-run-backup-temp-'));
  writeFileSync(join(dir, 'data.bin'), randomBytes(20_000));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(temp, { recursive: true, force: true });
});

/** A clock at NOW that advances 1 s per reading. */
function clock(): Clock {
  let t = NOW.getTime();
  return { now: () => (t += 1000) - 1000, sleep: () => new Promise(() => undefined) };
}

function recorder(): { log: BackupLog; lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    log: {
      info: (l) => lines.push(l),
      debug: () => undefined,
      warning: (l) => lines.push(`warning: ${l}`),
      group: (name, fn) => (lines.push(`[${name}]`), fn()),
    },
  };
}

function options(
  s3: S3Api,
  log: BackupLog,
  extra: Partial<RunBackupOptions> = {},
): RunBackupOptions {
  return {
    s3: async () => s3,
    bucket: 'b',
    prefix: 'acme/shop/staging/',
    name: 'data',
    environment: 'staging',
    sha: 'abcdef0123456789',
    source: { type: 'files', paths: ['data.bin'], cwd: dir },
    compressionLevel: 1,
    verify: { kind: 'list' },
    sse: 'AES256',
    keepDays: 30,
    keepLast: 2,
    dryRun: false,
    tempDir: temp,
    log,
    clock: clock(),
    ...extra,
  };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** An earlier backup in the folder, `age` days old, with or without its checksum. */
function seed(
  objects: Map<string, { body: Buffer; metadata: Record<string, string>; lastModified: Date }>,
  key: string,
  age: number,
  checksum = true,
): void {
  const body = Buffer.from(key);
  objects.set(key, {
    body,
    metadata: checksum ? { sha256: sha(body) } : {},
    lastModified: new Date(NOW.getTime() - age * DAY),
  });
}

describe('runBackup', () => {
  it('writes a verified backup with its checksum, reports each step as it happens, then applies retention', async () => {
    const { client, objects } = memoryBucket({ now: () => NOW });
    const folder = 'acme/shop/staging/data/';
    seed(objects, `${folder}old/a.tar.gz`, 40);
    seed(objects, `${folder}old/b.tar.gz`, 41);
    seed(objects, `${folder}old/c.tar.gz`, 42);
    seed(objects, `${folder}old/partial.tar.gz`, 10, false);
    const events: string[] = [];
    const { log, lines } = recorder();
    const facts = await runBackup(
      options(client.api, log, {
        onKey: (key) => events.push(`key ${key}`),
        onStored: (bytes) => events.push(`stored ${bytes}`),
        onRemoved: () => events.push('removed'),
      }),
    );
    const key = 'acme/shop/staging/data/2026/03/31/data-20260331T120000Z-abcdef0.tar.gz';
    expect(facts.key).toBe(key);
    const stored = objects.get(key);
    expect(stored?.metadata.sha256).toBe(sha(stored?.body as Buffer));
    expect(facts.stored?.sha256).toBe(stored?.metadata.sha256);
    expect(events).toEqual([`key ${key}`, `stored ${stored?.body.length}`]);
    expect(facts.verified).toMatch(/^read back, SHA-256 matches; tar listed 1 entries$/);
    expect(facts.durationMs).toBeGreaterThan(0);
    // keep-last 2: this run's backup and the newest verified one; the leftover is not counted.
    expect(facts.retention?.deleted.sort()).toEqual([
      `${folder}old/b.tar.gz`,
      `${folder}old/c.tar.gz`,
    ]);
    expect(facts.retention?.leftovers).toEqual([`${folder}old/partial.tar.gz`]);
    expect([...objects.keys()].sort()).toEqual(
      [key, `${folder}old/a.tar.gz`, `${folder}old/partial.tar.gz`].sort(),
    );
    expect(lines).toContain('[Retention]');
    expect(lines.some((l) => /^warning: 1 object\(s\) under .* have no checksum/.test(l))).toBe(
      true,
    );
    expect(readdirSync(temp)).toEqual([]);
  });

  it('in a dry run chooses the key and plans retention, and writes or deletes nothing', async () => {
    const { client, objects } = memoryBucket({ now: () => NOW });
    seed(objects, 'acme/shop/staging/data/old/a.tar.gz', 50);
    seed(objects, 'acme/shop/staging/data/old/b.tar.gz', 60);
    const { log } = recorder();
    const facts = await runBackup(options(client.api, log, { dryRun: true, keepLast: 1 }));
    expect(facts.key).toMatch(/data-20260331T120000Z-abcdef0\.tar\.gz$/);
    expect(facts.stored).toBeUndefined();
    expect(facts.retention?.decisions.filter((d) => d.action === 'delete')).toHaveLength(2);
    expect(facts.retention?.deleted).toEqual([]);
    expect(objects.size).toBe(2);
    expect(client.names().filter((n) => /Put|Upload|Copy|Delete/.test(n))).toEqual([]);
  });

  it('takes the next free key when one is taken', async () => {
    const { client, objects } = memoryBucket({ now: () => NOW });
    seed(objects, 'acme/shop/staging/data/2026/03/31/data-20260331T120000Z-abcdef0.tar.gz', 0);
    const { log } = recorder();
    const facts = await runBackup(options(client.api, log));
    expect(facts.key).toBe(
      'acme/shop/staging/data/2026/03/31/data-20260331T120000Z-abcdef0-2.tar.gz',
    );
  });

  it('removes a backup whose read-back differs, says so, and keeps the facts known so far', async () => {
    const { client, objects } = memoryBucket({
      now: () => NOW,
      read: (_key, body) => Buffer.concat([body, Buffer.from('x')]),
    });
    const events: string[] = [];
    const { log } = recorder();
    const facts: BackupFacts = {};
    await expect(
      runBackup(options(client.api, log, { onRemoved: () => events.push('removed') }), facts),
    ).rejects.toThrow(/^Checksum mismatch for s3:\/\/b\/acme\/shop\/staging\/data\//);
    expect(events).toEqual(['removed']);
    expect(objects.size).toBe(0);
    expect(facts.stored).toBeDefined();
    expect(facts.removed).toMatch(
      /^Verification failed, so the backup was removed: deleted the object/,
    );
    expect(facts.retention).toBeUndefined();
  });

  it('says the run was cancelled when the signal aborts the verification, and removes the backup', async () => {
    const controller = new AbortController();
    const { client, objects } = memoryBucket({
      now: () => NOW,
      read: (_key, body) => {
        controller.abort(new CancelledError('the workflow was cancelled (SIGTERM)'));
        return body;
      },
    });
    const { log } = recorder();
    const error = await runBackup(options(client.api, log, { signal: controller.signal })).then(
      () => new Error('resolved'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(CancelledError);
    expect(error.message).toMatch(
      /^the workflow was cancelled \(SIGTERM\)\. Before it was verified, the backup was removed/,
    );
    expect(objects.size).toBe(0);
  });

  it('fails before writing anything when the bucket cannot be reached', async () => {
    const { client } = memoryBucket();
    const failing = Object.assign(Object.create(client) as object, {
      send: async (command: { input: unknown }) => {
        if (command.constructor.name === 'HeadBucketCommand')
          throw Object.assign(new Error('NotFound'), {
            name: 'NotFound',
            $metadata: { httpStatusCode: 404 },
          });
        return client.send(command);
      },
    }) as S3Api;
    const { log } = recorder();
    await expect(runBackup(options(failing, log))).rejects.toThrow(/Bucket `b` does not exist/);
    expect(client.names()).toEqual([]);
  });
});
