import type { Prober, ProbeResult } from '../../../packages/health/src/probe';
import type { VirtualClock } from './virtual-clock';

/** What the n-th probe (1-based) of a URL sees: a pass, or the failure's words. */
export type Answer = { ok: true } | { ok: false; status?: number; error: string };

export const OK: Answer = { ok: true };
export const E503: Answer = { ok: false, status: 503, error: 'status 503 is not in 200-299' };
export const REFUSED: Answer = { ok: false, error: 'connection refused' };

/** A prober that answers from `script`, taking `latencyMs` of clock time per probe, and counts the probes per URL. */
export function fakeProber(
  clock: VirtualClock,
  script: (n: number, url: string) => Answer,
  latencyMs = 0,
): Prober & { sent: Map<string, number> } {
  const sent = new Map<string, number>();
  const prober = async (
    target: { displayUrl: string },
    signal: AbortSignal,
  ): Promise<ProbeResult> => {
    const n = (sent.get(target.displayUrl) ?? 0) + 1;
    sent.set(target.displayUrl, n);
    const time = new Date(clock.now()).toISOString();
    if (latencyMs) await clock.sleep(latencyMs, signal);
    const answer = script(n, target.displayUrl);
    return {
      time,
      url: target.displayUrl,
      latencyMs,
      ...(answer.ok
        ? { ok: true, status: 200 }
        : { ok: false, status: answer.status, error: answer.error }),
    };
  };
  return Object.assign(prober, { sent });
}
