import { applyObjectRetention } from '../../../packages/backup/src/object-retention';
import type { S3Api } from '../../../packages/backup/src/store';
import { awsError, FakeClient } from './fakes';

const now = new Date('2026-03-31T12:00:00Z');
const DAY = 86_400_000;
const SHA = 'a'.repeat(64);

/** A folder of objects: key → [age in days, sha256 metadata or undefined]. */
function bucket(objects: Record<string, [number, string | undefined]>) {
  const live = new Map(Object.entries(objects));
  const s3 = new FakeClient<S3Api>({
    ListObjectsV2Command: () => ({
      Contents: [...live].map(([Key, [age]]) => ({
        Key,
        LastModified: new Date(now.getTime() - age * DAY),
        Size: 1,
      })),
      IsTruncated: false,
    }),
    HeadObjectCommand: (input) => {
      const o = live.get(input.Key as string);
      if (!o) throw awsError('NotFound', 404);
      return { Metadata: o[1] ? { sha256: o[1] } : {}, ContentLength: 1 };
    },
    DeleteObjectCommand: (input) => {
      live.delete(input.Key as string);
      return {};
    },
  });
  return { s3, live };
}

describe('applyObjectRetention', () => {
  it('with two verified backups and a newer leftover, keep-last 2 keeps both verified ones and reports the leftover', async () => {
    const { s3, live } = bucket({
      'f/v1.dump': [41, SHA],
      'f/v2.dump': [42, SHA],
      'f/partial.dump': [40, undefined],
      'f/today.dump': [0, SHA],
    });
    const result = await applyObjectRetention({
      s3: s3.api,
      bucket: 'b',
      folder: 'f/',
      now,
      keepDays: 30,
      keepLast: 2,
      protect: 'f/today.dump',
      dryRun: false,
    });
    expect(result.leftovers).toEqual(['f/partial.dump']);
    expect(result.deleted).toEqual(['f/partial.dump', 'f/v2.dump']);
    expect([...live.keys()].sort()).toEqual(['f/today.dump', 'f/v1.dump']);
  });

  it('counts an object whose sha256 metadata is not a SHA-256 as a leftover', async () => {
    const { s3 } = bucket({
      'f/a.dump': [40, 'not-a-checksum'],
      'f/b.dump': [41, SHA],
    });
    const result = await applyObjectRetention({
      s3: s3.api,
      bucket: 'b',
      folder: 'f/',
      now,
      keepDays: 30,
      keepLast: 1,
      protect: 'f/new.dump',
      dryRun: true,
    });
    expect(result.leftovers).toEqual(['f/a.dump']);
    expect(result.deleted).toEqual([]);
    expect(result.decisions.map((d) => [d.id, d.action])).toEqual([
      ['f/new.dump', 'keep'],
      ['f/a.dump', 'delete'],
      ['f/b.dump', 'delete'],
    ]);
    expect(s3.names()).not.toContain('DeleteObjectCommand');
  });
});
