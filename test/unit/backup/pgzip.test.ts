import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import {
  defaultConcurrency,
  ParallelGzip,
  type ParallelGzipOptions,
} from '../../../packages/backup/src/pgzip';

const KiB = 1024;

/** Text that compresses like a SQL dump: repeated rows with varying numbers. */
function sqlLike(bytes: number): Buffer {
  const rows: string[] = [];
  let n = 0;
  let size = 0;
  while (size < bytes) {
    const row = `${n}\tcustomer-${n % 977}\t${(n * 7919) % 100000}.${n % 100}\t2026-11-${(n % 28) + 1}\n`;
    rows.push(row);
    size += row.length;
    n++;
  }
  return Buffer.from(rows.join('')).subarray(0, bytes);
}

/** Feeds `input` in chunks of `chunk` bytes through a ParallelGzip and returns its output. */
async function compress(
  input: Buffer,
  opts: ParallelGzipOptions,
  chunk = 64 * KiB,
): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) pieces.push(input.subarray(i, i + chunk));
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces),
    new ParallelGzip(opts),
    new Writable({
      write(c: Buffer, _e, done) {
        out.push(c);
        done();
      },
    }),
  );
  return Buffer.concat(out);
}

describe('ParallelGzip', () => {
  const mixed = Buffer.concat([sqlLike(300 * KiB), randomBytes(100 * KiB), sqlLike(250 * KiB)]);
  it.each([
    ['empty input', Buffer.alloc(0), { level: 1 }],
    ['one byte', Buffer.from('x'), { level: 1 }],
    ['exactly one block', sqlLike(64 * KiB), { level: 1, blockSize: 64 * KiB }],
    ['one block and one byte', sqlLike(64 * KiB + 1), { level: 1, blockSize: 64 * KiB }],
    ['many blocks, level 1', mixed, { level: 1, blockSize: 32 * KiB, concurrency: 3 }],
    ['many blocks, level 6', mixed, { level: 6, blockSize: 48 * KiB, concurrency: 2 }],
    ['many blocks, level 9', mixed, { level: 9, blockSize: 40 * KiB, concurrency: 4 }],
    ['level 0 (stored)', mixed, { level: 0, blockSize: 32 * KiB }],
    ['one block at a time', mixed, { level: 1, blockSize: 32 * KiB, concurrency: 1 }],
  ] as [string, Buffer, ParallelGzipOptions][])(
    'writes one gzip member that decompresses to the input: %s',
    async (_name, input, opts) => {
      const gz = await compress(input, opts, 7 * KiB + 13);
      expect(gunzipSync(gz).equals(input)).toBe(true);
      // One member: a single header, one raw deflate stream, then CRC-32 and length of the input.
      expect([...gz.subarray(0, 4)]).toEqual([0x1f, 0x8b, 8, 0]);
      expect(inflateRawSync(gz.subarray(10, gz.length - 8)).equals(input)).toBe(true);
      expect(gz.readUInt32LE(gz.length - 8)).toBe(crc32(input) >>> 0);
      expect(gz.readUInt32LE(gz.length - 4)).toBe(input.length);
    },
  );

  it('is read by the gzip program as one member with the right size and checksum', async () => {
    const input = sqlLike(700 * KiB);
    const gz = await compress(input, { level: 1, blockSize: 64 * KiB });
    const test = spawnSync('gzip', ['-d', '-c'], { input: gz, maxBuffer: 16 * 1024 * KiB });
    expect(test.status).toBe(0);
    expect(test.stdout.equals(input)).toBe(true);
    const list = spawnSync('gzip', ['-l', '-v'], { input: gz, encoding: 'latin1' });
    expect(list.status).toBe(0);
    expect(list.stdout).toContain(String(input.length));
    expect(list.stdout.toLowerCase()).toContain((crc32(input) >>> 0).toString(16).padStart(8, '0'));
  });

  it('compresses as well as a single-threaded gzip at the same level (within 1%)', async () => {
    const input = sqlLike(2 * 1024 * KiB);
    for (const level of [1, 6]) {
      const parallel = await compress(input, { level, blockSize: 256 * KiB });
      const single = gzipSync(input, { level });
      expect(parallel.length / single.length).toBeLessThan(1.01);
    }
  });

  it('reads ahead of a slow reader by a few blocks only, not the whole input', async () => {
    const blockSize = 32 * KiB;
    let produced = 0;
    let consumed = 0;
    let peakAhead = 0;
    async function* source(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 64; i++) {
        produced += 64 * KiB;
        yield randomBytes(64 * KiB); // incompressible: output bytes ≈ input bytes
      }
    }
    const sink = new Writable({
      highWaterMark: 1,
      write(c: Buffer, _e, done) {
        consumed += c.length;
        peakAhead = Math.max(peakAhead, produced - consumed);
        setTimeout(done, 1);
      },
    });
    await pipeline(source(), new ParallelGzip({ level: 1, blockSize, concurrency: 2 }), sink);
    expect(consumed).toBeGreaterThan(4 * 1024 * KiB);
    expect(peakAhead).toBeLessThan(640 * KiB);
  });

  it.each([[1], [3]])(
    'copies a long input into concurrency + 1 block buffers, reused for every block (concurrency %i)',
    async (concurrency) => {
      const blockSize = 48 * KiB;
      const input = sqlLike(40 * blockSize + 5);
      const allocate = jest.spyOn(Buffer, 'allocUnsafeSlow');
      try {
        const gz = await compress(input, { level: 1, blockSize, concurrency }, 5 * KiB + 3);
        expect(gunzipSync(gz).equals(input)).toBe(true);
        const blocks = allocate.mock.calls.filter(([size]) => size === blockSize).length;
        expect(blocks).toBe(concurrency + 1);
      } finally {
        allocate.mockRestore();
      }
    },
  );

  it.each([
    [1, 4, 1],
    [2, 4, 2],
    [64, 4, 3],
    [64, 16, 15],
    [8, 1, 1],
  ])('compresses %i CPUs × pool of %i as %i blocks at once', (cpus, pool, expected) => {
    expect(defaultConcurrency(cpus, pool)).toBe(expected);
  });

  it('refuses a level outside 0-9', () => {
    expect(() => new ParallelGzip({ level: 10 })).toThrow(/level must be an integer 0-9/);
  });
});
