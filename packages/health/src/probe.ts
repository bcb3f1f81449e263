import type { Clock } from '../../kit/src/poll';
import { logSafe } from '../../kit/src/log-text';
import { checkResponse, type Expectations } from './expectations';

/** One endpoint to probe. */
export interface Target {
  url: string;
  /** The URL as it may be printed (credentials hidden). */
  displayUrl: string;
  method: string;
  headers: Record<string, string>;
  /** What a response of this URL must satisfy; the gate's own expectations when unset. */
  expectations?: Expectations;
}

/** What one probe saw. */
export interface ProbeResult {
  /** ISO time the probe started. */
  time: string;
  url: string;
  status?: number;
  latencyMs: number;
  ok: boolean;
  /** Why the probe failed, in a few words. */
  error?: string;
}

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
};

/**
 * Turns a fetch failure into the few words a person needs, on one line (the server's or the
 * TLS library's own words pass through {@link logSafe}).
 */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  const e = error as {
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (e?.name === 'TimeoutError') return `timed out after ${timeoutMs}ms`;
  const code = e?.cause?.code ?? '';
  if (NETWORK_WORDS[code]) return NETWORK_WORDS[code];
  if (
    /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code) ||
    /certificate|ssl|tls/i.test(e?.cause?.message ?? '')
  ) {
    return logSafe(`TLS error: ${e?.cause?.message ?? code}`, 300);
  }
  const detail = e?.cause?.message ?? e?.message ?? String(error);
  return logSafe(code ? `${code}: ${detail}` : detail, 300);
}

/** True when `text` parses as an http:// or https:// URL, the only kind a probe sends. */
export function isHttpUrl(text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

/**
 * Moves `user:password@` out of a URL into a Basic `Authorization` header, since fetch refuses
 * URLs with credentials.
 */
export function splitCredentials(url: string): { url: string; authorization?: string } {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return { url };
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return {
    url: parsed.toString(),
    authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
  };
}

/** Sends one probe to `target`; rejects only when `signal` aborts. */
export type Prober = (target: Target, signal: AbortSignal) => Promise<ProbeResult>;

/**
 * Sends one request and judges the response. Never throws for a failed probe; rejects only when
 * `signal` aborts (the gate has decided or was cancelled). The request timeout and the latency
 * are measured on `clock`.
 */
export async function probe(
  target: Target,
  exp: Expectations,
  timeoutMs: number,
  clock: Clock,
  signal?: AbortSignal,
): Promise<ProbeResult> {
  const started = clock.now();
  const time = new Date(started).toISOString();
  const { url, authorization } = splitCredentials(target.url);
  const headers: Record<string, string> = {
    'user-agent': 'shipkit-health-gate',
    ...target.headers,
  };
  if (authorization && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
    headers.authorization = authorization;
  }
  const timeout = new AbortController();
  const finished = new AbortController();
  clock.sleep(timeoutMs, finished.signal).then(
    () => timeout.abort(new DOMException(`timed out after ${timeoutMs}ms`, 'TimeoutError')),
    () => undefined,
  );
  const combined = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
  try {
    const response = await fetch(url, {
      method: target.method,
      headers,
      signal: combined,
      redirect: 'manual',
    });
    const body = await response.text();
    const latencyMs = clock.now() - started;
    const error = checkResponse(response.status, body, exp);
    return { time, url: target.displayUrl, status: response.status, latencyMs, ok: !error, error };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    return {
      time,
      url: target.displayUrl,
      latencyMs: clock.now() - started,
      ok: false,
      error: describeFetchError(error, timeoutMs),
    };
  } finally {
    finished.abort();
  }
}
