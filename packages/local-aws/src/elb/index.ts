/**
 * ELBv2 (Application Load Balancers) over the query protocol. Each listener is a real HTTP port
 * on 127.0.0.1 that proxies to healthy targets by rule and weight; targets are probed with the
 * group's health-check settings (scaled by the clock).
 */
import {
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { AwsError, type RequestContext } from '../contracts';
import type { Clock } from '../clock';
import { arn, hexId } from '../ids';
import {
  qBool,
  qList,
  qNumber,
  qObject,
  qString,
  type QueryParams,
  type QueryValue,
} from '../protocol/query';
import type {
  ElbAction,
  Listener,
  LoadBalancer,
  Rule,
  RuleCondition,
  TargetGroup,
  TargetState,
} from './model';

export type { TargetGroup, Listener, Rule, LoadBalancer } from './model';

/** Called when a target's health state changes. */
export type TargetHealthListener = (t: TargetState) => void;

const XMLNS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

function need(p: QueryParams, name: string): string {
  const v = qString(p[name]);
  if (v === undefined || v === '')
    throw new AwsError(
      'ValidationError',
      `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
    );
  return v;
}

function strings(v: QueryValue | undefined): string[] {
  return qList(v).map((x) => String(x));
}

function parseActions(v: QueryValue | undefined): ElbAction[] {
  return qList(v).map((raw) => {
    const a = qObject(raw);
    const type = qString(a.Type);
    if (!type) throw new AwsError('ValidationError', 'An action must have a `Type`.');
    const action: ElbAction = { Type: type, Order: qNumber(a.Order) };
    const tg = qString(a.TargetGroupArn);
    if (tg) action.TargetGroupArn = tg;
    const fc = qObject(a.ForwardConfig);
    if (fc.TargetGroups) {
      action.ForwardConfig = {
        TargetGroups: qList(fc.TargetGroups).map((t) => {
          const o = qObject(t);
          return { TargetGroupArn: need(o, 'TargetGroupArn'), Weight: qNumber(o.Weight) ?? 1 };
        }),
      };
      const st = qObject(fc.TargetGroupStickinessConfig);
      if (st.Enabled !== undefined) {
        action.ForwardConfig.TargetGroupStickinessConfig = {
          Enabled: qBool(st.Enabled),
          DurationSeconds: qNumber(st.DurationSeconds),
        };
      }
    }
    if (type === 'forward' && !action.TargetGroupArn && !action.ForwardConfig) {
      throw new AwsError(
        'ValidationError',
        'A forward action must have a target group ARN or a forward config.',
      );
    }
    const fr = qObject(a.FixedResponseConfig);
    if (type === 'fixed-response') {
      action.FixedResponseConfig = {
        StatusCode: need(fr, 'StatusCode'),
        ContentType: qString(fr.ContentType),
        MessageBody: qString(fr.MessageBody),
      };
    }
    const rc = qObject(a.RedirectConfig);
    if (type === 'redirect') {
      action.RedirectConfig = {
        Protocol: qString(rc.Protocol),
        Port: qString(rc.Port),
        Host: qString(rc.Host),
        Path: qString(rc.Path),
        Query: qString(rc.Query),
        StatusCode: need(rc, 'StatusCode'),
      };
    }
    return action;
  });
}

function parseConditions(v: QueryValue | undefined): RuleCondition[] {
  return qList(v).map((raw) => {
    const c = qObject(raw);
    const out: RuleCondition = { Field: qString(c.Field) };
    if (c.Values) out.Values = strings(c.Values);
    if (c.PathPatternConfig)
      out.PathPatternConfig = { Values: strings(qObject(c.PathPatternConfig).Values) };
    if (c.HostHeaderConfig)
      out.HostHeaderConfig = { Values: strings(qObject(c.HostHeaderConfig).Values) };
    if (c.HttpRequestMethodConfig)
      out.HttpRequestMethodConfig = { Values: strings(qObject(c.HttpRequestMethodConfig).Values) };
    if (c.HttpHeaderConfig) {
      const h = qObject(c.HttpHeaderConfig);
      out.HttpHeaderConfig = {
        HttpHeaderName: need(h, 'HttpHeaderName'),
        Values: strings(h.Values),
      };
    }
    if (c.QueryStringConfig) {
      out.QueryStringConfig = {
        Values: qList(qObject(c.QueryStringConfig).Values).map((x) => ({
          Key: qString(qObject(x).Key),
          Value: qString(qObject(x).Value) ?? '',
        })),
      };
    }
    return out;
  });
}

function glob(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const re =
    '^' +
    pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.') +
    '$';
  return new RegExp(re, caseInsensitive ? 'i' : '').test(value);
}

function matchCodes(matcher: string, status: number): boolean {
  return matcher.split(',').some((part) => {
    const [lo, hi] = part.trim().split('-').map(Number);
    return hi === undefined ? status === lo : status >= lo && status <= hi;
  });
}

function conditionMatches(c: RuleCondition, req: IncomingMessage, url: URL): boolean {
  const field = c.Field;
  if (field === 'path-pattern')
    return (c.PathPatternConfig?.Values ?? c.Values ?? []).some((p) =>
      glob(p, url.pathname, false),
    );
  if (field === 'host-header') {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    return (c.HostHeaderConfig?.Values ?? c.Values ?? []).some((p) => glob(p, host, true));
  }
  if (field === 'http-header' && c.HttpHeaderConfig) {
    const v = req.headers[c.HttpHeaderConfig.HttpHeaderName.toLowerCase()];
    const values = Array.isArray(v) ? v : v === undefined ? [] : [v];
    return values.some((x) => c.HttpHeaderConfig!.Values.some((p) => glob(p, x, true)));
  }
  if (field === 'http-request-method')
    return (c.HttpRequestMethodConfig?.Values ?? c.Values ?? []).includes(req.method ?? '');
  if (field === 'query-string') {
    return (c.QueryStringConfig?.Values ?? []).some((kv) =>
      kv.Key === undefined
        ? [...url.searchParams.values()].some((x) => glob(kv.Value, x, true))
        : glob(kv.Value, url.searchParams.get(kv.Key) ?? '\0', true),
    );
  }
  return false;
}

/** The ELBv2 part of local-aws. */
export class Elb {
  private lbs = new Map<string, LoadBalancer>();
  private tgs = new Map<string, TargetGroup>();
  private tgAttributes = new Map<string, Record<string, string>>();
  private listeners = new Map<string, Listener>();
  private rules = new Map<string, Rule>();
  private targets = new Map<string, TargetState>();
  private tags = new Map<string, { Key: string; Value?: string }[]>();
  private servers = new Map<string, Server>();
  private probes = new Map<string, NodeJS.Timeout>();
  private drains = new Map<string, { timer: NodeJS.Timeout; done: (() => void)[] }>();
  private healthListeners: TargetHealthListener[] = [];
  private rr = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  // ---- API for ECS -------------------------------------------------------------------------

  targetGroup(tgArn: string): TargetGroup | undefined {
    return this.tgs.get(tgArn);
  }

  /** True when `ruleArn` names a listener rule (or a listener's default rule). */
  ruleExists(ruleArn: string): boolean {
    return (
      this.rules.has(ruleArn) ||
      [...this.listeners.values()].some((l) => l.defaultRuleArn === ruleArn)
    );
  }

  onTargetHealth(fn: TargetHealthListener): void {
    this.healthListeners.push(fn);
  }

  /** Health state of the target `127.0.0.1:port` in a group. */
  targetState(tgArn: string, port: number): TargetState | undefined {
    return (
      this.targets.get(this.key(tgArn, '127.0.0.1', port)) ??
      [...this.targets.values()].find((t) => t.tgArn === tgArn && t.Port === port)
    );
  }

  /** Registers a target (idempotent). */
  registerTarget(tgArn: string, id: string, port: number): void {
    const tg = this.tgs.get(tgArn);
    if (!tg) throw new AwsError('TargetGroupNotFound', `Target group '${tgArn}' not found`);
    const key = this.key(tgArn, id, port);
    const existing = this.targets.get(key);
    if (existing && existing.state !== 'draining') return;
    if (existing) this.finishDrain(key);
    const inUse = this.inUse(tgArn);
    const t: TargetState = inUse
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
      : {
          tgArn,
          Id: id,
          Port: port,
          state: 'unused',
          reason: 'Target.NotInUse',
          description: 'Target group is not configured to receive traffic from the load balancer',
          ok: 0,
          fail: 0,
        };
    this.targets.set(key, t);
    this.emit(t);
    this.scheduleProbe(key, 1000);
  }

  /**
   * Deregisters a target; it drains for the group's `deregistration_delay.timeout_seconds`.
   * Resolves when it is gone.
   */
  deregisterTarget(tgArn: string, id: string, port: number): Promise<void> {
    const key = this.key(tgArn, id, port);
    const t = this.targets.get(key);
    if (!t) return Promise.resolve();
    const pending = this.drains.get(key);
    if (pending) return new Promise((resolve) => pending.done.push(resolve));
    this.clock.clear(this.probes.get(key));
    this.probes.delete(key);
    if (t.state === 'unused' || !this.inUse(tgArn)) {
      this.targets.delete(key);
      return Promise.resolve();
    }
    t.state = 'draining';
    t.reason = 'Target.DeregistrationInProgress';
    t.description = 'Target deregistration is in progress';
    this.emit(t);
    const delay =
      Number(this.tgAttributes.get(tgArn)?.['deregistration_delay.timeout_seconds'] ?? '300') *
      1000;
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => this.finishDrain(key), delay);
      this.drains.set(key, { timer, done: [resolve] });
    });
  }

  /** Sets the forward weights of a rule (or default rule) to `weights` by target group ARN. */
  setForwardWeights(ruleArn: string, weights: Record<string, number>): void {
    const tuples = Object.entries(weights).map(([TargetGroupArn, Weight]) => ({
      TargetGroupArn,
      Weight,
    }));
    const rule = this.rules.get(ruleArn);
    const listener = [...this.listeners.values()].find((l) => l.defaultRuleArn === ruleArn);
    const actions = rule?.Actions ?? listener?.DefaultActions;
    if (!actions) throw new AwsError('RuleNotFound', `Rule '${ruleArn}' not found`);
    const forward = actions.find((a) => a.Type === 'forward');
    const next: ElbAction = {
      Type: 'forward',
      Order: forward?.Order,
      ForwardConfig: {
        TargetGroups: tuples,
        TargetGroupStickinessConfig: forward?.ForwardConfig?.TargetGroupStickinessConfig,
      },
    };
    const replaced = forward ? actions.map((a) => (a === forward ? next : a)) : [...actions, next];
    if (rule) rule.Actions = replaced;
    else if (listener) listener.DefaultActions = replaced;
    this.refreshUse();
  }

  /** Target groups a rule forwards to, with weights. */
  forwardWeights(ruleArn: string): Record<string, number> {
    const actions =
      this.rules.get(ruleArn)?.Actions ??
      [...this.listeners.values()].find((l) => l.defaultRuleArn === ruleArn)?.DefaultActions ??
      [];
    const out: Record<string, number> = {};
    for (const a of actions)
      for (const t of this.forwardTuples(a)) out[t.TargetGroupArn] = t.Weight ?? 1;
    return out;
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  snapshot(): unknown {
    return {
      loadBalancers: [...this.lbs.values()],
      targetGroups: [...this.tgs.values()].map((tg) => ({
        ...tg,
        attributes: this.tgAttributes.get(tg.TargetGroupArn),
      })),
      listeners: [...this.listeners.values()],
      rules: [...this.rules.values()],
      targets: [...this.targets.values()].map((t) => ({
        tgArn: t.tgArn,
        Id: t.Id,
        Port: t.Port,
        state: t.state,
        reason: t.reason,
      })),
      tags: Object.fromEntries(this.tags),
    };
  }

  /** Loads saved resources and reopens listener ports. Targets are not restored (their tasks are gone). */
  async restore(state: unknown): Promise<void> {
    const s = (state ?? {}) as {
      loadBalancers?: LoadBalancer[];
      targetGroups?: (TargetGroup & { attributes?: Record<string, string> })[];
      listeners?: Listener[];
      rules?: Rule[];
      tags?: Record<string, { Key: string; Value?: string }[]>;
    };
    for (const lb of s.loadBalancers ?? []) this.lbs.set(lb.LoadBalancerArn, lb);
    for (const { attributes, ...tg } of s.targetGroups ?? []) {
      this.tgs.set(tg.TargetGroupArn, tg);
      this.tgAttributes.set(tg.TargetGroupArn, attributes ?? this.defaultAttributes());
    }
    for (const r of s.rules ?? []) this.rules.set(r.RuleArn, r);
    for (const [k, v] of Object.entries(s.tags ?? {})) this.tags.set(k, v);
    for (const l of s.listeners ?? []) {
      this.listeners.set(l.ListenerArn, l);
      try {
        await this.listen(l);
      } catch {
        // The port is taken now; the listener stays defined but does not serve.
      }
    }
  }

  async close(): Promise<void> {
    for (const t of this.probes.values()) this.clock.clear(t);
    for (const d of this.drains.values()) {
      this.clock.clear(d.timer);
      d.done.forEach((f) => f());
    }
    this.drains.clear();
    await Promise.all(
      [...this.servers.values()].map(
        (s) =>
          new Promise<void>((r) => {
            s.close(() => r());
            s.closeAllConnections();
          }),
      ),
    );
    this.servers.clear();
  }

  // ---- internals ---------------------------------------------------------------------------

  private key(tgArn: string, id: string, port: number): string {
    return `${tgArn}|${id}|${port}`;
  }

  private emit(t: TargetState): void {
    for (const fn of this.healthListeners) fn(t);
  }

  private finishDrain(key: string): void {
    const d = this.drains.get(key);
    this.drains.delete(key);
    if (d) this.clock.clear(d.timer);
    this.targets.delete(key);
    d?.done.forEach((f) => f());
  }

  private defaultAttributes(): Record<string, string> {
    return {
      'deregistration_delay.timeout_seconds': '300',
      'stickiness.enabled': 'false',
      'stickiness.type': 'lb_cookie',
      'load_balancing.algorithm.type': 'round_robin',
      'slow_start.duration_seconds': '0',
    };
  }

  private forwardTuples(a: ElbAction): { TargetGroupArn: string; Weight?: number }[] {
    if (a.Type !== 'forward') return [];
    if (a.ForwardConfig) return a.ForwardConfig.TargetGroups;
    return a.TargetGroupArn ? [{ TargetGroupArn: a.TargetGroupArn, Weight: 1 }] : [];
  }

  private allActions(): ElbAction[] {
    return [
      ...[...this.listeners.values()].flatMap((l) => l.DefaultActions),
      ...[...this.rules.values()].flatMap((r) => r.Actions),
    ];
  }

  private inUse(tgArn: string): boolean {
    return this.allActions().some((a) =>
      this.forwardTuples(a).some((t) => t.TargetGroupArn === tgArn),
    );
  }

  /** Recomputes which groups are in use after listeners/rules change. */
  private refreshUse(): void {
    for (const tg of this.tgs.values()) {
      const lbArns = new Set<string>();
      for (const l of this.listeners.values()) {
        const actions = [
          ...l.DefaultActions,
          ...[...this.rules.values()]
            .filter((r) => r.listenerArn === l.ListenerArn)
            .flatMap((r) => r.Actions),
        ];
        if (
          actions.some((a) =>
            this.forwardTuples(a).some((t) => t.TargetGroupArn === tg.TargetGroupArn),
          )
        )
          lbArns.add(l.LoadBalancerArn);
      }
      tg.LoadBalancerArns = [...lbArns];
      const used = lbArns.size > 0;
      for (const [key, t] of this.targets) {
        if (t.tgArn !== tg.TargetGroupArn) continue;
        if (!used && t.state !== 'unused' && t.state !== 'draining') {
          Object.assign(t, {
            state: 'unused',
            reason: 'Target.NotInUse',
            description: 'Target group is not configured to receive traffic from the load balancer',
            ok: 0,
            fail: 0,
          });
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

  private scheduleProbe(key: string, awsDelayMs?: number): void {
    const t = this.targets.get(key);
    const tg = t && this.tgs.get(t.tgArn);
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
    const t = this.targets.get(key);
    const tg = t && this.tgs.get(t.tgArn);
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
    const current = this.targets.get(key);
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

  private listen(l: Listener): Promise<void> {
    const server = createServer((req, res) => this.proxy(l.ListenerArn, req, res));
    return new Promise((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          new AwsError(
            'InvalidConfigurationRequest',
            `Port ${l.Port} cannot be opened on 127.0.0.1: ${e.code ?? e.message}`,
          ),
        ),
      );
      server.listen(l.Port, '127.0.0.1', () => {
        this.servers.set(l.ListenerArn, server);
        resolve();
      });
    });
  }

  private pickTarget(tgArn: string): TargetState | undefined {
    const all = [...this.targets.values()].filter((t) => t.tgArn === tgArn);
    let pool = all.filter((t) => t.state === 'healthy');
    if (!pool.length) pool = all.filter((t) => t.state === 'unhealthy'); // fail open
    if (!pool.length) return undefined;
    const n = (this.rr.get(tgArn) ?? 0) + 1;
    this.rr.set(tgArn, n);
    return pool[n % pool.length];
  }

  private proxy(listenerArn: string, req: IncomingMessage, res: ServerResponse): void {
    const l = this.listeners.get(listenerArn);
    if (!l) {
      res.writeHead(503).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://lb');
    const rules = [...this.rules.values()]
      .filter((r) => r.listenerArn === listenerArn)
      .sort((a, b) => Number(a.Priority) - Number(b.Priority));
    const matched = rules.find((r) => r.Conditions.every((c) => conditionMatches(c, req, url)));
    const actions = [...(matched?.Actions ?? l.DefaultActions)].sort(
      (a, b) => (a.Order ?? 0) - (b.Order ?? 0),
    );
    const action = actions.find(
      (a) => a.Type === 'forward' || a.Type === 'fixed-response' || a.Type === 'redirect',
    );
    if (!action) {
      res
        .writeHead(503, { 'content-type': 'text/plain' })
        .end('503 Service Temporarily Unavailable');
      return;
    }
    if (action.Type === 'fixed-response' && action.FixedResponseConfig) {
      const f = action.FixedResponseConfig;
      res
        .writeHead(Number(f.StatusCode), { 'content-type': f.ContentType ?? 'text/plain' })
        .end(f.MessageBody ?? '');
      return;
    }
    if (action.Type === 'redirect' && action.RedirectConfig) {
      const r = action.RedirectConfig;
      const host = (r.Host ?? '#{host}').replace(
        '#{host}',
        (req.headers.host ?? '').replace(/:\d+$/, ''),
      );
      const port = (r.Port ?? '#{port}').replace('#{port}', String(l.Port));
      const path = (r.Path ?? '/#{path}')
        .replace('/#{path}', url.pathname)
        .replace('#{path}', url.pathname.slice(1));
      const proto = (r.Protocol ?? '#{protocol}').replace('#{protocol}', 'HTTP').toLowerCase();
      res
        .writeHead(r.StatusCode === 'HTTP_301' ? 301 : 302, {
          location: `${proto}://${host}:${port}${path}${url.search}`,
        })
        .end();
      return;
    }
    const tuples = this.forwardTuples(action).filter((t) => (t.Weight ?? 1) > 0);
    const total = tuples.reduce((s, t) => s + (t.Weight ?? 1), 0);
    let pick = Math.random() * total;
    const chosen = tuples.find((t) => (pick -= t.Weight ?? 1) < 0) ?? tuples[0];
    const target = chosen && this.pickTarget(chosen.TargetGroupArn);
    if (!target) {
      res
        .writeHead(503, { 'content-type': 'text/plain' })
        .end('503 Service Temporarily Unavailable');
      return;
    }
    const upstream = request(
      {
        host: '127.0.0.1',
        port: target.Port,
        method: req.method,
        path: req.url,
        agent: false,
        headers: {
          ...req.headers,
          'x-forwarded-for': req.socket.remoteAddress ?? '',
          'x-forwarded-proto': 'http',
          'x-forwarded-port': String(l.Port),
        },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('502 Bad Gateway');
    });
    req.pipe(upstream);
  }

  private lb(lbArn: string): LoadBalancer {
    const lb = this.lbs.get(lbArn);
    if (!lb) throw new AwsError('LoadBalancerNotFound', `Load balancer '${lbArn}' not found`);
    return lb;
  }

  private tg(tgArn: string): TargetGroup {
    const tg = this.tgs.get(tgArn);
    if (!tg) throw new AwsError('TargetGroupNotFound', `Target groups '${tgArn}' not found`);
    return tg;
  }

  private listener(listenerArn: string): Listener {
    const l = this.listeners.get(listenerArn);
    if (!l) throw new AwsError('ListenerNotFound', `Listener '${listenerArn}' not found`);
    return l;
  }

  private checkActions(actions: ElbAction[]): void {
    if (!actions.length) throw new AwsError('ValidationError', 'At least one action is required.');
    for (const a of actions) for (const t of this.forwardTuples(a)) this.tg(t.TargetGroupArn);
  }

  private ruleView(r: Rule): unknown {
    return {
      RuleArn: r.RuleArn,
      Priority: r.Priority,
      Conditions: r.Conditions,
      Actions: r.Actions,
      IsDefault: false,
    };
  }

  private listenerView(l: Listener): unknown {
    return {
      ListenerArn: l.ListenerArn,
      LoadBalancerArn: l.LoadBalancerArn,
      Port: l.Port,
      Protocol: l.Protocol,
      DefaultActions: l.DefaultActions,
    };
  }

  private tgFromParams(p: QueryParams, base: Partial<TargetGroup>): Partial<TargetGroup> {
    const out: Partial<TargetGroup> = { ...base };
    const set = <K extends keyof TargetGroup>(k: K, v: TargetGroup[K] | undefined): void => {
      if (v !== undefined) out[k] = v;
    };
    set('HealthCheckProtocol', qString(p.HealthCheckProtocol));
    set('HealthCheckPort', qString(p.HealthCheckPort));
    set('HealthCheckEnabled', qBool(p.HealthCheckEnabled));
    set('HealthCheckIntervalSeconds', qNumber(p.HealthCheckIntervalSeconds));
    set('HealthCheckTimeoutSeconds', qNumber(p.HealthCheckTimeoutSeconds));
    set('HealthyThresholdCount', qNumber(p.HealthyThresholdCount));
    set('UnhealthyThresholdCount', qNumber(p.UnhealthyThresholdCount));
    set('HealthCheckPath', qString(p.HealthCheckPath));
    const m = qObject(p.Matcher);
    if (qString(m.HttpCode)) out.Matcher = { HttpCode: qString(m.HttpCode)! };
    return out;
  }

  /** Query-protocol operations. */
  readonly operations: Record<string, (p: QueryParams, ctx: RequestContext) => unknown> = {
    CreateLoadBalancer: (p, ctx) => {
      const name = need(p, 'Name');
      if (
        !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(name) ||
        name.startsWith('internal-')
      ) {
        throw new AwsError('ValidationError', `The load balancer name '${name}' is not valid.`);
      }
      const existing = [...this.lbs.values()].find((l) => l.LoadBalancerName === name);
      if (existing) return { LoadBalancers: [existing] };
      const id = hexId(8);
      const subnets = strings(p.Subnets);
      const lb: LoadBalancer = {
        LoadBalancerArn: arn(
          'elasticloadbalancing',
          ctx.region,
          ctx.accountId,
          `loadbalancer/app/${name}/${id}`,
        ),
        DNSName: '127.0.0.1',
        CanonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
        CreatedTime: this.clock.now(),
        LoadBalancerName: name,
        Scheme: qString(p.Scheme) ?? 'internet-facing',
        VpcId: 'vpc-00000000',
        State: { Code: 'active' },
        Type: qString(p.Type) ?? 'application',
        AvailabilityZones: subnets.map((s, i) => ({
          ZoneName: `${ctx.region}${'abcdef'[i % 6]}`,
          SubnetId: s,
        })),
        SecurityGroups: strings(p.SecurityGroups),
        IpAddressType: qString(p.IpAddressType) ?? 'ipv4',
      };
      this.lbs.set(lb.LoadBalancerArn, lb);
      this.addTags(lb.LoadBalancerArn, p.Tags);
      return { LoadBalancers: [lb] };
    },
    DescribeLoadBalancers: (p) => {
      const arns = strings(p.LoadBalancerArns);
      const names = strings(p.Names);
      let out = [...this.lbs.values()];
      if (arns.length) out = arns.map((a) => this.lb(a));
      if (names.length) {
        out = names.map((n) => {
          const lb = [...this.lbs.values()].find((l) => l.LoadBalancerName === n);
          if (!lb) throw new AwsError('LoadBalancerNotFound', `Load balancers '[${n}]' not found`);
          return lb;
        });
      }
      return { LoadBalancers: out };
    },
    DeleteLoadBalancer: async (p) => {
      const lbArn = need(p, 'LoadBalancerArn');
      if (!this.lbs.has(lbArn)) return {};
      for (const l of [...this.listeners.values()].filter((x) => x.LoadBalancerArn === lbArn))
        await this.deleteListener(l.ListenerArn);
      this.lbs.delete(lbArn);
      this.tags.delete(lbArn);
      return {};
    },
    CreateTargetGroup: (p, ctx) => {
      const name = need(p, 'Name');
      if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(name))
        throw new AwsError('ValidationError', `Target group name '${name}' is not valid.`);
      const existing = [...this.tgs.values()].find((t) => t.TargetGroupName === name);
      if (existing)
        throw new AwsError(
          'DuplicateTargetGroupName',
          `A target group with the same name '${name}' exists, but with different settings`,
        );
      const protocol = qString(p.Protocol) ?? 'HTTP';
      const tg = {
        TargetGroupArn: arn(
          'elasticloadbalancing',
          ctx.region,
          ctx.accountId,
          `targetgroup/${name}/${hexId(8)}`,
        ),
        TargetGroupName: name,
        Protocol: protocol,
        Port: qNumber(p.Port) ?? 80,
        VpcId: qString(p.VpcId),
        HealthCheckProtocol: protocol,
        HealthCheckPort: 'traffic-port',
        HealthCheckEnabled: true,
        HealthCheckIntervalSeconds: 30,
        HealthCheckTimeoutSeconds: 5,
        HealthyThresholdCount: 5,
        UnhealthyThresholdCount: 2,
        HealthCheckPath: '/',
        Matcher: { HttpCode: '200' },
        LoadBalancerArns: [],
        TargetType: qString(p.TargetType) ?? 'instance',
        ProtocolVersion: qString(p.ProtocolVersion) ?? 'HTTP1',
        IpAddressType: qString(p.IpAddressType) ?? 'ipv4',
        ...this.tgFromParams(p, {}),
      } as TargetGroup;
      this.tgs.set(tg.TargetGroupArn, tg);
      this.tgAttributes.set(tg.TargetGroupArn, this.defaultAttributes());
      this.addTags(tg.TargetGroupArn, p.Tags);
      return { TargetGroups: [tg] };
    },
    ModifyTargetGroup: (p) => {
      const tg = this.tg(need(p, 'TargetGroupArn'));
      Object.assign(tg, this.tgFromParams(p, {}));
      return { TargetGroups: [tg] };
    },
    DescribeTargetGroups: (p) => {
      const arns = strings(p.TargetGroupArns);
      const names = strings(p.Names);
      const lbArn = qString(p.LoadBalancerArn);
      let out = [...this.tgs.values()];
      if (arns.length) out = arns.map((a) => this.tg(a));
      if (names.length) {
        out = names.map((n) => {
          const tg = [...this.tgs.values()].find((t) => t.TargetGroupName === n);
          if (!tg) throw new AwsError('TargetGroupNotFound', `One or more target groups not found`);
          return tg;
        });
      }
      if (lbArn) {
        this.lb(lbArn);
        out = out.filter((t) => t.LoadBalancerArns.includes(lbArn));
      }
      return { TargetGroups: out };
    },
    DeleteTargetGroup: (p) => {
      const tgArn = need(p, 'TargetGroupArn');
      if (!this.tgs.has(tgArn)) return {};
      if (this.inUse(tgArn))
        throw new AwsError(
          'ResourceInUse',
          `Target group '${tgArn}' is currently in use by a listener or a rule`,
        );
      for (const [key, t] of this.targets) {
        if (t.tgArn !== tgArn) continue;
        this.clock.clear(this.probes.get(key));
        this.finishDrain(key);
      }
      this.tgs.delete(tgArn);
      this.tgAttributes.delete(tgArn);
      this.tags.delete(tgArn);
      return {};
    },
    DescribeTargetGroupAttributes: (p) => {
      const tgArn = need(p, 'TargetGroupArn');
      this.tg(tgArn);
      return {
        Attributes: Object.entries(this.tgAttributes.get(tgArn) ?? {}).map(([Key, Value]) => ({
          Key,
          Value,
        })),
      };
    },
    ModifyTargetGroupAttributes: (p) => {
      const tgArn = need(p, 'TargetGroupArn');
      this.tg(tgArn);
      const attrs = this.tgAttributes.get(tgArn) ?? this.defaultAttributes();
      for (const a of qList(p.Attributes)) {
        const o = qObject(a);
        const key = need(o, 'Key');
        const value = qString(o.Value) ?? '';
        if (
          key === 'deregistration_delay.timeout_seconds' &&
          !(Number(value) >= 0 && Number(value) <= 3600)
        ) {
          throw new AwsError(
            'InvalidConfigurationRequest',
            `'${value}' must be an integer between 0 and 3600 for '${key}'`,
          );
        }
        attrs[key] = value;
      }
      this.tgAttributes.set(tgArn, attrs);
      return { Attributes: Object.entries(attrs).map(([Key, Value]) => ({ Key, Value })) };
    },
    RegisterTargets: (p) => {
      const tg = this.tg(need(p, 'TargetGroupArn'));
      const targets = qList(p.Targets).map((t) => qObject(t));
      if (!targets.length) throw new AwsError('ValidationError', 'Targets must not be empty.');
      for (const t of targets) {
        const port = qNumber(t.Port) ?? tg.Port;
        if (!(port >= 1 && port <= 65535))
          throw new AwsError('InvalidTarget', `The port ${port} is not valid.`);
        this.registerTarget(tg.TargetGroupArn, need(t, 'Id'), port);
      }
      return {};
    },
    DeregisterTargets: (p) => {
      const tg = this.tg(need(p, 'TargetGroupArn'));
      for (const raw of qList(p.Targets)) {
        const t = qObject(raw);
        const id = need(t, 'Id');
        const port = qNumber(t.Port) ?? tg.Port;
        if (!this.targets.has(this.key(tg.TargetGroupArn, id, port))) {
          throw new AwsError(
            'InvalidTarget',
            `The following targets are not registered in target group '${tg.TargetGroupArn}': '${id}:${port}'`,
          );
        }
        void this.deregisterTarget(tg.TargetGroupArn, id, port);
      }
      return {};
    },
    DescribeTargetHealth: (p) => {
      const tg = this.tg(need(p, 'TargetGroupArn'));
      const asked = qList(p.Targets).map((t) => qObject(t));
      const view = (t: TargetState): unknown => ({
        Target: { Id: t.Id, Port: t.Port },
        HealthCheckPort:
          tg.HealthCheckPort === 'traffic-port' ? String(t.Port) : tg.HealthCheckPort,
        TargetHealth: { State: t.state, Reason: t.reason, Description: t.description },
      });
      if (asked.length) {
        return {
          TargetHealthDescriptions: asked.map((a) => {
            const id = need(a, 'Id');
            const port = qNumber(a.Port) ?? tg.Port;
            const t = this.targets.get(this.key(tg.TargetGroupArn, id, port));
            return t
              ? view(t)
              : {
                  Target: { Id: id, Port: port },
                  HealthCheckPort: String(port),
                  TargetHealth: {
                    State: 'unused',
                    Reason: 'Target.NotRegistered',
                    Description: 'Target is not registered to the target group',
                  },
                };
          }),
        };
      }
      return {
        TargetHealthDescriptions: [...this.targets.values()]
          .filter((t) => t.tgArn === tg.TargetGroupArn)
          .map(view),
      };
    },
    CreateListener: async (p, ctx) => {
      const lb = this.lb(need(p, 'LoadBalancerArn'));
      const port = qNumber(p.Port);
      if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new AwsError(
          'ValidationError',
          `1 validation error detected: Value '${port}' at 'port' failed to satisfy constraint: Member must have value between 1 and 65535`,
        );
      }
      const same = [...this.listeners.values()].find(
        (l) => l.LoadBalancerArn === lb.LoadBalancerArn && l.Port === port,
      );
      if (same)
        throw new AwsError(
          'DuplicateListener',
          'A listener already exists on this port for this load balancer',
        );
      if ([...this.listeners.values()].some((l) => l.Port === port)) {
        throw new AwsError(
          'DuplicateListener',
          `Port ${port} is already used by a listener of another load balancer in local-aws (all listeners share 127.0.0.1).`,
        );
      }
      const actions = parseActions(p.DefaultActions);
      this.checkActions(actions);
      const lbPath = lb.LoadBalancerArn.split(':loadbalancer/')[1];
      const listenerId = hexId(8);
      const l: Listener = {
        ListenerArn: arn(
          'elasticloadbalancing',
          ctx.region,
          ctx.accountId,
          `listener/${lbPath}/${listenerId}`,
        ),
        LoadBalancerArn: lb.LoadBalancerArn,
        Port: port,
        Protocol: qString(p.Protocol) ?? 'HTTP',
        DefaultActions: actions,
        defaultRuleArn: arn(
          'elasticloadbalancing',
          ctx.region,
          ctx.accountId,
          `listener-rule/${lbPath}/${listenerId}/${hexId(8)}`,
        ),
      };
      await this.listen(l);
      this.listeners.set(l.ListenerArn, l);
      this.addTags(l.ListenerArn, p.Tags);
      this.refreshUse();
      return { Listeners: [this.listenerView(l)] };
    },
    DescribeListeners: (p) => {
      const lbArn = qString(p.LoadBalancerArn);
      const arns = strings(p.ListenerArns);
      if (!lbArn && !arns.length)
        throw new AwsError(
          'ValidationError',
          'You must specify either listener ARNs or a load balancer ARN',
        );
      if (lbArn) this.lb(lbArn);
      const out = arns.length
        ? arns.map((a) => this.listener(a))
        : [...this.listeners.values()].filter((l) => l.LoadBalancerArn === lbArn);
      return { Listeners: out.map((l) => this.listenerView(l)) };
    },
    ModifyListener: (p) => {
      const l = this.listener(need(p, 'ListenerArn'));
      if (p.DefaultActions) {
        const actions = parseActions(p.DefaultActions);
        this.checkActions(actions);
        l.DefaultActions = actions;
      }
      this.refreshUse();
      return { Listeners: [this.listenerView(l)] };
    },
    DeleteListener: async (p) => {
      await this.deleteListener(need(p, 'ListenerArn'));
      return {};
    },
    CreateRule: (p, ctx) => {
      const l = this.listener(need(p, 'ListenerArn'));
      const priority = qNumber(p.Priority);
      if (priority === undefined || !(priority >= 1 && priority <= 50000))
        throw new AwsError('ValidationError', 'Priority must be between 1 and 50000.');
      if (
        [...this.rules.values()].some(
          (r) => r.listenerArn === l.ListenerArn && Number(r.Priority) === priority,
        )
      ) {
        throw new AwsError('PriorityInUse', `Priority '${priority}' is currently in use`);
      }
      const conditions = parseConditions(p.Conditions);
      if (!conditions.length)
        throw new AwsError('ValidationError', 'A rule must have at least one condition.');
      const actions = parseActions(p.Actions);
      this.checkActions(actions);
      const listenerPath = l.ListenerArn.split(':listener/')[1];
      const r: Rule = {
        RuleArn: arn(
          'elasticloadbalancing',
          ctx.region,
          ctx.accountId,
          `listener-rule/${listenerPath}/${hexId(8)}`,
        ),
        listenerArn: l.ListenerArn,
        Priority: String(priority),
        Conditions: conditions,
        Actions: actions,
      };
      this.rules.set(r.RuleArn, r);
      this.addTags(r.RuleArn, p.Tags);
      this.refreshUse();
      return { Rules: [this.ruleView(r)] };
    },
    DescribeRules: (p) => {
      const listenerArn = qString(p.ListenerArn);
      const arns = strings(p.RuleArns);
      const defaultView = (l: Listener): unknown => ({
        RuleArn: l.defaultRuleArn,
        Priority: 'default',
        Conditions: [],
        Actions: l.DefaultActions,
        IsDefault: true,
      });
      if (arns.length) {
        return {
          Rules: arns.map((a) => {
            const r = this.rules.get(a);
            if (r) return this.ruleView(r);
            const l = [...this.listeners.values()].find((x) => x.defaultRuleArn === a);
            if (l) return defaultView(l);
            throw new AwsError('RuleNotFound', `One or more rules not found`);
          }),
        };
      }
      if (!listenerArn)
        throw new AwsError(
          'ValidationError',
          'You must specify either listener rule ARNs or a listener ARN',
        );
      const l = this.listener(listenerArn);
      const rules = [...this.rules.values()]
        .filter((r) => r.listenerArn === listenerArn)
        .sort((a, b) => Number(a.Priority) - Number(b.Priority));
      return { Rules: [...rules.map((r) => this.ruleView(r)), defaultView(l)] };
    },
    ModifyRule: (p) => {
      const ruleArn = need(p, 'RuleArn');
      const r = this.rules.get(ruleArn);
      const l = [...this.listeners.values()].find((x) => x.defaultRuleArn === ruleArn);
      if (!r && !l) throw new AwsError('RuleNotFound', `One or more rules not found`);
      if (p.Actions) {
        const actions = parseActions(p.Actions);
        this.checkActions(actions);
        if (r) r.Actions = actions;
        else l!.DefaultActions = actions;
      }
      if (p.Conditions && r) r.Conditions = parseConditions(p.Conditions);
      this.refreshUse();
      return {
        Rules: [
          r
            ? this.ruleView(r)
            : {
                RuleArn: ruleArn,
                Priority: 'default',
                Conditions: [],
                Actions: l!.DefaultActions,
                IsDefault: true,
              },
        ],
      };
    },
    SetRulePriorities: (p) => {
      const out: unknown[] = [];
      for (const raw of qList(p.RulePriorities)) {
        const o = qObject(raw);
        const r = this.rules.get(need(o, 'RuleArn'));
        if (!r) throw new AwsError('RuleNotFound', `One or more rules not found`);
        r.Priority = String(qNumber(o.Priority));
        out.push(this.ruleView(r));
      }
      return { Rules: out };
    },
    DeleteRule: (p) => {
      const ruleArn = need(p, 'RuleArn');
      if (!this.rules.delete(ruleArn))
        throw new AwsError('RuleNotFound', `One or more rules not found`);
      this.refreshUse();
      return {};
    },
    AddTags: (p) => {
      for (const a of strings(p.ResourceArns)) {
        this.resourceMustExist(a);
        this.addTags(a, p.Tags);
      }
      return {};
    },
    RemoveTags: (p) => {
      const keys = strings(p.TagKeys);
      for (const a of strings(p.ResourceArns)) {
        this.resourceMustExist(a);
        this.tags.set(
          a,
          (this.tags.get(a) ?? []).filter((t) => !keys.includes(t.Key)),
        );
      }
      return {};
    },
    DescribeTags: (p) => ({
      TagDescriptions: strings(p.ResourceArns).map((a) => {
        this.resourceMustExist(a);
        return { ResourceArn: a, Tags: this.tags.get(a) ?? [] };
      }),
    }),
  };

  private resourceMustExist(a: string): void {
    if (this.lbs.has(a) || this.tgs.has(a) || this.listeners.has(a) || this.rules.has(a)) return;
    if (a.includes(':targetgroup/'))
      throw new AwsError('TargetGroupNotFound', `Target group '${a}' not found`);
    if (a.includes(':listener-rule/')) throw new AwsError('RuleNotFound', `Rule '${a}' not found`);
    if (a.includes(':listener/'))
      throw new AwsError('ListenerNotFound', `Listener '${a}' not found`);
    throw new AwsError('LoadBalancerNotFound', `Load balancer '${a}' not found`);
  }

  private addTags(resourceArn: string, tags: QueryValue | undefined): void {
    const list = qList(tags).map((t) => ({
      Key: need(qObject(t), 'Key'),
      Value: qString(qObject(t).Value),
    }));
    if (!list.length) return;
    const current = (this.tags.get(resourceArn) ?? []).filter(
      (t) => !list.some((n) => n.Key === t.Key),
    );
    this.tags.set(resourceArn, [...current, ...list]);
  }

  private async deleteListener(listenerArn: string): Promise<void> {
    this.listener(listenerArn);
    this.listeners.delete(listenerArn);
    for (const r of [...this.rules.values()])
      if (r.listenerArn === listenerArn) this.rules.delete(r.RuleArn);
    const server = this.servers.get(listenerArn);
    this.servers.delete(listenerArn);
    if (server) {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    }
    this.refreshUse();
  }
}

/** Query-protocol service definition values for ELBv2. */
export const ELB_XMLNS = XMLNS;
