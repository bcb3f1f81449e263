import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streamBackup } from '../../../packages/backup/src/backup';
import { startS3, type TestS3 } from '../../support/s3';

let s3: TestS3;
let dir: string;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket('stream');
  dir = mkdtempSync(join(tmpdir(), 'shipkit-stream-'));
  // Incompressible, so the archive spans several 5 MiB parts.
  writeFileSync(join(dir, 'blob.bin'), randomBytes(18 * 1024 * 1024));
});

afterAll(async () => {
  await s3?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('streamBackup', () => {
  it('uploads in parts, logs progress as parts are stored, and records the checksum', async () => {
    const lines: string[] = [];
    const result = await streamBackup({
      s3: s3.client,
      bucket: 'stream',
      key: 'files/blob.tar.gz',
      source: { type: 'files', paths: ['blob.bin'], cwd: dir },
      compressionLevel: 1,
      metadata: { 'shipkit-kind': 'files' },
      sse: 'AES256',
      partSize: 5 * 1024 * 1024,
      progressEveryMs: 0,
      log: (line) => lines.push(line),
    });
    const stored = await s3.get('stream', 'files/blob.tar.gz');
    expect(stored.length).toBe(result.bytes);
    expect(createHash('sha256').update(stored).digest('hex')).toBe(result.sha256);
    const head = await s3.head('stream', 'files/blob.tar.gz');
    expect(head?.metadata).toMatchObject({ sha256: result.sha256, 'shipkit-kind': 'files' });
    const progress = lines.filter((l) => /stored in \d+ part\(s\) so far/.test(l));
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress[0]).toMatch(
      /^… 5\.0 MiB stored in 1 part\(s\) so far \([\d.]+ MiB\/s\); tar has written [\d.]+ MiB$/,
    );
  });
});
