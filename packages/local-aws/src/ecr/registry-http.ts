/**
 * The OCI distribution API (the "data plane" docker, buildah and skopeo talk to) under `/v2/`:
 * Basic authentication with ECR tokens, blob uploads and mounts, manifests and tag lists.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../contracts';
import type { TokenIssuer } from './auth';
import { BlobDigestMismatchError, type UploadSession } from './blob-store';
import { isDigest, MAX_MANIFEST_BYTES } from './manifest';
import { isValidRepositoryName } from './names';
import {
  EcrStateError,
  isValidTag,
  type EcrStateErrorKind,
  type RegistryState,
  type RepositoryRecord,
} from './registry-state';

/** An OCI distribution error: HTTP status plus an `errors[]` entry. */
class RegistryError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    public readonly detail?: unknown,
    public readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

const STATE_ERRORS: Record<EcrStateErrorKind, [number, string]> = {
  RepositoryNotFound: [404, 'NAME_UNKNOWN'],
  ImageNotFound: [404, 'MANIFEST_UNKNOWN'],
  ManifestInvalid: [400, 'MANIFEST_INVALID'],
  ManifestUnsupported: [400, 'MANIFEST_INVALID'],
  DigestMismatch: [400, 'DIGEST_INVALID'],
  LayersNotFound: [400, 'MANIFEST_BLOB_UNKNOWN'],
  ReferencedImagesNotFound: [400, 'MANIFEST_BLOB_UNKNOWN'],
  TagImmutable: [400, 'TAG_INVALID'],
  ReferencedByIndex: [409, 'DENIED'],
};

