// An S3 endpoint that keeps no bytes: the `/dev/null` of object stores, for benchmarks.
//
// It speaks the part of the S3 REST API a backup uses (HeadBucket, HeadObject, ListObjectsV2,
// PutObject, the multipart calls, CopyObject, DeleteObject) over path-style URLs, checks that a
// multipart upload is completed with every part it received, and remembers only each object's
// size. Measuring an upload against it charges the uploader for its own work and nothing else,
// the way `… > /dev/null` does for a shell pipeline; a full S3 stand-in running on the same
// machine also spends CPU storing and hashing every byte, which a real bucket does elsewhere.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface NullS3 {
  endpoint: string;
  /** Size of each completed object, by `bucket/key`. */
  objects: Map<string, number>;
  /** Bytes of request bodies received in all. */
  bytesReceived(): number;
  stop(): Promise<void>;
}

interface Upload {
  key: string;
  parts: Map<number, number>;
}

const xml = (res: ServerResponse, body: string, status = 200): void => {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
};

const escape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  xml(res, `<Error><Code>${code}</Code><Message>${escape(message)}</Message></Error>`, status);
}

/** Starts the endpoint on 127.0.0.1 and a free port; every bucket exists. */
export async function startNullS3(): Promise<NullS3> {
  const objects = new Map<string, number>();
  const uploads = new Map<string, Upload>();
  let received = 0;
  let nextId = 1;

  const handle = (req: IncomingMessage, res: ServerResponse, bodyBytes: number): void => {
    const url = new URL(req.url ?? '/', 'http://null');
    const [bucket = '', ...rest] = url.pathname.slice(1).split('/');
    const key = decodeURIComponent(rest.join('/'));
    const id = `${bucket}/${key}`;
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    if (method === 'HEAD' && !key) return void res.writeHead(200).end();
    if (method === 'HEAD') {
      const size = objects.get(id);
      if (size === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': size, 'last-modified': new Date().toUTCString() });
      return void res.end();
    }
    if (method === 'GET' && q.get('list-type') === '2') {
      const prefix = `${bucket}/${q.get('prefix') ?? ''}`;
      const now = new Date().toISOString();
      const contents = [...objects]
        .filter(([k]) => k.startsWith(prefix))
        .map(
          ([k, size]) =>
            `<Contents><Key>${escape(k.slice(bucket.length + 1))}</Key><LastModified>${now}</LastModified><Size>${size}</Size></Contents>`,
        )
        .join('');
      return xml(
        res,
        `<ListBucketResult><Name>${bucket}</Name><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`,
      );
    }
    if (method === 'POST' && q.has('uploads')) {
      const uploadId = `null-${nextId++}`;
      uploads.set(uploadId, { key: id, parts: new Map() });
      return xml(
        res,
        `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${escape(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
      );
    }
    const uploadId = q.get('uploadId');
    if (uploadId !== null) {
      const upload = uploads.get(uploadId);
      if (!upload || upload.key !== id)
        return fail(res, 404, 'NoSuchUpload', `no upload ${uploadId}`);
      if (method === 'PUT') {
        const n = Number(q.get('partNumber'));
        upload.parts.set(n, bodyBytes);
        res.writeHead(200, { etag: `"part-${n}"` });
        return void res.end();
      }
      if (method === 'DELETE') {
        uploads.delete(uploadId);
        return void res.writeHead(204).end();
      }
      if (method === 'POST') {
        // Every received part must be listed, numbered 1..n, and all but the last ≥ 5 MiB.
        const numbers = [...upload.parts.keys()].sort((a, b) => a - b);
        const sizes = numbers.map((n) => upload.parts.get(n) as number);
        const gap = numbers.some((n, i) => n !== i + 1);
        const small = sizes.slice(0, -1).some((s) => s < 5 * 1024 * 1024);
        if (gap || small || !numbers.length)
          return fail(res, 400, 'InvalidPart', 'parts missing, misnumbered or too small');
        uploads.delete(uploadId);
        objects.set(
          id,
          sizes.reduce((a, b) => a + b, 0),
        );
        return xml(
          res,
          `<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${escape(key)}</Key><ETag>"null-${numbers.length}"</ETag></CompleteMultipartUploadResult>`,
        );
      }
    }
    if (method === 'PUT' && req.headers['x-amz-copy-source']) {
      const source = decodeURIComponent(String(req.headers['x-amz-copy-source'])).replace(
        /^\//,
        '',
      );
      const size = objects.get(source);
      if (size === undefined) return fail(res, 404, 'NoSuchKey', `no object ${source}`);
      objects.set(id, size);
      return xml(
        res,
        `<CopyObjectResult><ETag>"copy"</ETag><LastModified>${new Date().toISOString()}</LastModified></CopyObjectResult>`,
      );
    }
    if (method === 'PUT') {
      objects.set(id, bodyBytes);
      res.writeHead(200, { etag: '"put"' });
      return void res.end();
    }
    if (method === 'DELETE') {
      objects.delete(id);
      return void res.writeHead(204).end();
    }
    fail(res, 501, 'NotImplemented', `${method} ${url.pathname}${url.search}`);
  };

  const server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      received += bytes;
      handle(req, res, bytes);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    objects,
    bytesReceived: () => received,
    stop: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
