import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { constants, crc32, createDeflateRaw, type ZlibOptions } from 'node:zlib';

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

/**
 * Deflates one block in the thread pool and resolves with its output pieces as zlib produced
 * them (no joined copy: each piece is passed on as it is).
 */
function deflateBlock(input: Buffer, options: ZlibOptions): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const zlib = createDeflateRaw(options);
    const out: Buffer[] = [];
    zlib.on('data', (piece: Buffer) => out.push(piece));
    zlib.once('error', reject);
    zlib.once('end', () => resolve(out));
    zlib.end(input);
  });
}

/** The 10-byte gzip member header (RFC 1952): no name, no time, OS unknown. */
function gzipHeader(level: number): Buffer {
  const xfl = level >= 9 ? 2 : level === 1 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255]);
}

/** A block handed to the thread pool, and its output to come. */
interface InFlight {
  block: Buffer;
  out: Promise<Buffer[]>;
}

/**
 * gzip on every core, the way pigz does it: the input is cut into blocks that are deflated in
 * Node's thread pool at the same time, each primed with the 32 KiB before it so compression
 * barely suffers, and the pieces are joined in order into ONE standard gzip member (each
 * non-final piece ends on a sync flush; CRC-32 and length are computed here as the bytes pass).
 * Any gzip reader reads the result. The input is copied into `concurrency + 1` block buffers
 * allocated once and reused, so a long input leaves no garbage of its own blocks behind; memory
 * stays at about `(concurrency + 1) × blockSize` of input plus the compressed output in flight.
 */
export class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly blockSize: number;
  private readonly concurrency: number;
  /** Block buffers not in use. */
  private readonly free: Buffer[] = [];
  private allocated = 0;
  /** The block being filled, and how many of its bytes are. */
  private block: Buffer | undefined;
  private filled = 0;
  /** Blocks being deflated, oldest first. */
  private readonly inFlight: InFlight[] = [];
  /** The last bytes of the previous block (the next block's dictionary). */
  private readonly tail = Buffer.allocUnsafeSlow(WINDOW);
  private tailLength = 0;
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
    this.writeHeader();
    this.copyIn(chunk).then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    this.writeHeader();
    this.submit(true)
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
    for (const p of this.inFlight) p.out.catch(() => undefined);
    this.inFlight.length = 0;
    done(error);
  }

  private writeHeader(): void {
    if (this.started) return;
    this.started = true;
    this.push(gzipHeader(this.level));
  }

  /** Copies `chunk` into blocks, handing each full one to the pool. */
  private async copyIn(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      this.block ??= this.freeBlock();
      const copied = chunk.copy(this.block, this.filled, offset);
      offset += copied;
      this.filled += copied;
      if (this.filled === this.blockSize) await this.submit(false);
    }
  }

  /** A block buffer to fill: a free one, or a new one while fewer than the pool's exist. */
  private freeBlock(): Buffer {
    const reused = this.free.pop();
    if (reused) return reused;
    this.allocated++;
    return Buffer.allocUnsafeSlow(this.blockSize);
  }

  /** Hands the block being filled (empty for a final one) to the pool. */
  private async submit(final: boolean): Promise<void> {
    const block = this.block ?? this.freeBlock();
    const input = block.subarray(0, this.filled);
    this.block = undefined;
    this.filled = 0;
    this.crc = crc32(input, this.crc);
    this.length += input.length;
    const options: ZlibOptions = {
      level: this.level,
      chunkSize: 128 * 1024,
      finishFlush: final ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
      // zlib copies the dictionary when the stream is created, so the tail is free to reuse.
      ...(this.tailLength ? { dictionary: this.tail.subarray(0, this.tailLength) } : {}),
    };
    const out = deflateBlock(input, options);
    out.catch(() => undefined); // observed below, in order
    this.inFlight.push({ block, out });
    this.tailLength = input.copy(this.tail, 0, Math.max(0, input.length - WINDOW));
    while (this.inFlight.length > this.concurrency) await this.emitOldest();
  }

  private async drainAll(): Promise<void> {
    while (this.inFlight.length) await this.emitOldest();
  }

  /** Passes on the oldest block's output and frees its buffer. */
  private async emitOldest(): Promise<void> {
    const oldest = this.inFlight[0] as InFlight;
    const out = await oldest.out;
    void this.inFlight.shift();
    this.free.push(oldest.block);
    if (!this.destroyed) for (const piece of out) this.push(piece);
  }
}
