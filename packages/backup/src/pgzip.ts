import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { constants, crc32, deflateRaw, type ZlibOptions } from 'node:zlib';

/** Options for {@link ParallelGzip}. */
export interface ParallelGzipOptions {
  /** Compression level 0–9. */
  level: number;
  /** Bytes of input compressed as one independent piece (default 1 MiB). */
  blockSize?: number;
  /** Pieces compressed at once in the thread pool (default: {@link defaultConcurrency}). */
  concurrency?: number;
}

/**
 * Blocks to deflate at once: one per CPU, but no more than Node's thread pool minus one thread
 * (left for DNS lookups and file reads), so a large runner neither queues work in the pool nor
 * holds more blocks in memory than it can compress.
 */
export function defaultConcurrency(
  cpus = availableParallelism(),
  poolSize = Number(process.env.UV_THREADPOOL_SIZE) || 4,
): number {
  return Math.max(1, Math.min(cpus, poolSize - 1));
}

/** Deflate's window: each block is primed with this much of the input before it. */
const WINDOW = 32 * 1024;

function deflateBlock(input: Buffer, options: ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    deflateRaw(input, options, (error, out) => (error ? reject(error) : resolve(out))),
  );
}

/** The 10-byte gzip member header (RFC 1952): no name, no time, OS unknown. */
function gzipHeader(level: number): Buffer {
  const xfl = level >= 9 ? 2 : level === 1 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255]);
}

/**
 * gzip on every core, the way pigz does it: the input is cut into blocks that are deflated in
 * Node's thread pool at the same time, each primed with the 32 KiB before it so compression
 * barely suffers, and the pieces are joined in order into ONE standard gzip member (each
 * non-final piece ends on a sync flush; CRC-32 and length are computed here as the bytes pass).
 * Any gzip reader reads the result; memory stays at about `(concurrency + 1) × 2 × blockSize`.
 */
export class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly blockSize: number;
  private readonly concurrency: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Blocks being deflated, oldest first. */
  private readonly inFlight: Promise<Buffer>[] = [];
  private previousTail: Buffer | undefined;
  private crc = 0;
  private length = 0;
  private started = false;

  constructor(opts: ParallelGzipOptions) {
    super();
    if (!Number.isInteger(opts.level) || opts.level < 0 || opts.level > 9)
      throw new RangeError(`gzip level must be an integer 0-9, got ${opts.level}`);
    this.level = opts.level;
    this.blockSize = Math.max(WINDOW, opts.blockSize ?? 1024 * 1024);
    this.concurrency = Math.max(1, opts.concurrency ?? defaultConcurrency());
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (!this.started) {
      this.started = true;
      this.push(gzipHeader(this.level));
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const blocks: Buffer[] = [];
    while (this.pendingBytes >= this.blockSize) {
      const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
      blocks.push(all.subarray(0, this.blockSize));
      const rest = all.subarray(this.blockSize);
      this.pending = rest.length ? [rest] : [];
      this.pendingBytes = rest.length;
    }
    this.submitAll(blocks, false).then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    if (!this.started) {
      this.started = true;
      this.push(gzipHeader(this.level));
    }
    const last = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    this.submitAll([last], true)
      .then(() => this.drainAll())
      .then(() => {
        const trailer = Buffer.alloc(8);
        trailer.writeUInt32LE(this.crc >>> 0, 0);
        trailer.writeUInt32LE(this.length % 2 ** 32, 4);
        this.push(trailer);
        done();
      }, done);
  }

  override _destroy(error: Error | null, done: (error: Error | null) => void): void {
    // Pieces still deflating finish in the pool; their results are dropped.
    for (const p of this.inFlight) p.catch(() => undefined);
    this.inFlight.length = 0;
    done(error);
  }

  private async submitAll(blocks: Buffer[], final: boolean): Promise<void> {
    for (const input of blocks) {
      this.crc = crc32(input, this.crc);
      this.length += input.length;
      const options: ZlibOptions = {
        level: this.level,
        chunkSize: 128 * 1024,
        finishFlush: final ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
        ...(this.previousTail ? { dictionary: this.previousTail } : {}),
      };
      const piece = deflateBlock(input, options);
      piece.catch(() => undefined); // observed below, in order
      this.inFlight.push(piece);
      this.previousTail = input.subarray(Math.max(0, input.length - WINDOW));
      while (this.inFlight.length > this.concurrency) await this.emitOldest();
    }
  }

  private async drainAll(): Promise<void> {
    while (this.inFlight.length) await this.emitOldest();
  }

  private async emitOldest(): Promise<void> {
    const out = await (this.inFlight[0] as Promise<Buffer>);
    void this.inFlight.shift();
    if (!this.destroyed) this.push(out);
  }
}
