/**
 * ELBv2 state: load balancers, target groups and their attributes, listeners, rules, registered
 * targets and tags, the lookups the operations, the health checker and the proxy share, and
 * snapshot/restore.
 */
import { AwsError } from '../contracts';
import type {
  ElbAction,
  Listener,
  LoadBalancer,
  Rule,
  TargetGroup,
  TargetGroupTuple,
  TargetState,
} from './model';

/** A resource tag as ELBv2 returns it. */
export interface Tag {
  Key: string;
  Value?: string;
}

/** The key of a registered target: group, id and port. */
export function targetKey(tgArn: string, id: string, port: number): string {
  return `${tgArn}|${id}|${port}`;
}

/** The target groups a forward action sends to, with weights (none for other actions). */
export function forwardTuples(a: ElbAction): TargetGroupTuple[] {
  if (a.Type !== 'forward') return [];
  if (a.ForwardConfig) return a.ForwardConfig.TargetGroups;
  return a.TargetGroupArn ? [{ TargetGroupArn: a.TargetGroupArn, Weight: 1 }] : [];
}

/** The attributes a new target group starts with. */
export function defaultAttributes(): Record<string, string> {
  return {
    'deregistration_delay.timeout_seconds': '300',
    'stickiness.enabled': 'false',
    'stickiness.type': 'lb_cookie',
    'load_balancing.algorithm.type': 'round_robin',
    'slow_start.duration_seconds': '0',
  };
}

/** Every ELBv2 resource local-aws holds, and the lookups its parts share. */
export class ElbState {
  readonly lbs = new Map<string, LoadBalancer>();
  readonly tgs = new Map<string, TargetGroup>();
  readonly tgAttributes = new Map<string, Record<string, string>>();
  readonly listeners = new Map<string, Listener>();
  readonly rules = new Map<string, Rule>();
  /** Registered targets by {@link targetKey}. */
  readonly targets = new Map<string, TargetState>();
  readonly tags = new Map<string, Tag[]>();

  /** A load balancer, or `LoadBalancerNotFound`. */
  lb(lbArn: string): LoadBalancer {
    const lb = this.lbs.get(lbArn);
    if (!lb) throw new AwsError('LoadBalancerNotFound', `Load balancer '${lbArn}' not found`);
    return lb;
  }

  /** A target group, or `TargetGroupNotFound`. */
  tg(tgArn: string): TargetGroup {
    const tg = this.tgs.get(tgArn);
    if (!tg) throw new AwsError('TargetGroupNotFound', `Target groups '${tgArn}' not found`);
    return tg;
  }

  /** A listener, or `ListenerNotFound`. */
  listener(listenerArn: string): Listener {
    const l = this.listeners.get(listenerArn);
    if (!l) throw new AwsError('ListenerNotFound', `Listener '${listenerArn}' not found`);
    return l;
  }

  /** The listener whose default rule is `ruleArn`. */
  listenerOfDefaultRule(ruleArn: string): Listener | undefined {
    return [...this.listeners.values()].find((l) => l.defaultRuleArn === ruleArn);
  }

  /** True when `ruleArn` names a listener rule (or a listener's default rule). */
  ruleExists(ruleArn: string): boolean {
    return this.rules.has(ruleArn) || this.listenerOfDefaultRule(ruleArn) !== undefined;
  }

  /** The rules of a listener (its default rule aside), by priority. */
  listenerRules(listenerArn: string): Rule[] {
    return [...this.rules.values()]
      .filter((r) => r.listenerArn === listenerArn)
      .sort((a, b) => Number(a.Priority) - Number(b.Priority));
  }

  /**
   * Makes the forward action of a rule (or default rule) send to `weights` by target group ARN,
   * keeping its order and stickiness; a rule without a forward action gets one.
   */
  setForwardWeights(ruleArn: string, weights: Record<string, number>): void {
    const tuples = Object.entries(weights).map(([TargetGroupArn, Weight]) => ({
      TargetGroupArn,
      Weight,
    }));
    const rule = this.rules.get(ruleArn);
    const listener = this.listenerOfDefaultRule(ruleArn);
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
  }

