import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAction, type ActionRun } from '../../support/run-action';
import { startS3, type TestS3 } from '../../support/s3';

const BUCKET = 'file-backups';
const DAY = 86_400_000;
let s3: TestS3;
let workspace: string;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  workspace = mkdtempSync(join(tmpdir(), 'shipkit-files-'));
  mkdirSync(join(workspace, 'data', 'vectors', 'shard-1'), { recursive: true });
  writeFileSync(
    join(workspace, 'data', 'vectors', 'index.json'),
    JSON.stringify({ dims: 384, shards: 1 }),
  );
  writeFileSync(
    join(workspace, 'data', 'vectors', 'shard-1', 'segment.bin'),
    Buffer.alloc(3 * 1024 * 1024, 7),
  );
  writeFileSync(join(workspace, 'config.yml'), 'name: shop\n');
});

afterAll(async () => {
  await s3?.stop();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

function filesBackup(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction('db-backup', {
    cwd: workspace,
    inputs: {
      mode: 'files',
      environment: 'staging',
      bucket: BUCKET,
      's3-force-path-style': 'true',
      paths: 'data/vectors\nconfig.yml',
      ...inputs,
    },
    env: {
      ...s3.env,
      GITHUB_REPOSITORY: 'acme/shop',
      GITHUB_SHA: 'fedcba9876543210fedcba9876543210fedcba98',
    },
  });
}

describe('db-backup files', () => {
  it('streams paths as a tar.gz that extracts to the same files', async () => {
    const run = await filesBackup({});
    expect(run.error).toBeUndefined();
    expect(run.outputs.key).toMatch(
      /^acme\/shop\/staging\/vectors\/\d{4}\/\d{2}\/\d{2}\/vectors-\d{8}T\d{6}Z-fedcba9\.tar\.gz$/,
    );
    expect(run.summary).toMatch(/tar listed \d+ entries/);
    const out = mkdtempSync(join(tmpdir(), 'shipkit-extract-'));
    try {
      writeFileSync(join(out, 'backup.tar.gz'), await s3.get(BUCKET, run.outputs.key));
      expect(spawnSync('tar', ['-xzf', 'backup.tar.gz'], { cwd: out }).status).toBe(0);
      for (const file of [
        'data/vectors/index.json',
        'data/vectors/shard-1/segment.bin',
        'config.yml',
      ]) {
        const same = readFileSync(join(out, file)).equals(readFileSync(join(workspace, file)));
        expect([file, same]).toEqual([file, true]);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('fails on a missing path before writing anything', async () => {
    const run = await filesBackup({ paths: 'data/missing', prefix: 'missing-path' });
    expect(run.error).toMatch(/Path `data\/missing` \(input `paths`\) does not exist/);
    expect(await s3.list(BUCKET, 'missing-path')).toEqual([]);
  });
});

describe('db-backup retention', () => {
  const prefix = 'retention/';
  const folder = `${prefix}vectors/`;
  // 40 backups, one every 2 days, some written by another tool. Times sit 1 hour after a
  // midnight UTC so that S3's round-up-to-midnight ageing gives the same answer at any hour.
  const midnight = Math.floor(Date.now() / DAY) * DAY;
  const ages = Array.from({ length: 40 }, (_, i) => i * 2 + 1);
  const timeOf = (age: number): Date => new Date(midnight - age * DAY + 3_600_000);
  const keyOf = (i: number): string =>
    i % 5 === 4
      ? `${folder}legacy/backup-${i}.tar.gz`
      : `${folder}2026/old/vectors-${String(i).padStart(2, '0')}.tar.gz`;
  const outside = [
    'retention/other-db/2020/01/01/other.dump',
    'retention/vectors-not-in-folder.tar.gz',
    'elsewhere/vectors/old.tar.gz',
  ];

  beforeAll(async () => {
    // Each with the checksum a finished backup carries: only those count toward keep-last.
    for (const [i, age] of ages.entries()) {
      const body = `backup ${i}`;
      await s3.put(BUCKET, keyOf(i), body, {
        sha256: createHash('sha256').update(body).digest('hex'),
      });
      await s3.setLastModified(BUCKET, keyOf(i), timeOf(age));
    }
    for (const key of outside) {
      await s3.put(BUCKET, key, 'not ours');
      await s3.setLastModified(BUCKET, key, timeOf(400));
    }
  });

  it('dry-run reports every decision and deletes nothing', async () => {
    const run = await filesBackup({
      prefix,
      'dry-run': 'true',
      'keep-days': '30',
      'keep-last': '7',
    });
    expect(run.error).toBeUndefined();
    expect(run.outputs.deleted).toBe('0');
    expect(run.outputs.bytes).toBeUndefined();
    expect((await s3.list(BUCKET, folder)).length).toBe(40);
    expect(run.summary).toContain('dry run: nothing deleted');
    expect(run.summary.match(/\| would delete \|/g)?.length).toBe(25);
  });

  it('keep-last wins over keep-days: nothing beyond the newest N is deleted even when all are old', async () => {
    const run = await filesBackup({
      prefix,
      'dry-run': 'true',
      'keep-days': '1',
      'keep-last': '40',
    });
    // 40 listed plus the one this run would write: only the oldest goes.
    expect(run.summary.match(/\| would delete \|/g)?.length).toBe(1);
  });

  it('deletes exactly the backups past keep-days beyond keep-last, and nothing outside the folder', async () => {
    const run = await filesBackup({ prefix, 'keep-days': '30', 'keep-last': '7' });
    expect(run.error).toBeUndefined();
    // Within 30 days (S3 lifecycle rounding): ages 1 … 29 days (15 objects) plus this run's backup.
    const expectedKept = ages
      .map((age, i) => [age, keyOf(i)] as const)
      .filter(([age]) => age < 30)
      .map(([, key]) => key);
    expect(expectedKept).toHaveLength(15);
    expect(run.outputs.deleted).toBe(String(40 - expectedKept.length));
    const remaining = (await s3.list(BUCKET, folder)).map((o) => o.key).sort();
    expect(remaining).toEqual([...expectedKept, run.outputs.key].sort());
    for (const key of outside) expect(await s3.head(BUCKET, key)).toBeDefined();
    expect(run.summary).toMatch(
      /older than 30 days \(expired \d{4}-\d{2}-\d{2}\) and not among the 7 newest/,
    );
    expect(run.summary).toContain("this run's backup");
  });
});

describe('db-backup retention with leftovers', () => {
  const prefix = 'leftovers/';
  const folder = `${prefix}vectors/`;
  const midnight = Math.floor(Date.now() / DAY) * DAY;
  const timeOf = (age: number): Date => new Date(midnight - age * DAY + 3_600_000);

  it('keep-last counts only backups with a checksum: two verified backups outlive a newer leftover', async () => {
    const verified = [`${folder}2026/v1.tar.gz`, `${folder}2026/v2.tar.gz`];
    const leftover = `${folder}2026/interrupted.tar.gz`;
    for (const [i, key] of verified.entries()) {
      await s3.put(BUCKET, key, `v${i}`, {
        sha256: createHash('sha256').update(`v${i}`).digest('hex'),
      });
      await s3.setLastModified(BUCKET, key, timeOf(41 + i));
    }
    await s3.put(BUCKET, leftover, 'no checksum');
    await s3.setLastModified(BUCKET, leftover, timeOf(40));
    // keep-last 3: this run's backup and the two verified ones.
    const run = await filesBackup({ prefix, 'keep-days': '30', 'keep-last': '3' });
    expect(run.error).toBeUndefined();
    const remaining = (await s3.list(BUCKET, folder)).map((o) => o.key).sort();
    expect(remaining).toEqual([...verified, run.outputs.key].sort());
    expect(run.outputs.deleted).toBe('1');
    expect(run.stdout).toMatch(
      /^::warning::1 object\(s\) under .* have no checksum and cannot be restored/m,
    );
    expect(run.summary).toContain('interrupted.tar.gz');
  });
});
