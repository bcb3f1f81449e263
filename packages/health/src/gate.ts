import { CancelledError } from '../../kit/src/errors';
import type { Clock } from '../../kit/src/poll';
import { formatDuration } from '../../kit/src/duration';
import { logSafe } from '../../kit/src/log-text';
import type { Expectations } from './expectations';
import { probe, type Prober, type ProbeResult, type Target } from './probe';
import { percentile } from './stats';
import { lastErrors, newUrlState, recordProbe, type UrlRules, type UrlState } from './url-state';

/** An extra signal checked once per interval (a CloudWatch alarm, target-group health). */
export interface SignalCheck {
  /** Short name for logs and the summary, e.g. `alarm api-5xx`. */
  name: string;
  /**
   * `ok`: fine now. `failed`: the gate must fail at once (an alarm in ALARM). `not-ready`: not
   * fine yet (targets still registering) — the gate waits for it like for a URL, and once it has
   * been `ok`, `unhealthyThreshold` consecutive readings that are not `ok` fail the gate.
   * `unhealthy`: a definite bad reading (a target that failed its health checks): after the
   * start period, `unhealthyThreshold` of them in a row fail the gate even if the signal was
   * never `ok`, as failed probes fail a URL that was never healthy.
   */
  check(signal: AbortSignal): Promise<SignalReading>;
}

/** One reading of a signal. */
export interface SignalReading {
  state: 'ok' | 'not-ready' | 'unhealthy' | 'failed';
  /** What was seen, in a sentence (used as the reason when the gate fails on it). */
  detail: string;
}

/** Where one signal stands at the end. */
export interface SignalStats {
  name: string;
  readings: number;
  verdict: 'ok' | 'failed' | 'not ready in time' | 'still waiting' | 'cancelled';
  detail: string;
}

export interface GateOptions {
  /** The URLs to probe; a target's own `expectations` replace {@link GateOptions.expectations}. */
  targets: Target[];
  /** What a response must satisfy, for every target that does not carry its own. */
  expectations: Expectations;
  healthyThreshold: number;
  unhealthyThreshold: number;
  intervalMs: number;
  requestTimeoutMs: number;
  /** Deadline for every URL to become healthy, from the start. */
  timeoutMs: number;
  /**
   * Grace from the start during which failed probes do not count (ended early by a URL's first
   * successful probe); 0 counts failures from the first probe. See {@link UrlRules}.
   */
  startPeriodMs: number;
  /** How long to keep probing after every URL became healthy. */
  observeMs: number;
  maxLatencyMs?: number;
  /** Percent (0-100). */
  maxErrorRate?: number;
  signals?: SignalCheck[];
  /** Time source and sleeper for intervals, the deadline, request timeouts and latencies. */
  clock: Clock;
  /** Sends one probe; by default an HTTP request judged against `expectations`. */
  prober?: Prober;
  /** Aborts the gate (the workflow was cancelled). */
  signal?: AbortSignal;
  /** Called after every probe, with the URL's state after it. */
  onProbe?: (result: ProbeResult, state: UrlState) => void;
  /** Called when a URL becomes healthy, and when observation starts. */
  onEvent?: (message: string) => void;
}

export type { UrlState } from './url-state';

/** Figures for one URL, over the probes that count (see {@link statsFor}). */
export interface UrlStats {
  url: string;
  probes: number;
  successes: number;
  failures: number;
  p50Ms?: number;
  p95Ms?: number;
  errorRate: number;
  verdict:
    'healthy' | 'unhealthy' | 'not healthy in time' | 'still waiting' | 'breach' | 'cancelled';
  /**
   * Why this URL did not pass: the gate's reason when this URL decided it, else the error of its
   * last probe when that probe failed. Unset for a URL that passed.
   */
  reason?: string;
}

export interface GateResult {
  healthy: boolean;
  reason: string;
  probes: ProbeResult[];
  urls: UrlStats[];
  signals: SignalStats[];
  attempts: number;
  /** Highest p95 across URLs (ms). */
  p95Ms?: number;
  /** Highest error rate across URLs (percent). */
  errorRate: number;
  durationMs: number;
  cancelled: boolean;
}

/**
 * The probes that count for latency and error rate: from the streak that made the URL healthy
 * onwards, so failures while a new release starts up do not count against it; all probes when
 * the URL never became healthy.
 */
