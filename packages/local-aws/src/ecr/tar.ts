/**
 * A streaming reader for the tar archives image layers are made of: ustar, GNU long names
 * (`L`/`K`) and PAX extended headers (`x`; global `g` headers are read and ignored).
 */

/** One archive member; `data` holds a regular file's content (empty for other types). */
export interface TarEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  mode: number;
  linkName: string;
  size: number;
  data: Buffer;
}

const BLOCK = 512;

/** Pulls exact byte counts out of an async stream of chunks. */
class ChunkReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** Reads `n` bytes; returns fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.buffered < n && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else if (next.value.length) {
        this.chunks.push(next.value);
        this.buffered += next.value.length;
      }
    }
    const take = Math.min(n, this.buffered);
    if (this.chunks.length && this.chunks[0].length >= take) {
      const first = this.chunks[0];
      const out = first.subarray(0, take);
      if (first.length === take) this.chunks.shift();
      else this.chunks[0] = first.subarray(take);
      this.buffered -= take;
      return out;
    }
    const all = Buffer.concat(this.chunks);
    const out = all.subarray(0, take);
    const rest = all.subarray(take);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString('utf8');
}

function octal(block: Buffer, start: number, length: number): number {
  const field = block.subarray(start, start + length);
  if (field[0] & 0x80) {
    // base-256 (GNU) encoding for large values
    let value = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i];
    return value;
  }
  const s = text(block, start, length).trim();
  return s ? parseInt(s, 8) : 0;
}

function checksumOk(block: Buffer): boolean {
  const stored = octal(block, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
  return sum === stored;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space < 0) break;
    const length = Number(data.subarray(offset, space).toString('ascii'));
    if (!Number.isInteger(length) || length <= 0) throw new Error('invalid PAX extended header');
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    offset += length;
  }
  return out;
}

const TYPES: Record<string, TarEntry['type']> = {
  '0': 'file',
  '\0': 'file',
  '': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '5': 'directory',
};

/** Yields the members of a tar stream in order. Throws on a corrupt or truncated archive. */
export async function* readTar(source: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const reader = new ChunkReader(source[Symbol.asyncIterator]());
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const header = await reader.read(BLOCK);
    if (header.length === 0) return;
    if (header.length < BLOCK) throw new Error('truncated tar archive');
    if (header.every((b) => b === 0)) return;
    if (!checksumOk(header)) throw new Error('invalid tar header checksum');
    const typeflag = String.fromCharCode(header[156]);
    let size = octal(header, 124, 12);
    if (pax.size !== undefined) size = Number(pax.size);
    const data = await reader.read(size);
    if (data.length < size) throw new Error('truncated tar archive');
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (padding) await reader.read(padding);
    if (typeflag === 'x') {
      pax = { ...pax, ...parsePax(data) };
      continue;
    }
    if (typeflag === 'g') continue;
    if (typeflag === 'L') {
      longName = text(data, 0, data.length);
      continue;
    }
    if (typeflag === 'K') {
      longLink = text(data, 0, data.length);
      continue;
    }
    const magic = text(header, 257, 6);
    const prefix = magic.startsWith('ustar') ? text(header, 345, 155) : '';
    const name = text(header, 0, 100);
    const path = pax.path ?? longName ?? (prefix ? `${prefix}/${name}` : name);
    const linkName = pax.linkpath ?? longLink ?? text(header, 157, 100);
    const type = TYPES[typeflag] ?? 'other';
    pax = {};
    longName = undefined;
    longLink = undefined;
    yield {
      path,
      type: type === 'file' && path.endsWith('/') ? 'directory' : type,
      mode: octal(header, 100, 8) & 0o7777,
      linkName,
      size,
      data: type === 'file' ? data : Buffer.alloc(0),
    };
  }
}
