/** What the Describe operations return for listeners, rules and target health. */
import type { Listener, Rule, TargetGroup, TargetState } from './model';

/** A listener without local bookkeeping. */
export function listenerView(l: Listener): unknown {
  return {
    ListenerArn: l.ListenerArn,
    LoadBalancerArn: l.LoadBalancerArn,
    Port: l.Port,
    Protocol: l.Protocol,
    DefaultActions: l.DefaultActions,
  };
}

/** A rule as DescribeRules shows it. */
export function ruleView(r: Rule): unknown {
  return {
    RuleArn: r.RuleArn,
    Priority: r.Priority,
    Conditions: r.Conditions,
    Actions: r.Actions,
    IsDefault: false,
  };
}

/** A listener's default rule as DescribeRules shows it (priority `default`, no conditions). */
export function defaultRuleView(l: Listener): unknown {
  return {
    RuleArn: l.defaultRuleArn,
    Priority: 'default',
    Conditions: [],
    Actions: l.DefaultActions,
    IsDefault: true,
  };
}

/** A registered target's health as DescribeTargetHealth shows it. */
export function targetHealthView(tg: TargetGroup, t: TargetState): unknown {
  return {
    Target: { Id: t.Id, Port: t.Port },
    HealthCheckPort: tg.HealthCheckPort === 'traffic-port' ? String(t.Port) : tg.HealthCheckPort,
    TargetHealth: { State: t.state, Reason: t.reason, Description: t.description },
  };
}

/** A target the group does not hold, as DescribeTargetHealth shows it. */
export function unregisteredTargetView(id: string, port: number): unknown {
  return {
    Target: { Id: id, Port: port },
    HealthCheckPort: String(port),
    TargetHealth: {
      State: 'unused',
      Reason: 'Target.NotRegistered',
      Description: 'Target is not registered to the target group',
    },
  };
}

/** Target group attributes as a `Key`/`Value` list. */
export function attributesView(attrs: Record<string, string>): { Key: string; Value: string }[] {
  return Object.entries(attrs).map(([Key, Value]) => ({ Key, Value }));
}
