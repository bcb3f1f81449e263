// Reading a producer's output (pg_dump, tar) into buffers allocated once and reused, instead of
// the fresh 64 KiB buffer Node allocates for every read of a pipe (young garbage that a long
// backup leaves for the collector, at the cost of peak memory).
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Options for {@link RingReader}. */
export interface RingOptions {
  /** Buffers in the ring (at least 2; default 8). */
  slots?: number;
  /** Bytes of each buffer (default 128 KiB); a chunk holds at least three quarters of one. */
  slotSize?: number;
}

/** What a producer's output offers its reader: its chunks in order, and a way to stop it. */
export interface ChunkSource extends AsyncIterable<Buffer> {
  /** Stops reading; a reader waiting for a chunk gets `error` (or the end, without one). */
  destroy(error?: Error): void;
}

/** A chunk read into slot `slot`, `length` bytes. */
interface Filled {
  slot: number;
  length: number;
}

/**
 * Reads a socket into a ring of `slots` buffers of `slotSize` bytes, allocated once. Each chunk
 * it yields is a view into one of them and stays intact until the consumer asks for the next
 * chunk: only then is its buffer read into again. Reads add up in one buffer until less than a
 * quarter of it is left (then it is passed on as one chunk, so a producer writing 8 KiB at a time
 * costs the consumer one chunk per ~100 KiB, not one per write); the rest is passed on at the
 * end. One free buffer is always the one the next read goes into; when no other is free (every chunk read is still queued or held by the
 * consumer), reading stops until the consumer releases one, so the producer waits in its write
 * and memory stays `slots × slotSize` whatever the consumer's pace.
 *
 * Create the socket with {@link RingReader.onread} as its `onread` option, then
 * {@link RingReader.attach} it.
 */
export class RingReader implements ChunkSource {
  private readonly slots: Buffer[];
  /** Free slots, apart from `target`. */
  private readonly free: number[] = [];
  /** The slot the next read goes into (always free), and how many of its bytes are read. */
  private target = 0;
  private fill = 0;
  /** A slot with less room than this left is passed on (reads get at least this much room). */
  private readonly minRoom: number;
  /** Chunks read and not yet given to the consumer, oldest first. */
  private readonly queue: Filled[] = [];
  /** The slot of the chunk the consumer holds. */
  private lent: number | undefined;
  private socket: Socket | undefined;
  private stopped = false;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  /** The most slots that held a chunk not yet released at once (at most `slots − 1`). */
  busiest = 0;
  /** Times reading stopped because no buffer was free. */
  stalls = 0;
  /** Bytes read. */
  bytes = 0;

  constructor(opts: RingOptions = {}) {
    const count = Math.max(2, opts.slots ?? 8);
    const size = Math.max(4, opts.slotSize ?? 128 * 1024);
    this.minRoom = Math.ceil(size / 4);
    this.slots = Array.from({ length: count }, () => Buffer.allocUnsafeSlow(size));
    for (let i = count - 1; i >= 1; i--) this.free.push(i);
  }

  /** The `onread` option of the socket to read (`net.connect({ ..., onread })`). */
  readonly onread = {
    buffer: (): Buffer => (this.slots[this.target] as Buffer).subarray(this.fill),
    callback: (length: number): boolean => this.filled(length),
  };

  /** Takes the socket created with {@link onread}: its end, errors and reads are followed. */
  attach(socket: Socket): void {
    this.socket = socket;
    socket.on('end', () => this.finish());
    socket.on('error', (error) => {
      this.failure ??= error;
      this.notify();
    });
    socket.on('close', () => this.finish());
  }

  /** The end of the input: the slot being filled is passed on. */
  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.fill > 0) this.queue.push({ slot: this.target, length: this.fill });
    this.fill = 0;
    this.notify();
  }

  /**
   * A read put `length` more bytes into `target`. Small reads (a producer writing 8 KiB at a
   * time) add up in the same slot, which is passed on once its room is short; then the next
   * free slot becomes the target. False stops reading.
   */
  private filled(length: number): boolean {
    this.bytes += length;
    this.fill += length;
    if ((this.slots[this.target] as Buffer).length - this.fill >= this.minRoom) return true;
    this.queue.push({ slot: this.target, length: this.fill });
    this.fill = 0;
    // There is always a free slot here: reading resumes only once one was released.
    this.target = this.free.pop() as number;
    this.busiest = Math.max(this.busiest, this.slots.length - 1 - this.free.length);
    this.notify();
    if (this.free.length > 0) return true;
    this.stopped = true;
    this.stalls++;
    return false;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Gives the consumer's chunk back to the ring, and reads on if reading had stopped. */
  private release(): void {
    if (this.lent === undefined) return;
    this.free.push(this.lent);
    this.lent = undefined;
    if (this.stopped && !this.ended && !this.failure) {
      this.stopped = false;
      this.socket?.resume();
    }
  }

  /** The next chunk (a view valid until the next call), or undefined at the end. */
  async next(): Promise<Buffer | undefined> {
    this.release();
    for (;;) {
      const chunk = this.queue.shift();
      if (chunk) {
        this.lent = chunk.slot;
        return (this.slots[chunk.slot] as Buffer).subarray(0, chunk.length);
      }
      if (this.failure) throw this.failure;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  destroy(error?: Error): void {
    if (error) this.failure ??= error;
    this.ended = true;
    this.socket?.destroy();
    this.notify();
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return {
      next: async (): Promise<IteratorResult<Buffer>> => {
        const chunk = await this.next();
        if (chunk) return { value: chunk, done: false };
        this.release();
        return { value: undefined, done: true };
      },
      // A consumer that stops early (break, throw) stops the reading too.
      return: async (): Promise<IteratorResult<Buffer>> => {
        if (!this.ended) this.destroy();
        this.release();
        return { value: undefined, done: true };
      },
    };
  }
}

/** A connected pair: `reader` reads what is written into `writer`. */
export interface RingPipe {
  reader: RingReader;
  /** The other end: pass it as a child's stdout, then destroy this process's copy. */
  writer: Socket;
}

/**
 * A local socket pair whose reading end is a {@link RingReader} (a Unix domain socket in a
 * private temporary folder, removed once connected). Not available on Windows.
 */
export async function openRingPipe(opts: RingOptions = {}): Promise<RingPipe> {
  const dir = await mkdtemp(join(tmpdir(), 'shipkit-pipe-'));
  const server = createServer();
  try {
    const path = join(dir, 's');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    const accepted = new Promise<Socket>((resolve, reject) => {
      server.once('connection', resolve);
      server.once('error', reject);
    });
    const reader = new RingReader(opts);
    const socket = connect({ path, onread: reader.onread });
    reader.attach(socket);
    const connected = new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const [writer] = await Promise.all([accepted, connected]).catch((error: unknown) => {
      socket.destroy();
      void accepted.then(
        (s) => s.destroy(),
        () => undefined,
      );
      throw error;
    });
    return { reader, writer };
  } finally {
    // Stops listening at once (its 'close' waits for the connection to end).
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
