import { formatDuration } from './duration';

/** A mistake in the workflow's configuration: bad input, missing file, contradictory settings. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** The action was cancelled (SIGINT/SIGTERM) while it was waiting. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** A failure the action detected and explained itself (a failed gate, a failed rollout). */
export class ActionFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ActionFailure';
  }
}

/**
 * An AWS call that got no answer within its deadline, retries included: the request was aborted.
 * It names the service and operation like an SDK error does.
 */
export class AwsCallTimeoutError extends ActionFailure {
  constructor(
    public readonly $service: string,
    public readonly $operation: string,
    public readonly timeoutMs: number,
  ) {
    super(
      `${$service} ${$operation} timed out: no answer within ${formatDuration(timeoutMs)} (retries included), so the request was abandoned.`,
    );
    this.name = 'AwsCallTimeoutError';
  }
}

/** The fields an AWS SDK v3 error carries, plus the service and operation the kit's middleware adds. */
export interface AwsErrorLike {
  name: string;
  message: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string; extendedRequestId?: string };
  $service?: string;
  $operation?: string;
}

/** True when `error` came from an AWS SDK v3 client. */
export function isAwsError(error: unknown): error is AwsErrorLike {
  return (
    typeof error === 'object' &&
    error !== null &&
    '$metadata' in error &&
    typeof (error as { name?: unknown }).name === 'string'
  );
}

/**
 * One readable line for an AWS error: service, operation, error code, message and request id,
 * e.g. `ECS UpdateService failed: ServiceNotFoundException: Service not found. (request id 4f2…)`.
 */
export function describeAwsError(error: AwsErrorLike): string {
  const where = [error.$service, error.$operation].filter(Boolean).join(' ');
  const head = where ? `${where} failed: ` : 'AWS call failed: ';
  const status = error.$metadata?.httpStatusCode;
  const id = error.$metadata?.requestId;
  const tail = [status ? `HTTP ${status}` : '', id ? `request id ${id}` : '']
    .filter(Boolean)
    .join(', ');
  const message = error.message && error.message !== error.name ? `: ${error.message}` : '';
  return `${head}${error.name}${message}${tail ? ` (${tail})` : ''}`;
}

/** True when an AWS error is a throttling error, by the codes AWS services use. */
export function isThrottlingError(error: unknown): boolean {
  if (!isAwsError(error)) return false;
  return /Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/i.test(error.name);
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Error names AWS services and the SDK give to an attempt that was not answered. */
const TRANSIENT_NAMES =
  /^(TimeoutError|RequestTimeout|RequestTimeoutException|ServiceUnavailable|InternalFailure|NetworkingError)$/;

/**
 * True when an error says nothing about the request itself, only that this attempt could not be
 * answered: throttling, a server-side fault (HTTP 5xx), a timeout (the SDK's `TimeoutError`, the
 * kit's {@link AwsCallTimeoutError}) or a network error. A loop that reads state it may read
 * again (follow a rollout) can keep going through these until its own deadline, and say what it
 * last saw if it must stop. A cancel or an abort is never transient.
 */
export function isTransientAwsError(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  if (error instanceof CancelledError) return false;
  const e = error as Partial<AwsErrorLike> & { code?: string };
  if (e.name === 'AbortError') return false;
  if (error instanceof AwsCallTimeoutError || TRANSIENT_NAMES.test(e.name ?? '')) return true;
  if (isThrottlingError(error)) return true;
  if (e.$fault === 'server') return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  return typeof e.code === 'string' && NETWORK_CODES.has(e.code);
}

/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
