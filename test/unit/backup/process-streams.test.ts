import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { findPgClients } from '../../../packages/backup/src/clients';
import { CoalesceStream } from '../../../packages/backup/src/process';

async function chunksThrough(sizes: number[], minBytes: number): Promise<Buffer[]> {
  let n = 0;
  const input = sizes.map((size) => Buffer.from(Array.from({ length: size }, () => n++ % 251)));
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(input),
    new CoalesceStream(minBytes),
    new Writable({
      write(c: Buffer, _e, done) {
        out.push(c);
        done();
      },
    }),
  );
  expect(Buffer.concat(out).equals(Buffer.concat(input))).toBe(true);
  return out;
}

describe('CoalesceStream', () => {
  it.each([
    ['small chunks are joined up to the minimum', [4, 4, 4, 4, 4], 10, [12, 8]],
    ['a chunk at least the minimum passes alone', [25, 3], 10, [25, 3]],
    ['the remainder is released at the end', [3, 3], 10, [6]],
    ['no input, no output', [], 10, []],
    ['exactly the minimum', [5, 5, 5, 5], 10, [10, 10]],
  ])('%s', async (_name, sizes, minBytes, expected) => {
    const out = await chunksThrough(sizes, minBytes);
    expect(out.map((c) => c.length)).toEqual(expected);
  });
});

describe('findPgClients', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shipkit-clients-'));
    const script = (path: string, version: string): void => {
      writeFileSync(path, `#!/bin/sh\necho "pg_dump (PostgreSQL) ${version}"\n`);
      chmodSync(path, 0o755);
    };
    mkdirSync(join(dir, 'direct'));
    script(join(dir, 'direct', 'pg_dump'), '98.2');
    // Debian's /usr/bin/pg_dump is a symlink to a wrapper script named pg_wrapper.
    mkdirSync(join(dir, 'common'));
    mkdirSync(join(dir, 'wrapped'));
    script(join(dir, 'common', 'pg_wrapper'), '99.1');
    symlinkSync(join(dir, 'common', 'pg_wrapper'), join(dir, 'wrapped', 'pg_dump'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds pg_dump on PATH and reads its version', async () => {
    const clients = await findPgClients({ PATH: `${join(dir, 'direct')}:/usr/bin:/bin` });
    expect(clients).toContainEqual({ bindir: join(dir, 'direct'), major: 98, version: '98.2' });
  });

  it('does not ask a Debian pg_wrapper when a real pg_dump was found', async () => {
    const clients = await findPgClients({
      PATH: `${join(dir, 'wrapped')}:${join(dir, 'direct')}:/usr/bin:/bin`,
    });
    expect(clients.map((c) => c.major)).toContain(98);
    expect(clients.map((c) => c.major)).not.toContain(99);
  });
});
