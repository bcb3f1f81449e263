/** S3's error answers: `<Error><Code>…</Code><Message>…</Message>…</Error>` with a status. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error S3 would answer. */
export interface S3ErrorAnswer {
  code: string;
  message: string;
  status: number;
}

/** An S3 error to answer instead of a result. */
export class S3Failure extends Error {
  constructor(public readonly answer: S3ErrorAnswer) {
    super(answer.message);
  }
}

/** Escapes text for an XML element. */
export function xmlText(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Writes an S3 error in S3's XML shape, with `x-amz-request-id`. */
export function writeS3Error(
  res: ServerResponse,
  error: S3ErrorAnswer,
  requestId: string,
  resource: string,
): void {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${xmlText(error.code)}</Code><Message>${xmlText(error.message)}</Message>` +
    `<Resource>${xmlText(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
  res.writeHead(error.status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': requestId,
  });
  res.end(body);
}

/** Bodies up to this size are read (and thrown away) before an error is answered. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

/**
 * Answers an error to a request whose body will not be used. A body of up to 64 MiB is read
 * first, as S3 does, so a client still sending it receives the answer instead of a reset and can
 * keep the connection; a larger one is answered at once and the connection closed.
 */
export function refuseRequest(
  req: IncomingMessage,
  res: ServerResponse,
  error: S3ErrorAnswer,
  requestId: string,
): void {
  const resource = (req.url ?? '/').split('?')[0];
  const length = Number(req.headers['content-length'] ?? 0);
  if (req.complete || length > DRAIN_LIMIT) {
    if (!req.complete) res.shouldKeepAlive = false;
    writeS3Error(res, error, requestId, resource);
    req.resume();
    return;
  }
  let read = 0;
  const answer = (): void => {
    if (!res.headersSent) writeS3Error(res, error, requestId, resource);
  };
  req.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > DRAIN_LIMIT) {
      res.shouldKeepAlive = false;
      answer();
    }
  });
  req.once('end', answer);
  req.resume();
}