export function statsFor(state: UrlState, verdict: UrlStats['verdict']): UrlStats {
  const counted = state.probes.slice(state.windowStart ?? 0);
  const failures = counted.filter((p) => !p.ok).length;
  const latencies = counted.filter((p) => p.status !== undefined).map((p) => p.latencyMs);
  return {
    url: state.url,
    probes: state.probes.length,
    successes: state.probes.filter((p) => p.ok).length,
    failures: state.probes.length - state.probes.filter((p) => p.ok).length,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    errorRate: counted.length ? round((failures / counted.length) * 100) : 0,
    verdict,
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * Probes every target each `intervalMs` until each has `healthyThreshold` consecutive
 * successes, then observes for `observeMs`. Decides as soon as a probe decides: a URL failing by
 * the rules of {@link UrlRules} (consecutive failures, or flapping before it was ever healthy),
 * a signal reporting a problem, the deadline passing, or — at the end of observation — a latency
 * or error-rate breach. All waiting is on `opts.clock`.
 */
export async function runGate(opts: GateOptions): Promise<GateResult> {
  const clock = opts.clock;
  const started = clock.now();
  const stop = new AbortController();
  const rules: UrlRules = {
    healthyThreshold: opts.healthyThreshold,
    unhealthyThreshold: opts.unhealthyThreshold,
    startPeriodMs: opts.startPeriodMs,
  };
  const send: Prober =
    opts.prober ??
    ((target, signal) =>
      probe(
        target,
        target.expectations ?? opts.expectations,
        opts.requestTimeoutMs,
        clock,
        signal,
      ));
  const states = opts.targets.map((t) => newUrlState(t.displayUrl, rules));
  const all: ProbeResult[] = [];
  let decision:
    | { healthy: boolean; reason: string; failedUrl?: string; breach?: boolean; deadline?: boolean }
    | undefined;
  let observeUntil: number | undefined;
  let resolveDecided!: () => void;
  const decided = new Promise<void>((r) => (resolveDecided = r));

  const decide = (
    healthy: boolean,
    reason: string,
    failedUrl?: string,
    breach = false,
    deadline = false,
  ): void => {
    if (decision) return;
    decision = { healthy, reason, failedUrl, breach, deadline };
    stop.abort(new CancelledError('gate decided'));
    resolveDecided();
  };

  /** Sleeps `ms` unless the gate decides meanwhile; false when it did. */
  const pause = (ms: number): Promise<boolean> =>
    clock.sleep(Math.max(0, ms), stop.signal).then(
      () => !decision,
      () => false,
    );

  const evaluateEnd = (): void => {
    for (const state of states) {
      const s = statsFor(state, 'healthy');
      if (opts.maxLatencyMs !== undefined && s.p95Ms !== undefined && s.p95Ms > opts.maxLatencyMs) {
        return decide(
          false,
          `${state.url}: p95 latency ${s.p95Ms}ms over ${state.probes.length - (state.windowStart ?? 0)} probes is above max-latency ${opts.maxLatencyMs}ms.`,
          state.url,
          true,
        );
      }
      if (opts.maxErrorRate !== undefined && s.errorRate > opts.maxErrorRate) {
        return decide(
          false,
          `${state.url}: ${s.errorRate}% of probes failed since it became healthy, above max-error-rate ${opts.maxErrorRate}% (last error: ${lastErrors(state, state.probes.length) || 'none'}).`,
          state.url,
          true,
        );
      }
    }
    const n = states.length;
    const watched =
      opts.observeMs > 0 ? ` and stayed healthy for ${formatDuration(opts.observeMs)}` : '';
    decide(
      true,
      `${n === 1 ? states[0].url : `All ${n} URLs`} passed ${opts.healthyThreshold} consecutive probes${watched}.`,
    );
  };

  const signalStates = (opts.signals ?? []).map((c) => ({
    name: c.name,
    readings: 0,
    ready: false,
    bad: 0,
    detail: 'not read yet',
  }));

  const maybeAllHealthy = (): void => {
    if (observeUntil !== undefined || !states.every((s) => s.phase === 'healthy')) return;
    if (!signalStates.every((s) => s.ready)) return;
    if (opts.observeMs <= 0) return evaluateEnd();
    observeUntil = clock.now() + opts.observeMs;
    opts.onEvent?.(`Every URL is healthy; observing for ${formatDuration(opts.observeMs)}.`);
  };

  const observationOver = (): boolean => observeUntil !== undefined && clock.now() >= observeUntil;

  const loop = async (target: Target, state: UrlState): Promise<void> => {
    while (!decision) {
      const tickStart = clock.now();
      const result = await send(target, stop.signal).catch(() => undefined);
      if (!result || decision) return;
      all.push(result);
      const change = recordProbe(state, result, tickStart - started, rules);
      opts.onProbe?.(result, state);
      if (change?.kind === 'failed') return decide(false, change.reason, state.url);
      if (change?.kind === 'healthy') {
        state.healthyAt = clock.now();
        opts.onEvent?.(`${state.url} is healthy after ${state.probes.length} probes.`);
      }
      maybeAllHealthy();
      if (observationOver()) return evaluateEnd();
      const wait = opts.intervalMs - (clock.now() - tickStart);
      const untilEnd = observeUntil !== undefined ? observeUntil - clock.now() : Infinity;
      if (!(await pause(Math.min(wait, untilEnd)))) return;
      if (observationOver()) return evaluateEnd();
    }
  };

  const signalLoop = async (
    check: SignalCheck,
    st: (typeof signalStates)[number],
  ): Promise<void> => {
    while (!decision) {
      const tickStart = clock.now();
      let reading: SignalReading;
      try {
        reading = await check.check(stop.signal);
      } catch (error) {
        if (decision) return;
        reading = {
          state: 'failed',
          detail: `${check.name} could not be read: ${(error as Error).message}`,
        };
      }
      if (decision) return;
      const detail = logSafe(reading.detail, 1000);
      st.readings++;
      st.detail = detail;
      if (reading.state === 'failed') return decide(false, detail);
      if (reading.state === 'ok') {
        st.bad = 0;
        if (!st.ready) opts.onEvent?.(`${check.name}: ${detail}`);
        st.ready = true;
      } else {
        const counts =
          st.ready || (reading.state === 'unhealthy' && tickStart - started >= opts.startPeriodMs);
        if (!counts) st.bad = 0;
        else if (++st.bad >= opts.unhealthyThreshold)
          return decide(false, `${detail} (${st.bad} readings in a row)`);
      }
      maybeAllHealthy();
      if (observationOver()) return evaluateEnd();
      if (!(await pause(opts.intervalMs - (clock.now() - tickStart)))) return;
    }
  };

  const onDeadline = (): void => {
    const waiting = states.filter((s) => s.phase === 'waiting');
    const notReady = signalStates.find((s) => !s.ready);
    if (!waiting.length && notReady) {
      return decide(
        false,
        `${notReady.detail} — not ready within ${formatDuration(opts.timeoutMs)}.`,
        undefined,
        false,
        true,
      );
    }
    if (!waiting.length) return;
    const s = waiting[0];
    const last = s.probes[s.probes.length - 1];
    const seen = last
      ? `${s.probes.length} probes, last: ${last.ok ? 'ok' : last.error}`
      : 'no probe answered';
    decide(
      false,
      `${s.url} did not become healthy within ${formatDuration(opts.timeoutMs)} (${seen}; needs ${opts.healthyThreshold} consecutive successes).`,
      s.url,
      false,
      true,
    );
  };
  void pause(opts.timeoutMs).then((due) => due && onDeadline());

  const onCancel = (): void => decide(false, 'The gate was cancelled before it reached a verdict.');
  if (opts.signal?.aborted) onCancel();
  opts.signal?.addEventListener('abort', onCancel, { once: true });

  const loops = [
    ...opts.targets.map((t, i) => loop(t, states[i])),
    ...(opts.signals ?? []).map((c, i) => signalLoop(c, signalStates[i])),
  ];
  await decided;
  opts.signal?.removeEventListener('abort', onCancel);
  await Promise.allSettled(loops);

  const final = decision as NonNullable<typeof decision>;
  const cancelled = opts.signal?.aborted ?? false;
  const verdictOf = (state: UrlState): UrlStats['verdict'] => {
    if (cancelled) return 'cancelled';
    if (final.breach && final.failedUrl === state.url) return 'breach';
    if (state.phase === 'waiting') return final.deadline ? 'not healthy in time' : 'still waiting';
    return state.phase;
  };
  const reasonOf = (state: UrlState): string | undefined => {
    if (final.failedUrl === state.url) return final.reason;
    const last = state.probes[state.probes.length - 1];
    return last && !last.ok ? last.error : undefined;
  };
  const urls = states.map((state) => ({
    ...statsFor(state, verdictOf(state)),
    reason: reasonOf(state),
  }));
  const signals: SignalStats[] = signalStates.map((st) => ({
    name: st.name,
    readings: st.readings,
    detail: st.detail,
    verdict: cancelled
      ? 'cancelled'
      : final.deadline && !st.ready
        ? 'not ready in time'
        : !final.healthy && final.reason.startsWith(st.detail)
          ? 'failed'
          : st.ready
            ? 'ok'
            : 'still waiting',
  }));
  const p95s = urls.map((u) => u.p95Ms).filter((v): v is number => v !== undefined);
  return {
    healthy: final.healthy,
    reason: final.reason,
    probes: all,
    urls,
    signals,
    attempts: all.length,
    p95Ms: p95s.length ? Math.max(...p95s) : undefined,
    errorRate: Math.max(0, ...urls.map((u) => u.errorRate)),
    durationMs: clock.now() - started,
    cancelled,
  };
}