  /** The target groups a rule (or default rule) forwards to, with weights. */
  forwardWeights(ruleArn: string): Record<string, number> {
    const actions =
      this.rules.get(ruleArn)?.Actions ?? this.listenerOfDefaultRule(ruleArn)?.DefaultActions;
    const out: Record<string, number> = {};
    for (const a of actions ?? [])
      for (const t of forwardTuples(a)) out[t.TargetGroupArn] = t.Weight ?? 1;
    return out;
  }

  /** True when a listener or rule forwards to the group. */
  inUse(tgArn: string): boolean {
    const actions = [
      ...[...this.listeners.values()].flatMap((l) => l.DefaultActions),
      ...[...this.rules.values()].flatMap((r) => r.Actions),
    ];
    return actions.some((a) => forwardTuples(a).some((t) => t.TargetGroupArn === tgArn));
  }

  /** The load balancers whose listeners (or their rules) forward to the group. */
  loadBalancersUsing(tgArn: string): string[] {
    const lbArns = new Set<string>();
    for (const l of this.listeners.values()) {
      const actions = [
        ...l.DefaultActions,
        ...[...this.rules.values()]
          .filter((r) => r.listenerArn === l.ListenerArn)
          .flatMap((r) => r.Actions),
      ];
      if (actions.some((a) => forwardTuples(a).some((t) => t.TargetGroupArn === tgArn)))
        lbArns.add(l.LoadBalancerArn);
    }
    return [...lbArns];
  }

  /** Fails with the "not found" error of the resource type an ARN names, unless it exists. */
  resourceMustExist(a: string): void {
    if (this.lbs.has(a) || this.tgs.has(a) || this.listeners.has(a) || this.rules.has(a)) return;
    if (a.includes(':targetgroup/'))
      throw new AwsError('TargetGroupNotFound', `Target group '${a}' not found`);
    if (a.includes(':listener-rule/')) throw new AwsError('RuleNotFound', `Rule '${a}' not found`);
    if (a.includes(':listener/'))
      throw new AwsError('ListenerNotFound', `Listener '${a}' not found`);
    throw new AwsError('LoadBalancerNotFound', `Load balancer '${a}' not found`);
  }

  /** Adds tags to a resource, replacing those with the same keys. */
  addTags(resourceArn: string, list: Tag[]): void {
    if (!list.length) return;
    const current = (this.tags.get(resourceArn) ?? []).filter(
      (t) => !list.some((n) => n.Key === t.Key),
    );
    this.tags.set(resourceArn, [...current, ...list]);
  }

  /** JSON-serialisable state for the state file and `GET /_local/state`. */
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

  /**
   * Loads saved resources; returns the listeners, whose ports the caller reopens. Targets are
   * not restored (their tasks are gone).
   */
  restore(state: unknown): Listener[] {
    const s = (state ?? {}) as {
      loadBalancers?: LoadBalancer[];
      targetGroups?: (TargetGroup & { attributes?: Record<string, string> })[];
      listeners?: Listener[];
      rules?: Rule[];
      tags?: Record<string, Tag[]>;
    };
    for (const lb of s.loadBalancers ?? []) this.lbs.set(lb.LoadBalancerArn, lb);
    for (const { attributes, ...tg } of s.targetGroups ?? []) {
      this.tgs.set(tg.TargetGroupArn, tg);
      this.tgAttributes.set(tg.TargetGroupArn, attributes ?? defaultAttributes());
    }
    for (const r of s.rules ?? []) this.rules.set(r.RuleArn, r);
    for (const [k, v] of Object.entries(s.tags ?? {})) this.tags.set(k, v);
    for (const l of s.listeners ?? []) this.listeners.set(l.ListenerArn, l);
    return s.listeners ?? [];
  }
}
