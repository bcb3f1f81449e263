import { createHash } from 'node:crypto';
import { logSafe } from '../../kit/src/log-text';
import { ImageError } from './errors';

/** Manifest media types this client reads and writes. */
export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

const ACCEPT = Object.values(MEDIA_TYPES).join(', ');

/** A content descriptor as manifests hold them. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}

/** The parts of an image manifest or index this package reads. */
export interface ManifestJson {
  schemaVersion: number;
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

/** A manifest as the registry stores it: exact bytes, media type and digest. */
export interface Manifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  json: ManifestJson;
}

/** An error answered by a registry (`{"errors":[{"code","message"}]}`), or a transport error. */
export class RegistryError extends ImageError {
  constructor(
    message: string,
    public readonly status?: number,
    public readonly code?: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** Credentials and address of one registry. */
export interface RegistryAuth {
  /** `http://host:port` or `https://host`. */
  baseUrl: string;
  username: string;
  password: string;
}

/** Counts of what crossed the wire, for the summary and the benchmarks. */
export interface TransferStats {
  blobsUploaded: number;
  bytesUploaded: number;
  blobsMounted: number;
  blobsPresent: number;
}

/** A new, zeroed {@link TransferStats}. */
export function emptyStats(): TransferStats {
  return { blobsUploaded: 0, bytesUploaded: 0, blobsMounted: 0, blobsPresent: 0 };
}

/** `sha256:<hex>` of some bytes. */
export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Media type of a manifest from its own field, else by shape. */
export function manifestMediaType(json: ManifestJson, fallback?: string): string {
  if (json.mediaType) return json.mediaType;
  if (fallback) return fallback;
  return json.manifests ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest;
}

/** True for an index or manifest list. */
export function isIndex(mediaType: string): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList;
}

/** A body to upload: bytes, or a stream factory with its size. */
export type BlobBody =
  | Buffer
  | { size: number; open: () => ReadableStream<Uint8Array> | Promise<ReadableStream<Uint8Array>> };

/** What pushing an image needs of a registry; {@link RegistryClient} is one, tests pass fakes. */
export type RegistryTarget = Pick<
  RegistryClient,
  'getManifest' | 'hasBlob' | 'mountBlob' | 'uploadBlob' | 'putManifest'
>;

/**
 * A small OCI distribution client (Basic auth, as ECR's registry uses): manifests, blob
 * existence, cross-repository blob mount, chunk-less uploads. Uses Node's global fetch.
 */
export class RegistryClient {
  private readonly authorization: string;

  constructor(
    readonly auth: RegistryAuth,
    private readonly signal?: AbortSignal,
  ) {
    this.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  }

  /** `host[:port]` of the registry. */
  get host(): string {
    return new URL(this.auth.baseUrl).host;
  }

  private url(path: string): string {
    return new URL(path, this.auth.baseUrl).toString();
  }

  private async request(
    method: string,
    url: string,
    init: { headers?: Record<string, string>; body?: unknown; what: string },
  ): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: this.authorization, ...init.headers },
        body: init.body as never,
        signal: this.signal,
        redirect: 'follow',
        ...(init.body && !(init.body instanceof Buffer) ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (error) {
      const e = error as {
        name?: string;
        message?: string;
        cause?: { code?: string; message?: string };
      };
      if (this.signal?.aborted) throw this.signal.reason;
      if (e?.name === 'AbortError') throw error;
      const why = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(error);
      throw new RegistryError(
        `${init.what}: cannot reach the registry at ${this.auth.baseUrl} (${why})`,
      );
    }
    return res;
  }

  private async fail(res: Response, what: string): Promise<never> {
    const text = await res.text().catch(() => '');
    let code: string | undefined;
    let message = logSafe(text.trim(), 500);
    try {
      const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      const first = parsed.errors?.[0];
      if (first) {
        code = first.code;
        message = logSafe([first.code, first.message].filter(Boolean).join(': '), 500);
      }
    } catch {
      // not JSON: keep the text
    }
    const hint =
      res.status === 401
        ? ' (the registry refused the credentials)'
        : res.status === 403
          ? ' (access denied)'
          : '';
    throw new RegistryError(
      `${what}: HTTP ${res.status}${message ? ` ${message}` : ''}${hint}`,
      res.status,
      code,
    );
  }