const API_VERSION_HEADER = { 'Docker-Distribution-API-Version': 'registry/2.0' };

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  body?: string | Buffer,
): void {
  const payload = body === undefined ? undefined : Buffer.from(body);
  res.writeHead(status, {
    ...API_VERSION_HEADER,
    'Content-Length': payload?.length ?? 0,
    ...headers,
  });
  res.end(payload);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers = {}): void {
  send(
    res,
    status,
    { 'Content-Type': 'application/json; charset=utf-8', ...headers },
    JSON.stringify(value),
  );
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw new RegistryError(413, 'SIZE_INVALID', `request body is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function uploadRange(session: UploadSession): string {
  return `0-${Math.max(0, session.size - 1)}`;
}

/** Builds the `/v2/` request handler over a registry state. */
export function createRegistryHandler(
  state: RegistryState,
  tokens: TokenIssuer,
): (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => Promise<void> {
  const repository = (name: string): RepositoryRecord => {
    if (!isValidRepositoryName(name)) {
      throw new RegistryError(400, 'NAME_INVALID', `invalid repository name \`${name}\``);
    }
    return state.repository(name);
  };

  const uploadSession = (name: string, id: string): UploadSession => {
    const session = state.blobs.upload(id);
    if (!session || session.repositoryName !== name) {
      throw new RegistryError(
        404,
        'BLOB_UPLOAD_UNKNOWN',
        `upload \`${id}\` is unknown to repository \`${name}\``,
      );
    }
    return session;
  };

  const digestParam = (value: string | null): string => {
    if (!value || !isDigest(value)) {
      throw new RegistryError(
        400,
        'DIGEST_INVALID',
        `invalid or missing digest \`${value ?? ''}\``,
      );
    }
    return value;
  };

  /** Finishes an upload: verifies the digest, links the blob into the repository, answers 201. */
  const completeUpload = async (
    res: ServerResponse,
    repo: RepositoryRecord,
    session: UploadSession,
    digest: string,
  ): Promise<void> => {
    try {
      await state.blobs.finish(session, digest);
    } catch (error) {
      if (error instanceof BlobDigestMismatchError) {
        throw new RegistryError(400, 'DIGEST_INVALID', error.message, { digest });
      }
      throw error;
    }
    repo.blobs.add(digest);
    state.countUpload(repo.name, digest, state.blobs.size(digest) ?? 0);
    send(res, 201, {
      Location: `/v2/${repo.name}/blobs/${digest}`,
      'Docker-Content-Digest': digest,
    });
  };

  const append = async (
    req: IncomingMessage,
    repo: RepositoryRecord,
    session: UploadSession,
  ): Promise<void> => {
    const count = await state.blobs.append(session, req);
    state.countBlobBytes(repo.name, count);
  };

  const blob = async (
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    digest: string,
  ): Promise<void> => {
    const repo = repository(name);
    if (req.method === 'DELETE') {
      throw new RegistryError(
        405,
        'UNSUPPORTED',
        'blob deletion is not supported; delete images instead',
      );
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new RegistryError(405, 'UNSUPPORTED', `method ${req.method} is not allowed on blobs`);
    }
    if (!isDigest(digest))
      throw new RegistryError(400, 'DIGEST_INVALID', `invalid digest \`${digest}\``);
    const size = repo.blobs.has(digest) ? state.blobs.size(digest) : undefined;
    if (size === undefined) {
      throw new RegistryError(
        404,
        'BLOB_UNKNOWN',
        `blob \`${digest}\` is unknown to repository \`${name}\``,
        {
          digest,
        },
      );
    }
    const headers = {
      ...API_VERSION_HEADER,
      'Content-Type': 'application/octet-stream',
      'Content-Length': size,
      'Docker-Content-Digest': digest,
      'Accept-Ranges': 'bytes',
      ETag: `"${digest}"`,
    };
    if (req.method === 'HEAD') {
      res.writeHead(200, headers);
      res.end();
      return;
    }
    // Clients resuming an interrupted pull ask for `bytes=<start>-[<end>]`.
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = size - 1;
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start > end) {
        throw new RegistryError(
          416,
          'RANGE_INVALID',
          `range \`${req.headers.range}\` is outside the blob`,
          undefined,
          {
            'Content-Range': `bytes */${size}`,
          },
        );
      }
      res.writeHead(206, {
        ...headers,
        'Content-Length': end - start + 1,
        'Content-Range': `bytes ${start}-${end}/${size}`,
      });
    } else {
      res.writeHead(200, headers);
    }
    if (size === 0) {
      res.end();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const stream = state.blobs.stream(digest, start, end);
      stream.on('error', reject);
      res.on('close', resolve);
      stream.pipe(res);
    });
  };

  const startUpload = async (
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    query: URLSearchParams,
  ): Promise<void> => {
    if (req.method !== 'POST') {
      throw new RegistryError(405, 'UNSUPPORTED', `method ${req.method} is not allowed here`);
    }
    const repo = repository(name);
    const mount = query.get('mount');
    const from = query.get('from');
    if (mount && isDigest(mount) && from) {
      const source = state.repositories.get(from);
      if (source?.blobs.has(mount) && state.blobs.has(mount)) {
        req.resume();
        repo.blobs.add(mount);
        state.countMount(repo.name);
        send(res, 201, {
          Location: `/v2/${repo.name}/blobs/${mount}`,
          'Docker-Content-Digest': mount,
        });
        return;
      }
    }
    const session = state.blobs.startUpload(repo.name);
    const digest = query.get('digest');
    if (digest !== null) {
      const expected = digestParam(digest);
      await append(req, repo, session);
      await completeUpload(res, repo, session, expected);
      return;
    }
    req.resume();
    send(res, 202, {
      Location: `/v2/${repo.name}/blobs/uploads/${session.id}`,
      Range: '0-0',
      'Docker-Upload-UUID': session.id,
    });
  };

  const upload = async (
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    id: string,
    query: URLSearchParams,
  ): Promise<void> => {
    const repo = repository(name);
    const session = uploadSession(name, id);
    const location = `/v2/${repo.name}/blobs/uploads/${session.id}`;
    switch (req.method) {
      case 'GET':
        send(res, 204, {
          Location: location,
          Range: uploadRange(session),
          'Docker-Upload-UUID': session.id,
        });
        return;
      case 'DELETE':
        await state.blobs.cancel(session);
        send(res, 204, {});
        return;
      case 'PATCH': {
        const contentRange = req.headers['content-range'];
        if (contentRange) {
          const match = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(contentRange.trim());
          if (!match || Number(match[1]) !== session.size) {
            req.resume();
            throw new RegistryError(
              416,
              'RANGE_INVALID',
              `Content-Range \`${contentRange}\` does not continue at byte ${session.size}`,
              undefined,
              {
                Location: location,
                Range: uploadRange(session),
              },
            );
          }
        }
        await append(req, repo, session);
        send(res, 202, {
          Location: location,
          Range: uploadRange(session),
          'Docker-Upload-UUID': session.id,
        });
        return;
      }
      case 'PUT': {
        const digest = digestParam(query.get('digest'));
        await append(req, repo, session);
        await completeUpload(res, repo, session, digest);
        return;
      }
      default:
        throw new RegistryError(
          405,
          'UNSUPPORTED',
          `method ${req.method} is not allowed on uploads`,
        );
    }
  };

  const manifest = async (
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    reference: string,
  ): Promise<void> => {
    const repo = repository(name);
    const byDigest = reference.startsWith('sha256:');
    if (byDigest ? !isDigest(reference) : !isValidTag(reference)) {
      throw new RegistryError(
        400,
        byDigest ? 'DIGEST_INVALID' : 'TAG_INVALID',
        `invalid reference \`${reference}\``,
      );
    }
    switch (req.method) {
      case 'GET':
      case 'HEAD': {
        const image = state.resolve(repo, reference);
        if (!image) {
          throw new RegistryError(
            404,
            'MANIFEST_UNKNOWN',
            `manifest \`${reference}\` is unknown to repository \`${name}\``,
            {
              reference,
            },
          );
        }
        if (req.method === 'GET') image.lastPulledAt = Date.now();
        send(
          res,
          200,
          {
            'Content-Type': image.mediaType,
            'Docker-Content-Digest': image.digest,
            ETag: `"${image.digest}"`,
          },
          image.manifest,
        );
        return;
      }
      case 'PUT': {
        const body = await readBody(req, MAX_MANIFEST_BYTES);
        const { image } = state.putManifest(
          repo,
          body,
          req.headers['content-type'],
          byDigest ? undefined : reference,
          byDigest ? reference : undefined,
        );
        state.countManifest(repo.name);
        send(res, 201, {
          Location: `/v2/${repo.name}/manifests/${image.digest}`,
          'Docker-Content-Digest': image.digest,
        });
        return;
      }
      case 'DELETE': {
        if (byDigest) {
          state.deleteImage(repo, reference);
        } else if (!repo.tagIndex.delete(reference)) {
          throw new RegistryError(
            404,
            'MANIFEST_UNKNOWN',
            `tag \`${reference}\` is unknown to repository \`${name}\``,
          );
        }
        send(res, 202, {});
        return;
      }
      default:
        throw new RegistryError(
          405,
          'UNSUPPORTED',
          `method ${req.method} is not allowed on manifests`,
        );
    }
  };

  const tagList = (
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    query: URLSearchParams,
  ): void => {
    if (req.method !== 'GET')
      throw new RegistryError(405, 'UNSUPPORTED', `method ${req.method} is not allowed`);
    const repo = repository(name);
    let tags = [...repo.tagIndex.keys()].sort();
    const last = query.get('last');
    if (last) tags = tags.filter((t) => t > last);
    const n = query.get('n');
    const headers: Record<string, string> = {};
    if (n !== null) {
      const limit = Number(n);
      if (!Number.isInteger(limit) || limit < 0) {
        throw new RegistryError(400, 'PAGINATION_NUMBER_INVALID', `invalid page size \`${n}\``);
      }
      if (tags.length > limit) {
        tags = tags.slice(0, limit);
        headers.Link = `</v2/${repo.name}/tags/list?n=${limit}&last=${encodeURIComponent(tags[tags.length - 1] ?? '')}>; rel="next"`;
      }
    }
    sendJson(res, 200, { name: repo.name, tags }, headers);
  };

  return async (req, res, ctx) => {
    try {
      const url = new URL(req.url ?? '/', 'http://registry.invalid');
      if (!tokens.verifyAuthorizationHeader(req.headers.authorization)) {
        req.resume();
        const message = req.headers.authorization
          ? 'Your authorization token is invalid or has expired. Reauthenticate and try again.'
          : 'Not Authorized';
        throw new RegistryError(401, 'UNAUTHORIZED', message, undefined, {
          'WWW-Authenticate': `Basic realm="http://${ctx.endpointHost}/",service="ecr.amazonaws.com"`,
        });
      }
      const path = url.pathname;
      if (path === '/v2/' || path === '/v2') {
        req.resume();
        sendJson(res, 200, {});
        return;
      }
      const segments = path.slice('/v2/'.length).split('/').map(decodeURIComponent);
      const tail = (n: number): string => segments.slice(segments.length - n).join('/');
      const head = (n: number): string => segments.slice(0, segments.length - n).join('/');
      const count = segments.length;
      if (count >= 3 && tail(2) === 'tags/list') {
        req.resume();
        tagList(req, res, head(2), url.searchParams);
      } else if (count >= 3 && segments[count - 2] === 'manifests') {
        await manifest(req, res, head(2), segments[count - 1]);
      } else if (count >= 3 && tail(2) === 'blobs/uploads') {
        await startUpload(req, res, head(2), url.searchParams);
      } else if (
        count >= 4 &&
        segments[count - 3] === 'blobs' &&
        segments[count - 2] === 'uploads'
      ) {
        if (segments[count - 1] === '') await startUpload(req, res, head(3), url.searchParams);
        else await upload(req, res, head(3), segments[count - 1], url.searchParams);
      } else if (count >= 3 && segments[count - 2] === 'blobs') {
        req.resume();
        await blob(req, res, head(2), segments[count - 1]);
      } else {
        req.resume();
        throw new RegistryError(404, 'UNSUPPORTED', `no registry route for ${req.method} ${path}`);
      }
    } catch (error) {
      if (!req.readableEnded) req.resume();
      let e: RegistryError;
      if (error instanceof RegistryError) e = error;
      else if (error instanceof EcrStateError) {
        const [status, code] = STATE_ERRORS[error.kind];
        e = new RegistryError(
          status,
          code,
          error.message,
          error.digests.length ? { digests: error.digests } : undefined,
        );
      } else {
        e = new RegistryError(500, 'UNKNOWN', `internal error: ${(error as Error).message}`);
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const body = {
        errors: [{ code: e.code, message: e.message, ...(e.detail ? { detail: e.detail } : {}) }],
      };
      if (req.method === 'HEAD') {
        res.writeHead(e.status, { ...API_VERSION_HEADER, ...e.headers });
        res.end();
      } else {
        sendJson(res, e.status, body, e.headers);
      }
    }
  };
}
