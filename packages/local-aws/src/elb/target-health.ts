/**
 * Registered targets over time: registration, the health checks (HTTP probes with the group's
 * settings, scaled by the clock), draining on deregistration, and the `unused` state of targets
 * whose group no listener forwards to. Health changes are reported to listeners (ECS).
 */
import { request } from 'node:http';
import { AwsError } from '../contracts';
import type { Clock } from '../clock';
import type { TargetGroup, TargetState } from './model';
import { targetKey, type ElbState } from './state';

/** Called when a target's health state changes. */
export type TargetHealthListener = (t: TargetState) => void;

const NOT_IN_USE = {
  reason: 'Target.NotInUse',
  description: 'Target group is not configured to receive traffic from the load balancer',
};

/** Whether an HTTP status matches a matcher such as `200`, `200,202` or `200-299`. */
function matchCodes(matcher: string, status: number): boolean {
  return matcher.split(',').some((part) => {
    const [lo, hi] = part.trim().split('-').map(Number);
    return hi === undefined ? status === lo : status >= lo && status <= hi;
  });
}

/** Registers, probes and drains targets. */
export class TargetHealthChecker {
  private readonly probes = new Map<string, NodeJS.Timeout>();
  private readonly drains = new Map<string, { timer: NodeJS.Timeout; done: (() => void)[] }>();
  private readonly healthListeners: TargetHealthListener[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly state: ElbState,
  ) {}

  onTargetHealth(fn: TargetHealthListener): void {
    this.healthListeners.push(fn);
  }

  /** Health state of the target `127.0.0.1:port` in a group. */
  targetState(tgArn: string, port: number): TargetState | undefined {
    return (
      this.state.targets.get(targetKey(tgArn, '127.0.0.1', port)) ??
      [...this.state.targets.values()].find((t) => t.tgArn === tgArn && t.Port === port)
    );
  }

  /** Registers a target (idempotent). */
  register(tgArn: string, id: string, port: number): void {
    const tg = this.state.tgs.get(tgArn);
    if (!tg) throw new AwsError('TargetGroupNotFound', `Target group '${tgArn}' not found`);
    const key = targetKey(tgArn, id, port);
    const existing = this.state.targets.get(key);
    if (existing && existing.state !== 'draining') return;
    if (existing) this.finishDrain(key);
    const t: TargetState = this.state.inUse(tgArn)
      ? {
          tgArn,
          Id: id,
          Port: port,
          state: 'initial',
          reason: 'Elb.RegistrationInProgress',
          description: 'Target registration is in progress',
          ok: 0,
          fail: 0,
        }
      : { tgArn, Id: id, Port: port, state: 'unused', ...NOT_IN_USE, ok: 0, fail: 0 };
    this.state.targets.set(key, t);
    this.emit(t);
    this.scheduleProbe(key, 1000);
  }