  /** Reads a manifest by tag or digest; undefined when the registry does not have it. */
  async getManifest(repository: string, reference: string): Promise<Manifest | undefined> {
    const what = `reading manifest ${repository}:${reference}`;
    const res = await this.request('GET', this.url(`/v2/${repository}/manifests/${reference}`), {
      headers: { accept: ACCEPT },
      what,
    });
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) return this.fail(res, what);
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = sha256(bytes);
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new RegistryError(`${what}: the registry returned content with digest ${digest}`);
    }
    const json = JSON.parse(bytes.toString('utf8')) as ManifestJson;
    const header = res.headers.get('content-type')?.split(';')[0]?.trim();
    return { digest, bytes, json, mediaType: manifestMediaType(json, header) };
  }

  /** True when the repository holds the blob. */
  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const what = `checking blob ${digest} in ${repository}`;
    const res = await this.request('HEAD', this.url(`/v2/${repository}/blobs/${digest}`), { what });
    if (res.status === 404) return false;
    if (!res.ok) return this.fail(res, what);
    return true;
  }

  /**
   * Asks the registry to mount a blob from another repository of the same registry.
   * Returns true when mounted; false when the registry started a normal upload instead
   * (that upload is abandoned).
   */
  async mountBlob(repository: string, digest: string, fromRepository: string): Promise<boolean> {
    const what = `mounting blob ${digest} into ${repository}`;
    const q = new URLSearchParams({ mount: digest, from: fromRepository });
    const res = await this.request('POST', this.url(`/v2/${repository}/blobs/uploads/?${q}`), {
      headers: { 'content-length': '0' },
      what,
    });
    await res.body?.cancel();
    if (res.status === 201) return true;
    if (res.status === 202) return false;
    return this.fail(res, what);
  }

  /** Uploads one blob (a single PATCH, then the closing PUT with its digest). */
  async uploadBlob(repository: string, digest: string, body: BlobBody): Promise<void> {
    const what = `uploading blob ${digest} to ${repository}`;
    const start = await this.request('POST', this.url(`/v2/${repository}/blobs/uploads/`), {
      headers: { 'content-length': '0' },
      what,
    });
    if (start.status !== 202) return this.fail(start, what);
    await start.body?.cancel();
    let location = this.location(start, what);
    const size = Buffer.isBuffer(body) ? body.length : body.size;
    const data = Buffer.isBuffer(body) ? body : await body.open();
    const patch = await this.request('PATCH', location, {
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(size),
        ...(size > 0 ? { 'content-range': `0-${size - 1}` } : {}),
      },
      body: data,
      what,
    });
    if (patch.status !== 202 && patch.status !== 204) return this.fail(patch, what);
    await patch.body?.cancel();
    if (patch.headers.get('location')) location = this.location(patch, what);
    const put = new URL(location);
    put.searchParams.set('digest', digest);
    const done = await this.request('PUT', put.toString(), {
      headers: { 'content-length': '0' },
      what,
    });
    if (done.status !== 201 && done.status !== 204) return this.fail(done, what);
    await done.body?.cancel();
  }

  private location(res: Response, what: string): string {
    const header = res.headers.get('location');
    if (!header) throw new RegistryError(`${what}: the registry sent no upload location`);
    return new URL(header, this.auth.baseUrl).toString();
  }

  /** Streams a blob's content. */
  async openBlob(repository: string, digest: string): Promise<ReadableStream<Uint8Array>> {
    const what = `reading blob ${digest} from ${repository}`;
    const res = await this.request('GET', this.url(`/v2/${repository}/blobs/${digest}`), { what });
    if (!res.ok || !res.body) return this.fail(res, what);
    return res.body;
  }

  /** Stores a manifest under a digest or tag; returns the digest the registry reports. */
  async putManifest(
    repository: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<string> {
    const what = `pushing manifest ${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
    const res = await this.request('PUT', this.url(`/v2/${repository}/manifests/${reference}`), {
      headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
      body: bytes,
      what,
    });
    if (res.status !== 201 && res.status !== 200) return this.fail(res, what);
    await res.body?.cancel();
    return res.headers.get('docker-content-digest') ?? sha256(bytes);
  }
}
