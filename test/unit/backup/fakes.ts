import { Readable } from 'node:stream';
import type { S3Api } from '../../../packages/backup/src/store';

/** A command as the SDK builds it: its class and its input. */
export interface SentCommand {
  name: string;
  input: Record<string, unknown>;
}

/** Handlers by command name (`ListObjectsV2Command` …); unknown commands throw. */
export type Handlers = Record<string, (input: Record<string, unknown>) => unknown>;

/**
 * A typed stand-in for an SDK v3 client's `send`: records every command and answers with the
 * handler for its class name. Pass it where a `Pick<Client, 'send'>` is expected.
 */
export class FakeClient<Api> {
  readonly sent: SentCommand[] = [];
  constructor(private readonly handlers: Handlers) {}

  readonly send = async (command: { input: unknown }): Promise<unknown> => {
    const name = command.constructor.name;
    const input = command.input as Record<string, unknown>;
    this.sent.push({ name, input });
    const handler = this.handlers[name];
    if (!handler) throw new Error(`unexpected ${name}`);
    return handler(input);
  };

  /** This fake, typed as the client API it stands in for. */
  get api(): Api {
    return this as unknown as Api;
  }

  names(): string[] {
    return this.sent.map((c) => c.name);
  }
}

/** An error shaped like the SDK's. */
export function awsError(name: string, status = 400): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

/** One object of a {@link memoryBucket}. */
export interface MemoryObject {
  body: Buffer;
  metadata: Record<string, string>;
  lastModified: Date;
}

/**
 * An S3 bucket in memory, behind a {@link FakeClient}: the calls a backup, its verification,
 * retention and a restore make (uploads, copies, heads, reads, listings, deletes).
 * `read` may change what GetObject returns (to corrupt a read-back).
 */
export function memoryBucket(
  opts: {
    now?: () => Date;
    read?: (key: string, body: Buffer) => Buffer;
    onSend?: (name: string) => void;
  } = {},
) {
  const now = opts.now ?? (() => new Date());
  const objects = new Map<string, MemoryObject>();
  const uploads = new Map<
    string,
    { key: string; metadata: Record<string, string>; parts: Map<number, Buffer> }
  >();
  let n = 0;
  const meta = (i: Record<string, unknown>): Record<string, string> => ({
    ...((i.Metadata as Record<string, string> | undefined) ?? {}),
  });
  const missing = (): never => {
    throw awsError('NotFound', 404);
  };
  const client = new FakeClient<S3Api>({
    HeadBucketCommand: () => ({}),
    PutObjectCommand: (i) => {
      objects.set(i.Key as string, {
        body: Buffer.from(i.Body as Buffer),
        metadata: meta(i),
        lastModified: now(),
      });
      return {};
    },
    CreateMultipartUploadCommand: (i) => {
      const id = `u${++n}`;
      uploads.set(id, { key: i.Key as string, metadata: meta(i), parts: new Map() });
      return { UploadId: id };
    },
    UploadPartCommand: (i) => {
      uploads
        .get(i.UploadId as string)
        ?.parts.set(i.PartNumber as number, Buffer.from(i.Body as Buffer));
      return { ETag: `"e${i.PartNumber as number}"` };
    },
    CompleteMultipartUploadCommand: (i) => {
      const u = uploads.get(i.UploadId as string);
      if (!u) throw awsError('NoSuchUpload', 404);
      const numbers = [...u.parts.keys()].sort((a, b) => a - b);
      objects.set(u.key, {
        body: Buffer.concat(numbers.map((k) => u.parts.get(k) as Buffer)),
        metadata: u.metadata,
        lastModified: now(),
      });
      uploads.delete(i.UploadId as string);
      return {};
    },
    AbortMultipartUploadCommand: (i) => {
      uploads.delete(i.UploadId as string);
      return {};
    },
    CopyObjectCommand: (i) => {
      const source = decodeURIComponent(String(i.CopySource)).replace(/^[^/]+\//, '');
      const o = objects.get(source) ?? missing();
      objects.set(i.Key as string, { body: o.body, metadata: meta(i), lastModified: now() });
      return {};
    },
    HeadObjectCommand: (i) => {
      const o = objects.get(i.Key as string) ?? missing();
      return { Metadata: o.metadata, ContentLength: o.body.length, LastModified: o.lastModified };
    },
    GetObjectCommand: (i) => {
      const o = objects.get(i.Key as string) ?? missing();
      const body = opts.read ? opts.read(i.Key as string, o.body) : o.body;
      return { Body: Readable.from([body]), Metadata: o.metadata };
    },
    DeleteObjectCommand: (i) => {
      objects.delete(i.Key as string);
      return {};
    },
    ListObjectsV2Command: (i) => ({
      Contents: [...objects]
        .filter(([k]) => k.startsWith((i.Prefix as string) ?? ''))
        .map(([Key, o]) => ({ Key, LastModified: o.lastModified, Size: o.body.length })),
      IsTruncated: false,
    }),
  });
  if (opts.onSend) {
    const send = client.send;
    Object.assign(client, {
      send: (command: { input: unknown }) => {
        opts.onSend?.(command.constructor.name);
        return send(command);
      },
    });
  }
  return { client, objects };
}
