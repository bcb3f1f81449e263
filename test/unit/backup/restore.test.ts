import { resolveBackupKey } from '../../../packages/backup/src/restore';
import type { S3Api } from '../../../packages/backup/src/store';
import { awsError, FakeClient } from './fakes';

const SHA = 'b'.repeat(64);

function folder(
  objects: [string, string, string | undefined, Record<string, string>?][],
): FakeClient<S3Api> {
  return new FakeClient<S3Api>({
    ListObjectsV2Command: () => ({
      Contents: objects.map(([Key, day]) => ({ Key, LastModified: new Date(day), Size: 1 })),
      IsTruncated: false,
    }),
    HeadObjectCommand: (input) => {
      const o = objects.find(([k]) => k === input.Key);
      if (!o) throw awsError('NotFound', 404);
      return { Metadata: { ...(o[2] ? { sha256: o[2] } : {}), ...o[3] }, ContentLength: 1 };
    },
  });
}

describe('resolveBackupKey latest', () => {
  it('skips a newer leftover without a checksum and picks the newest backup that can be restored', async () => {
    const s3 = folder([
      ['f/old.dump', '2026-01-01', SHA],
      ['f/good.sql.gz', '2026-01-02', SHA],
      ['f/partial.dump', '2026-01-03', undefined],
      ['f/files.tar.gz', '2026-01-04', SHA],
    ]);
    expect(await resolveBackupKey(s3.api, 'b', 'latest', 'f/')).toEqual({
      key: 'f/good.sql.gz',
      kind: 'plain',
    });
  });

  it('says so when no database backup has a checksum', async () => {
    const s3 = folder([['f/partial.dump', '2026-01-03', undefined]]);
    await expect(resolveBackupKey(s3.api, 'b', 'latest', 'f/')).rejects.toThrow(
      /No database backup \(.dump or .sql.gz\) with a checksum was found under s3:\/\/b\/f\/ \(1 without one cannot be restored\)/,
    );
  });

  it('does not choose between a newer backup of part of the database and an older whole one: it names both', async () => {
    const s3 = folder([
      ['f/full.dump', '2026-01-01', SHA],
      ['f/schema-only.sql.gz', '2026-01-02', SHA, { 'shipkit-partial': 'true' }],
      ['f/billing-only.dump', '2026-01-03', SHA, { 'shipkit-partial': 'true' }],
      ['f/leftover.dump', '2026-01-04', undefined],
    ]);
    await expect(resolveBackupKey(s3.api, 'b', 'latest', 'f/')).rejects.toThrow(
      '`backup-key: latest` does not choose between the newest backup, f/billing-only.dump, taken with pg-dump-args that select part of the database, and the newest backup of the whole database, f/full.dump (older): set `backup-key` to the one to restore. Nothing was changed.',
    );
  });

  it('picks the newest backup when every backup of the folder is taken the same partial way (a nightly --exclude-table-data)', async () => {
    const s3 = folder([
      ['f/monday.dump', '2026-01-01', SHA, { 'shipkit-partial': 'true' }],
      ['f/tuesday.dump', '2026-01-02', SHA, { 'shipkit-partial': 'true' }],
      ['f/leftover.dump', '2026-01-03', undefined],
    ]);
    expect(await resolveBackupKey(s3.api, 'b', 'latest', 'f/')).toEqual({
      key: 'f/tuesday.dump',
      kind: 'custom',
    });
  });

  it('picks the newest whole backup when it is newer than a partial one', async () => {
    const s3 = folder([
      ['f/schema-only.sql.gz', '2026-01-01', SHA, { 'shipkit-partial': 'true' }],
      ['f/full.dump', '2026-01-02', SHA],
    ]);
    expect(await resolveBackupKey(s3.api, 'b', 'latest', 'f/')).toEqual({
      key: 'f/full.dump',
      kind: 'custom',
    });
  });
});
