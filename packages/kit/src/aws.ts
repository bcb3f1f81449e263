import {
  AwsCallTimeoutError,
  CancelledError,
  ConfigurationError,
  errorMessage,
  type AwsErrorLike,
} from './errors';
import { currentRunDeadline, currentRunSignal } from './run-signal';
import { VERSION } from './version';

/** How long one AWS call may take before the kit abandons it. */
export interface AwsCallLimits {
  /** Longest one call may take, its retries and their waits included. */
  callTimeoutMs: number;
  /**
   * Longest a call started after the run was cancelled may take: the cleanup an action does on
   * its way out (abort an upload, record a state) must end before the runner kills the step.
   */
  afterCancelTimeoutMs: number;
}

/**
 * The limits a client of `service` gets unless its caller passes its own: 3 minutes a call for
 * the control-plane APIs (a call takes well under a second); 30 minutes for S3, whose calls move
 * data (a 5 GB CopyObject, a large part on a slow link) and whose stalls the per-attempt silence
 * limit already catches. 5 seconds for a call made after the cancel.
 */
export function defaultCallLimits(service: string): AwsCallLimits {
  return {
    callTimeoutMs: service === 'S3' ? 1_800_000 : 180_000,
    afterCancelTimeoutMs: 5_000,
  };
}

/**
 * Options of the SDK's own Node HTTP handler (`@smithy/node-http-handler`), per attempt: a
 * connection that does not open, or a socket that stays silent (nothing sent or received, a
 * response body left unread included), fails the attempt with a `TimeoutError`, which the SDK
 * retries.
 */
export interface AwsHttpHandlerOptions {
  connectionTimeout: number;
  socketTimeout: number;
}

/** Options every shipkit AWS client is created with. Endpoints come from the SDK's own settings. */
export interface AwsClientConfig {
  region: string;
  retryMode: 'adaptive';
  maxAttempts: number;
  customUserAgent: [string, string][];
  requestHandler: AwsHttpHandlerOptions;
}

/**
 * The region from the input, else `AWS_REGION`, else `AWS_DEFAULT_REGION`.
 * Throws a {@link ConfigurationError} naming `inputName` when none is set.
 */
export function resolveRegion(fromInput?: string, inputName = 'region'): string {
  const region = fromInput || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new ConfigurationError(
      `No AWS region: set input \`${inputName}\` or the AWS_REGION environment variable (aws-actions/configure-aws-credentials sets it).`,
    );
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new ConfigurationError(
      `Input \`${inputName}\` must be an AWS region such as \`eu-west-1\`; got \`${region}\`.`,
    );
  }
  return region;
}

/**
 * Shared client options: region, adaptive retries, a `shipkit/<version>` user-agent suffix, and
 * per-attempt connection (10 s) and silence (30 s) limits on the SDK's own HTTP handler.
 *
 * It also turns off the SDK's warning that its releases after early 2027 need Node 22: shipkit
 * pins the SDK and runs on `node24`, so on a local Node 20 the nine lines are only noise in the
 * action's log. Other warnings stay.
 */
export function awsClientConfig(region: string): AwsClientConfig {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return {
    region,
    retryMode: 'adaptive',
    maxAttempts: 6,
    customUserAgent: [['shipkit', VERSION]],
    requestHandler: { connectionTimeout: 10_000, socketTimeout: 30_000 },
  };
}

/** The `send` the kit wraps: a command, the SDK's handler options, or a callback. */
type Send = (command: unknown, options?: unknown, callback?: unknown) => Promise<unknown>;

interface KitClient {
  middlewareStack: {
    add(middleware: unknown, options: { step: 'initialize'; name: string }): void;
  };
  send(...args: never[]): Promise<unknown>;
}

/**
 * Makes a client the kit's, so call sites need nothing else:
 * - every error it throws records the service and operation (`$service`, `$operation`), so the
 *   run wrapper can say which call failed;
 * - every call carries the abort signal of the current run ({@link currentRunSignal}): a
 *   cancelled workflow aborts the request in flight and the SDK's retry wait at once, and the
 *   call fails with the run's {@link CancelledError};
 * - every call has a deadline, retries included (`limits.callTimeoutMs`), after which the request
 *   is aborted and the call fails with an {@link AwsCallTimeoutError} naming the service and
 *   operation. A call started after the run was cancelled (cleanup) is not aborted by the
 *   cancel, but gets the short `limits.afterCancelTimeoutMs`.
 * A caller's own `abortSignal` still works and keeps the SDK's error.
 */
export function withErrorContext<C extends KitClient>(
  client: C,
  service: string,
  limits: AwsCallLimits = defaultCallLimits(service),
): C {
  const middleware =
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
    async (args: unknown): Promise<unknown> => {
      try {
        return await next(args);
      } catch (error) {
        if (error && typeof error === 'object') {
          const e = error as { $service?: string; $operation?: string };
          e.$service ??= service;
          e.$operation ??= context.commandName?.replace(/Command$/, '');
        }
        throw error;
      }
    };
  client.middlewareStack.add(middleware, { step: 'initialize', name: 'shipkitErrorContext' });
  const send = client.send.bind(client) as unknown as Send;
  (client as unknown as { send: Send }).send = boundSend(send, service, limits);
  return client;
}

/**
 * How long a call may take: the per-call limit, cut at the end of the step's `timeout` when one
 * is set (a call that starts after it still gets the short after-cancel limit, so the action
 * can read the state it reports).
 */
function callTimeout(limits: AwsCallLimits): number {
  const end = currentRunDeadline();
  if (end === undefined) return limits.callTimeoutMs;
  const left = end - Date.now();
  return left > 0 ? Math.min(limits.callTimeoutMs, left) : limits.afterCancelTimeoutMs;
}

/** `send` with the run's signal and a deadline on every promise-style call. */
function boundSend(send: Send, service: string, limits: AwsCallLimits): Send {
  return async (command, options, callback) => {
    if (typeof options === 'function' || callback !== undefined) {
      return send(command, options, callback);
    }
    const run = currentRunSignal();
    const afterCancel = run?.aborted ?? false;
    const timeoutMs = afterCancel ? limits.afterCancelTimeoutMs : callTimeout(limits);
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error('deadline')), timeoutMs);
    const own = (options as { abortSignal?: AbortSignal } | undefined)?.abortSignal;
    const signals = [deadline.signal];
    if (own) signals.push(own);
    if (run && !afterCancel) signals.push(run);
    try {
      return await send(command, {
        ...(options as object | undefined),
        abortSignal: AbortSignal.any(signals),
      });
    } catch (error) {
      const operation = (error as Partial<AwsErrorLike> | undefined)?.$operation ?? 'call';
      // The run's own reason, so a cancel reads the same whether it found a call or a wait.
      if (run?.aborted && !afterCancel) {
        if (run.reason instanceof CancelledError) throw run.reason;
        throw new CancelledError(errorMessage(run.reason) || 'the run was cancelled');
      }
      if (deadline.signal.aborted) throw new AwsCallTimeoutError(service, operation, timeoutMs);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };
}