  /**
   * Deregisters a target; it drains for the group's `deregistration_delay.timeout_seconds`.
   * Resolves when it is gone.
   */
  deregister(tgArn: string, id: string, port: number): Promise<void> {
    const key = targetKey(tgArn, id, port);
    const t = this.state.targets.get(key);
    if (!t) return Promise.resolve();
    const pending = this.drains.get(key);
    if (pending) return new Promise((resolve) => pending.done.push(resolve));
    this.clock.clear(this.probes.get(key));
    this.probes.delete(key);
    if (t.state === 'unused' || !this.state.inUse(tgArn)) {
      this.state.targets.delete(key);
      return Promise.resolve();
    }
    t.state = 'draining';
    t.reason = 'Target.DeregistrationInProgress';
    t.description = 'Target deregistration is in progress';
    this.emit(t);
    const delay =
      Number(
        this.state.tgAttributes.get(tgArn)?.['deregistration_delay.timeout_seconds'] ?? '300',
      ) * 1000;
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => this.finishDrain(key), delay);
      this.drains.set(key, { timer, done: [resolve] });
    });
  }

  /** Drops every target of a group at once (the group is being deleted). */
  forgetGroup(tgArn: string): void {
    for (const [key, t] of this.state.targets) {
      if (t.tgArn !== tgArn) continue;
      this.clock.clear(this.probes.get(key));
      this.finishDrain(key);
    }
  }

  /**
   * Recomputes which groups are in use after listeners or rules change: a group's
   * `LoadBalancerArns`, and its targets going `unused` or back to initial health checks.
   */
  refreshUse(): void {
    for (const tg of this.state.tgs.values()) {
      tg.LoadBalancerArns = this.state.loadBalancersUsing(tg.TargetGroupArn);
      const used = tg.LoadBalancerArns.length > 0;
      for (const [key, t] of this.state.targets) {
        if (t.tgArn !== tg.TargetGroupArn) continue;
        if (!used && t.state !== 'unused' && t.state !== 'draining') {
          Object.assign(t, { state: 'unused', ...NOT_IN_USE, ok: 0, fail: 0 });
          this.emit(t);
        } else if (used && t.state === 'unused') {
          Object.assign(t, {
            state: 'initial',
            reason: 'Elb.InitialHealthChecking',
            description: 'Initial health checks in progress',
            ok: 0,
            fail: 0,
          });
          this.emit(t);
          this.scheduleProbe(key, 1000);
        }
      }
    }
  }

  /** Stops every probe and ends every drain at once. */
  close(): void {
    for (const t of this.probes.values()) this.clock.clear(t);
    for (const d of this.drains.values()) {
      this.clock.clear(d.timer);
      d.done.forEach((f) => f());
    }
    this.drains.clear();
  }

  private emit(t: TargetState): void {
    for (const fn of this.healthListeners) fn(t);
  }

  private finishDrain(key: string): void {
    const d = this.drains.get(key);
    this.drains.delete(key);
    if (d) this.clock.clear(d.timer);
    this.state.targets.delete(key);
    d?.done.forEach((f) => f());
  }

  private scheduleProbe(key: string, awsDelayMs?: number): void {
    const t = this.state.targets.get(key);
    const tg = t && this.state.tgs.get(t.tgArn);
    if (!t || !tg) return;
    this.clock.clear(this.probes.get(key));
    this.probes.set(
      key,
      this.clock.setTimeout(
        () => void this.probe(key),
        awsDelayMs ?? tg.HealthCheckIntervalSeconds * 1000,
      ),
    );
  }

  private async probe(key: string): Promise<void> {
    const t = this.state.targets.get(key);
    const tg = t && this.state.tgs.get(t.tgArn);
    if (!t || !tg || t.state === 'draining') return;
    if (t.state === 'unused' || tg.HealthCheckEnabled === false) {
      if (tg.HealthCheckEnabled === false && t.state !== 'unused' && t.state !== 'healthy') {
        Object.assign(t, { state: 'healthy', reason: undefined, description: undefined });
        this.emit(t);
      }
      return;
    }
    const port = tg.HealthCheckPort === 'traffic-port' ? t.Port : Number(tg.HealthCheckPort);
    const outcome = await this.httpCheck(port, tg);
    const current = this.state.targets.get(key);
    if (current !== t || (t.state as string) === 'draining' || (t.state as string) === 'unused')
      return;
    const before = t.state;
    if (outcome.ok) {
      t.ok++;
      t.fail = 0;
      if (t.state !== 'healthy' && t.ok >= tg.HealthyThresholdCount)
        Object.assign(t, { state: 'healthy', reason: undefined, description: undefined });
      else if (t.state === 'initial')
        Object.assign(t, {
          reason: 'Elb.InitialHealthChecking',
          description: 'Initial health checks in progress',
        });
    } else {
      t.fail++;
      t.ok = 0;
      if (t.state === 'unhealthy' || t.fail >= tg.UnhealthyThresholdCount) {
        Object.assign(t, {
          state: 'unhealthy',
          reason: outcome.reason,
          description: outcome.description,
        });
      } else if (t.state === 'initial') {
        Object.assign(t, {
          reason: 'Elb.InitialHealthChecking',
          description: 'Initial health checks in progress',
        });
      }
    }
    if (before !== t.state) this.emit(t);
    this.scheduleProbe(key);
  }

  private httpCheck(
    port: number,
    tg: TargetGroup,
  ): Promise<{ ok: boolean; reason?: string; description?: string }> {
    const timeoutMs = Math.max(1000, this.clock.real(tg.HealthCheckTimeoutSeconds * 1000));
    return new Promise((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: tg.HealthCheckPath || '/',
          method: 'GET',
          agent: false,
          timeout: timeoutMs,
          headers: { 'user-agent': 'ELB-HealthChecker/2.0' },
        },
        (res) => {
          res.resume();
          const status = res.statusCode ?? 0;
          if (matchCodes(tg.Matcher.HttpCode, status)) resolve({ ok: true });
          else
            resolve({
              ok: false,
              reason: 'Target.ResponseCodeMismatch',
              description: `Health checks failed with these codes: [${status}]`,
            });
        },
      );
      req.on('timeout', () => {
        req.destroy();
        resolve({ ok: false, reason: 'Target.Timeout', description: 'Request timed out' });
      });
      req.on('error', () =>
        resolve({
          ok: false,
          reason: 'Target.FailedHealthChecks',
          description: 'Health checks failed',
        }),
      );
      req.end();
    });
  }
}
