/**
 * Content-addressed blob storage on disk (`<dataDir>/blobs/sha256/<hex>`) and the upload
 * sessions that fill it. Each finished upload is verified against the digest the client names.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** An upload session between POST and the final PUT. */
export interface UploadSession {
  id: string;
  repositoryName: string;
  /** Bytes received so far. */
  size: number;
  path: string;
  hash: Hash;
}

/** The digest a client named does not match the bytes it sent. */
export class BlobDigestMismatchError extends Error {
  constructor(
    public readonly expected: string,
    public readonly actual: string,
  ) {
    super(`uploaded content has digest \`${actual}\`, not \`${expected}\``);
    this.name = 'BlobDigestMismatchError';
  }
}

/** Blobs under one directory, named by their sha256 digest. */
export class BlobStore {
  private readonly blobDir: string;
  private readonly uploadDir: string;
  private readonly sizes = new Map<string, number>();
  private readonly uploads = new Map<string, UploadSession>();

  constructor(dataDir: string) {
    this.blobDir = join(dataDir, 'blobs', 'sha256');
    this.uploadDir = join(dataDir, 'uploads');
    mkdirSync(this.blobDir, { recursive: true });
    mkdirSync(this.uploadDir, { recursive: true });
  }

  /** Path of a stored blob (whether or not it exists). */
  path(digest: string): string {
    return join(this.blobDir, digest.slice('sha256:'.length));
  }

  /** Size in bytes of a stored blob, or undefined when it is not stored. */
  size(digest: string): number | undefined {
    const known = this.sizes.get(digest);
    if (known !== undefined) return known;
    const path = this.path(digest);
    if (!existsSync(path)) return undefined;
    const size = statSync(path).size;
    this.sizes.set(digest, size);
    return size;
  }

  has(digest: string): boolean {
    return this.size(digest) !== undefined;
  }

  read(digest: string): Promise<Buffer> {
    return readFile(this.path(digest));
  }

  /** Reads a stored blob, or the bytes `start`..`end` (inclusive) of it. */
  stream(digest: string, start?: number, end?: number): Readable {
    return createReadStream(this.path(digest), { start, end });
  }

  /** Starts an upload session for `repositoryName`. */
  startUpload(repositoryName: string): UploadSession {
    const id = randomUUID();
    const session: UploadSession = {
      id,
      repositoryName,
      size: 0,
      path: join(this.uploadDir, id),
      hash: createHash('sha256'),
    };
    this.uploads.set(id, session);
    return session;
  }

  upload(id: string): UploadSession | undefined {
    return this.uploads.get(id);
  }

  /** Appends `body` to the session; returns the number of bytes appended. */
  async append(session: UploadSession, body: Readable): Promise<number> {
    let count = 0;
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, callback): void {
        session.hash.update(chunk);
        count += chunk.length;
        callback(null, chunk);
      },
    });
    await pipeline(body, hashing, createWriteStream(session.path, { flags: 'a' }));
    session.size += count;
    return count;
  }

  /** Verifies the session's content against `digest` and moves it into the store. */
  async finish(session: UploadSession, digest: string): Promise<void> {
    this.uploads.delete(session.id);
    const actual = `sha256:${session.hash.digest('hex')}`;
    if (actual !== digest) {
      await rm(session.path, { force: true });
      throw new BlobDigestMismatchError(digest, actual);
    }
    if (!existsSync(session.path)) {
      // An empty blob: nothing was ever appended.
      await pipeline(async function* () {}, createWriteStream(session.path));
    }
    await rename(session.path, this.path(digest));
    this.sizes.set(digest, session.size);
  }

  async cancel(session: UploadSession): Promise<void> {
    this.uploads.delete(session.id);
    await rm(session.path, { force: true });
  }
}
