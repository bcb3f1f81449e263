/**
 * The listeners' ports: each listener is a real HTTP server on 127.0.0.1 that picks a rule by
 * its conditions, then answers a fixed response or a redirect, or forwards to a healthy target
 * of a group chosen by weight (round robin within the group, failing open when none is healthy).
 */
import {
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { AwsError } from '../contracts';
import type { Listener, RuleCondition, TargetState } from './model';
import { forwardTuples, type ElbState } from './state';

/**
 * Whether `value` matches a condition value where `*` is any run of characters and `?` one
 * character. Linear-time backtracking to the last `*` only: a pattern such as `*a*a*a…b` must not
 * take exponential time, as a regular expression built from it would.
 */
export function wildcardMatch(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const v = caseInsensitive ? value.toLowerCase() : value;
  let pi = 0;
  let vi = 0;
  let star = -1;
  let resume = 0;
  while (vi < v.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === v[vi])) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = vi;
    } else if (star >= 0) {
      pi = star + 1;
      vi = ++resume;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

/** Whether a request meets one rule condition. */
export function conditionMatches(c: RuleCondition, req: IncomingMessage, url: URL): boolean {
  const field = c.Field;
  if (field === 'path-pattern')
    return (c.PathPatternConfig?.Values ?? c.Values ?? []).some((p) =>
      wildcardMatch(p, url.pathname, false),
    );
  if (field === 'host-header') {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    return (c.HostHeaderConfig?.Values ?? c.Values ?? []).some((p) => wildcardMatch(p, host, true));
  }
  if (field === 'http-header' && c.HttpHeaderConfig) {
    const v = req.headers[c.HttpHeaderConfig.HttpHeaderName.toLowerCase()];
    const values = Array.isArray(v) ? v : v === undefined ? [] : [v];
    return values.some((x) => c.HttpHeaderConfig!.Values.some((p) => wildcardMatch(p, x, true)));
  }
  if (field === 'http-request-method')
    return (c.HttpRequestMethodConfig?.Values ?? c.Values ?? []).includes(req.method ?? '');
  if (field === 'query-string') {
    return (c.QueryStringConfig?.Values ?? []).some((kv) =>
      kv.Key === undefined
        ? [...url.searchParams.values()].some((x) => wildcardMatch(kv.Value, x, true))
        : wildcardMatch(kv.Value, url.searchParams.get(kv.Key) ?? '\0', true),
    );
  }
  return false;
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
}

/** The HTTP servers behind the listeners. */
export class ListenerProxy {
  private readonly servers = new Map<string, Server>();
  /** Round-robin counters by target group. */
  private readonly rr = new Map<string, number>();

  constructor(private readonly state: ElbState) {}

  /** Opens the listener's port; fails with `InvalidConfigurationRequest` when it is taken. */
  listen(l: Listener): Promise<void> {
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

  /** Closes a listener's port (and its open connections). */
  async stop(listenerArn: string): Promise<void> {
    const server = this.servers.get(listenerArn);
    this.servers.delete(listenerArn);
    if (server) await closeServer(server);
  }

  /** Closes every port. */
  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map(closeServer));
    this.servers.clear();
  }

  private pickTarget(tgArn: string): TargetState | undefined {
    const all = [...this.state.targets.values()].filter((t) => t.tgArn === tgArn);
    let pool = all.filter((t) => t.state === 'healthy');
    if (!pool.length) pool = all.filter((t) => t.state === 'unhealthy'); // fail open
    if (!pool.length) return undefined;
    const n = (this.rr.get(tgArn) ?? 0) + 1;
    this.rr.set(tgArn, n);
    return pool[n % pool.length];
  }

  private proxy(listenerArn: string, req: IncomingMessage, res: ServerResponse): void {
    const l = this.state.listeners.get(listenerArn);
    if (!l) {
      res.writeHead(503).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://lb');
    const matched = this.state
      .listenerRules(listenerArn)
      .find((r) => r.Conditions.every((c) => conditionMatches(c, req, url)));
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
    const tuples = forwardTuples(action).filter((t) => (t.Weight ?? 1) > 0);
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
}
