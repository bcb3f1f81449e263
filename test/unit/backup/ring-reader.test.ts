import { once } from 'node:events';
import { openRingPipe, type RingOptions } from '../../../packages/backup/src/ring-reader';
import { startProducer } from '../../../packages/backup/src/process';

/** Byte `i` of the test stream: varies along the stream, so a reused buffer read too early shows. */
const byteAt = (i: number): number => (i * 31 + Math.floor(i / 251)) & 0xff;

function pattern(from: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = byteAt(from + i);
  return b;
}

/** Lets the event loop turn `n` times (the reads of the socket happen meanwhile). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Index of the first byte of `chunk` (starting at stream offset `at`) that is wrong, or -1. */
function firstWrong(chunk: Buffer, at: number): number {
  for (let i = 0; i < chunk.length; i++) if (chunk[i] !== byteAt(at + i)) return i;
  return -1;
}

describe('RingReader', () => {
  it.each<[string, RingOptions, number]>([
    ['two slots of 1 KiB', { slots: 2, slotSize: 1024 }, 300_000],
    ['four slots of 8 KiB', { slots: 4, slotSize: 8 * 1024 }, 3_000_000],
    ['the default ring', {}, 6_000_000],
  ])(
    'gives a slow consumer every byte intact and in order, never holding more than its slots (%s)',
    async (_name, ring, total) => {
      const { reader, writer } = await openRingPipe(ring);
      const slots = ring.slots ?? 8;
      const writing = (async () => {
        for (let at = 0; at < total; at += 50_000) {
          if (!writer.write(pattern(at, Math.min(50_000, total - at)))) await once(writer, 'drain');
        }
        writer.end();
      })();
      let at = 0;
      let wrong = -1;
      for await (const chunk of reader) {
        // Slow, and looks at the chunk only after the ring had time to read on.
        await turns(3);
        const w = firstWrong(chunk, at);
        if (w >= 0 && wrong < 0) wrong = at + w;
        at += chunk.length;
      }
      await writing;
      expect(wrong).toBe(-1);
      expect(at).toBe(total);
      expect(reader.stalls).toBeGreaterThan(0); // the consumer was slow enough to fill the ring
      expect(reader.busiest).toBe(slots - 1);
    },
  );

  it('keeps chunks intact for a consumer that copies them only after several reads', async () => {
    const { reader, writer } = await openRingPipe({ slots: 3, slotSize: 4096 });
    writer.end(pattern(0, 200_000));
    const held: Buffer[] = [];
    let at = 0;
    for await (const chunk of reader) {
      await turns(5);
      held.push(Buffer.from(chunk));
      at += chunk.length;
    }
    expect(firstWrong(Buffer.concat(held), 0)).toBe(-1);
    expect(at).toBe(200_000);
  });

  it('passes small writes on in chunks of at least three quarters of a buffer, the rest at the end', async () => {
    const { reader, writer } = await openRingPipe({ slots: 4, slotSize: 64 * 1024 });
    const total = 1_000_000 + 123;
    const writing = (async () => {
      for (let at = 0; at < total; at += 8192) {
        // Each write reaches the reader on its own before the next is made.
        await new Promise<void>((resolve) =>
          writer.write(pattern(at, Math.min(8192, total - at)), () => resolve()),
        );
        await turns(1);
      }
      writer.end();
    })();
    const sizes: number[] = [];
    let at = 0;
    for await (const chunk of reader) {
      expect(firstWrong(chunk, at)).toBe(-1);
      at += chunk.length;
      sizes.push(chunk.length);
    }
    await writing;
    expect(at).toBe(total);
    expect(sizes.slice(0, -1).every((n) => n >= 48 * 1024)).toBe(true);
    expect(sizes.length).toBeLessThan(total / (48 * 1024) + 1);
  });

  it('ends a waiting consumer with the error it is destroyed with', async () => {
    const { reader, writer } = await openRingPipe();
    const reading = (async () => {
      for await (const chunk of reader) void chunk;
    })();
    await turns(2);
    reader.destroy(new Error('the upload was cancelled'));
    await expect(reading).rejects.toThrow('the upload was cancelled');
    writer.destroy();
  });
});

describe('startProducer', () => {
  it("reads the program's whole stdout, then reports its exit", async () => {
    const total = 2_500_000;
    const script = `const b=Buffer.alloc(${total});for(let i=0;i<b.length;i++)b[i]=(i*31+Math.floor(i/251))&255;process.stdout.write(b)`;
    const producer = await startProducer(process.execPath, ['-e', script]);
    const out: Buffer[] = [];
    for await (const chunk of producer.output) out.push(Buffer.from(chunk));
    expect(await producer.exit).toEqual({ code: 0, signal: null });
    const all = Buffer.concat(out);
    expect(all.length).toBe(total);
    expect(firstWrong(all, 0)).toBe(-1);
  });

  it('ends the output of a program that was not found, and says so', async () => {
    const producer = await startProducer('/nonexistent/pg_dump', []);
    let bytes = 0;
    for await (const chunk of producer.output) bytes += chunk.length;
    expect(bytes).toBe(0);
    expect(await producer.exit).toEqual({ code: 127, signal: null });
    expect(producer.stderr.toString()).toContain('/nonexistent/pg_dump was not found');
  });
});
