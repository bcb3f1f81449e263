import { formatDuration } from '../../kit/src/duration';
import type { ProbeResult } from './probe';

/**
 * The rules that judge one URL's probes, as Docker, ECS and load balancers count them.
 *
 * - A URL becomes healthy after `healthyThreshold` consecutive successful probes.
 * - Failures count from the first probe, unless a start period is set: failed probes sent within
 *   `startPeriodMs` of the gate's start do not count, and the start period ends early at the URL's
 *   first successful probe (as Docker's and ECS's `startPeriod`).
 * - `unhealthyThreshold` consecutive counted failures fail the URL, before or after it was first
 *   healthy.
 * - A URL that flaps (fails and passes in turn) and so never reaches `healthyThreshold`
 *   successes in a row fails once {@link flapLimit} counted probes have failed before it became
 *   healthy, consecutive or not: 6 with the default threshold of 3, so a URL failing every other
 *   probe fails within 12 probes instead of at the deadline.
 */
export interface UrlRules {
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** Grace after the gate's start during which failed probes do not count; 0 for none. */
  startPeriodMs: number;
}

/** Counted failed probes (consecutive or not) after which a URL not yet healthy fails: twice `unhealthyThreshold`. */
export function flapLimit(rules: Pick<UrlRules, 'unhealthyThreshold'>): number {
  return 2 * rules.unhealthyThreshold;
}

/** Where one URL stands. */
export interface UrlState {
  url: string;
  phase: 'waiting' | 'healthy' | 'unhealthy';
  /** True until the start period is over (by time, or by the URL's first successful probe). */
  inStartPeriod: boolean;
  consecutiveSuccesses: number;
  /** Consecutive failed probes that count (those in the start period do not). */
  consecutiveFailures: number;
  /** Failed probes that counted while the URL was not yet healthy, consecutive or not. */
  failuresBeforeHealthy: number;
  /** Probes sent while the URL was not yet healthy, start period aside. */
  countedBeforeHealthy: number;
  probes: ProbeResult[];
  /** Index in `probes` of the first probe of the streak that made the URL healthy. */
  windowStart?: number;
  /** Clock time (ms) at which the URL became healthy. */
  healthyAt?: number;
}

/** A fresh state for `url`, before its first probe. */
export function newUrlState(url: string, rules: UrlRules): UrlState {
  return {
    url,
    phase: 'waiting',
    inStartPeriod: rules.startPeriodMs > 0,
    consecutiveSuccesses: 0,
    consecutiveFailures: 0,
    failuresBeforeHealthy: 0,
    countedBeforeHealthy: 0,
    probes: [],
  };
}

/** What one probe changed: the URL became healthy, or it failed the gate with this reason. */
export type UrlChange = { kind: 'healthy' } | { kind: 'failed'; reason: string };

/** The distinct errors among the last `n` probes, for a reason. */
export function lastErrors(state: UrlState, n: number): string {
  const recent = state.probes.slice(-n).filter((p) => !p.ok);
  return [...new Set(recent.map((p) => p.error ?? 'failed'))].join('; ');
}

/**
 * Records one probe of `state.url`, sent `sentAtMs` after the gate started, and applies
 * {@link UrlRules}. Returns what changed, if anything; `state` is updated in place.
 */
export function recordProbe(
  state: UrlState,
  result: ProbeResult,
  sentAtMs: number,
  rules: UrlRules,
): UrlChange | undefined {
  state.probes.push(result);
  if (state.inStartPeriod && (result.ok || sentAtMs >= rules.startPeriodMs)) {
    state.inStartPeriod = false;
  }
  const counts = !state.inStartPeriod;
  if (result.ok) {
    state.consecutiveSuccesses++;
    state.consecutiveFailures = 0;
  } else {
    state.consecutiveSuccesses = 0;
    if (counts) state.consecutiveFailures++;
  }
  if (state.phase === 'waiting' && counts) {
    state.countedBeforeHealthy++;
    if (!result.ok) state.failuresBeforeHealthy++;
  }

  if (state.phase === 'waiting' && state.consecutiveSuccesses >= rules.healthyThreshold) {
    state.phase = 'healthy';
    state.windowStart = state.probes.length - state.consecutiveSuccesses;
    return { kind: 'healthy' };
  }
  if (state.consecutiveFailures >= rules.unhealthyThreshold) {
    const wasHealthy = state.phase === 'healthy';
    state.phase = 'unhealthy';
    const n = state.consecutiveFailures;
    return {
      kind: 'failed',
      reason: wasHealthy
        ? `${state.url} became unhealthy: ${n} consecutive probes failed (${lastErrors(state, n)}).`
        : `${state.url} never became healthy: ${n} consecutive probes failed${afterGrace(rules)} (${lastErrors(state, n)}).`,
    };
  }
  if (state.phase === 'waiting' && state.failuresBeforeHealthy >= flapLimit(rules)) {
    state.phase = 'unhealthy';
    return {
      kind: 'failed',
      reason: `${state.url} never became healthy: it flaps, ${state.failuresBeforeHealthy} of ${state.countedBeforeHealthy} probes failed${afterGrace(rules)} and it never passed ${rules.healthyThreshold} in a row (${lastErrors(state, state.countedBeforeHealthy)}).`,
    };
  }
  return undefined;
}

function afterGrace(rules: UrlRules): string {
  return rules.startPeriodMs > 0
    ? ` after the start period of ${formatDuration(rules.startPeriodMs)}`
    : '';
}
