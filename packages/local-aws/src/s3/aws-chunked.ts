/**
 * S3's `aws-chunked` content encoding, which the SDK uses for streamed uploads when it computes
 * checksums (its default since 2025): the body arrives as
 * `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n … 0\r\n<trailer: x-amz-checksum-crc32:…>\r\n\r\n`.
 * S3 stores only the bytes; s3rver would store the encoding itself, so local-aws decodes the body
 * before s3rver reads it and presents the request as a plain upload of the decoded length.
 */
import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';

/** True when the request body is `aws-chunked` (by `Content-Encoding` or a streaming hash). */
export function isAwsChunked(req: IncomingMessage): boolean {
  const encoding = String(req.headers['content-encoding'] ?? '');
  const hash = String(req.headers['x-amz-content-sha256'] ?? '');
  return (
    encoding
      .split(',')
      .map((e) => e.trim())
      .includes('aws-chunked') || hash.startsWith('STREAMING-')
  );
}

/** The longest chunk header or trailer line accepted (a size, a signature, a checksum). */
const MAX_LINE = 4096;

/** Decodes an `aws-chunked` body into its bytes; the trailer's fields land in `trailers`. */
export class AwsChunkedDecoder extends Transform {
  /** Trailing headers (`x-amz-checksum-crc32` …), lower-case names, once the body has ended. */
  readonly trailers: Record<string, string> = {};
  private state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  private line = '';
  private remaining = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let at = 0;
    try {
      while (at < chunk.length) {
        if (this.state === 'data') {
          const take = Math.min(this.remaining, chunk.length - at);
          this.push(chunk.subarray(at, at + take));
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = 'data-end';
          continue;
        }
        if (this.state === 'done') break;
        // A header, the CRLF after data, or a trailer line: read up to the next LF.
        const lf = chunk.indexOf(0x0a, at);
        const end = lf < 0 ? chunk.length : lf;
        this.line += chunk.subarray(at, end).toString('latin1');
        at = lf < 0 ? chunk.length : lf + 1;
        if (this.line.length > MAX_LINE) throw new Error('an aws-chunked line is too long');
        if (lf < 0) continue;
        const line = this.line.replace(/\r$/, '');
        this.line = '';
        this.onLine(line);
      }
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    done(
      this.state === 'done' || (this.state === 'trailer' && this.line === '')
        ? undefined
        : new Error('the aws-chunked body ended early'),
    );
  }

  private onLine(line: string): void {
    switch (this.state) {
      case 'size': {
        const size = /^([0-9a-fA-F]{1,16})(;.*)?$/.exec(line);
        if (!size) throw new Error('an aws-chunked chunk size is malformed');
        this.remaining = parseInt(size[1], 16);
        this.state = this.remaining === 0 ? 'trailer' : 'data';
        return;
      }
      case 'data-end':
        if (line !== '') throw new Error('an aws-chunked chunk is longer than its size');
        this.state = 'size';
        return;
      case 'trailer': {
        if (line === '') {
          this.state = 'done';
          return;
        }
        const colon = line.indexOf(':');
        if (colon > 0)
          this.trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        return;
      }
      default:
        return;
    }
  }
}

/**
 * A request that reads as the decoded upload: the same method, URL and socket, the decoded body,
 * and the headers of a plain upload (`Content-Length` from `x-amz-decoded-content-length`, no
 * `aws-chunked` encoding, no trailer, an unsigned payload hash).
 */
export function decodedRequest(req: IncomingMessage): IncomingMessage {
  const decoder = new AwsChunkedDecoder();
  const headers = { ...req.headers };
  const encodings = String(headers['content-encoding'] ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e && e !== 'aws-chunked');
  if (encodings.length) headers['content-encoding'] = encodings.join(', ');
  else delete headers['content-encoding'];
  const decodedLength = headers['x-amz-decoded-content-length'];
  if (typeof decodedLength === 'string') headers['content-length'] = decodedLength;
  else delete headers['content-length'];
  delete headers['x-amz-decoded-content-length'];
  delete headers['x-amz-trailer'];
  headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  req.on('error', (error) => decoder.destroy(error));
  req.pipe(decoder);
  return Object.assign(decoder, {
    headers,
    rawHeaders: Object.entries(headers).flatMap(([k, v]) => [k, String(v)]),
    method: req.method,
    url: req.url,
    socket: req.socket,
    connection: req.socket,
    httpVersion: req.httpVersion,
    httpVersionMajor: req.httpVersionMajor,
    httpVersionMinor: req.httpVersionMinor,
  }) as unknown as IncomingMessage;
}
