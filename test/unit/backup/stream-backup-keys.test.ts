import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { streamBackup } from '../../../packages/backup/src/backup';
import { CancelledError } from '../../../packages/kit/src/errors';
import type { S3Api } from '../../../packages/backup/src/store';
import { awsError, FakeClient } from './fakes';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shipkit-stream-keys-'));
  writeFileSync(join(dir, 'data.bin'), randomBytes(40_000));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Stored {
  metadata: Record<string, string>;
}

/**
 * An in-memory bucket that notes, after every call, each object that sits under a backup's key
 * without its checksum (what a crash at that moment would leave where a backup is expected).
 */
function store(opts: { failCopy?: boolean; onCopy?: () => void } = {}) {
  const objects = new Map<string, Stored>();
  const uploads = new Map<string, { key: string; metadata: Record<string, string> }>();
  const unverified: string[] = [];
  let n = 0;
  const s3 = new FakeClient<S3Api>({
    PutObjectCommand: (i) => {
      objects.set(i.Key as string, { metadata: meta(i) });
      return {};
    },
    CreateMultipartUploadCommand: (i) => {
      const id = `u${++n}`;
      uploads.set(id, { key: i.Key as string, metadata: meta(i) });
      return { UploadId: id };
    },
    UploadPartCommand: (i) => ({ ETag: `"e${i.PartNumber as number}"` }),
    CompleteMultipartUploadCommand: (i) => {
      const u = uploads.get(i.UploadId as string);
      if (!u || u.key !== i.Key) throw awsError('NoSuchUpload', 404);
      objects.set(u.key, { metadata: u.metadata });
      return {};
    },
    AbortMultipartUploadCommand: () => ({}),
    CopyObjectCommand: (i) => {
      opts.onCopy?.();
      if (opts.failCopy) throw awsError('InternalError', 500);
      const source = decodeURIComponent(String(i.CopySource)).replace(/^[^/]+\//, '');
      if (!objects.has(source)) throw awsError('NoSuchKey', 404);
      objects.set(i.Key as string, { metadata: meta(i) });
      return {};
    },
    HeadObjectCommand: (i) => {
      const o = objects.get(i.Key as string);
      if (!o) throw awsError('NotFound', 404);
      return { Metadata: o.metadata, ContentLength: 1 };
    },
    DeleteObjectCommand: (i) => {
      objects.delete(i.Key as string);
      return {};
    },
  });
  const send = s3.send;
  Object.assign(s3, {
    send: async (command: { input: unknown }) => {
      try {
        return await send(command);
      } finally {
        for (const [key, o] of objects)
          if (/\.(dump|sql\.gz|tar\.gz)$/.test(key) && !o.metadata.sha256) unverified.push(key);
      }
    },
  });
  return { s3, objects, unverified };
}

function meta(input: Record<string, unknown>): Record<string, string> {
  return { ...((input.Metadata as Record<string, string> | undefined) ?? {}) };
}

const KEY = 'p/files/2026/01/01/files-20260101T000000Z-nosha.tar.gz';

function backup(s3: S3Api, extra: { partSize?: number; signal?: AbortSignal } = {}) {
  return streamBackup({
    s3,
    bucket: 'b',
    key: KEY,
    source: { type: 'files', paths: ['data.bin'], cwd: dir },
    compressionLevel: 0,
    metadata: { 'shipkit-kind': 'files' },
    sse: 'AES256',
    partSize: extra.partSize ?? 1024 * 1024,
    signal: extra.signal,
  });
}

describe('streamBackup never leaves an unverified object under the backup key', () => {
  it.each([
    ['one PutObject', 1024 * 1024],
    ['a multipart upload', 8192],
  ])(
    'writes the bytes under a temporary key and moves them into place with the checksum (%s)',
    async (_name, partSize) => {
      const { s3, objects, unverified } = store();
      const result = await backup(s3.api, { partSize });
      expect(unverified).toEqual([]);
      expect([...objects.keys()]).toEqual([KEY]);
      expect(objects.get(KEY)?.metadata).toMatchObject({
        sha256: result.sha256,
        'shipkit-kind': 'files',
      });
    },
  );

  it('a crash right after the upload completed leaves nothing under the backup key', async () => {
    let atCopy: string[] = [];
    const s = store({ onCopy: () => (atCopy = [...s.objects.keys()]) });
    await backup(s.s3.api, { partSize: 8192 });
    // What the bucket held when the checksum copy was sent: had the runner died then, this stays.
    expect(atCopy).toEqual([`${KEY}.incomplete`]);
  });

  it('removes the temporary object when the checksum copy fails', async () => {
    const { s3, objects } = store({ failCopy: true });
    await expect(backup(s3.api, { partSize: 8192 })).rejects.toThrow(
      /storing the checksum .* failed .*Nothing was left/,
    );
    expect([...objects.keys()]).toEqual([]);
  });

  it('says the run was cancelled when the signal aborts the checksum copy', async () => {
    const controller = new AbortController();
    const { s3, objects } = store({
      onCopy: () => {
        controller.abort(new CancelledError('the workflow was cancelled (SIGTERM)'));
        throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
      },
    });
    const error = await backup(s3.api, { partSize: 8192, signal: controller.signal }).then(
      () => new Error('resolved'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(CancelledError);
    expect(error.message).toMatch(/^the workflow was cancelled \(SIGTERM\)\. Nothing was left/);
    expect(error.message).not.toMatch(/Request aborted/);
    expect([...objects.keys()]).toEqual([]);
  });
});
