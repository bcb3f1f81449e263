/** CreateListener, DescribeListeners, ModifyListener, DeleteListener. */
import { AwsError } from '../../contracts';
import { arn, hexId } from '../../ids';
import { qNumber, qString } from '../../protocol/query';
import type { ElbContext, ElbOperation } from '../context';
import type { Listener } from '../model';
import { pageOf } from '../paging';
import { checkActions, need, parseActions, parseTags, strings } from '../validate';
import { listenerView } from '../views';

/** Deletes a listener with its rules and closes its port (also used by DeleteLoadBalancer). */
export async function deleteListener(ctx: ElbContext, listenerArn: string): Promise<void> {
  const { state } = ctx;
  state.listener(listenerArn);
  state.listeners.delete(listenerArn);
  for (const r of [...state.rules.values()])
    if (r.listenerArn === listenerArn) state.rules.delete(r.RuleArn);
  await ctx.proxy.stop(listenerArn);
  ctx.health.refreshUse();
}

/** The listener operations. */
export function listenerOperations(ctx: ElbContext): Record<string, ElbOperation> {
  const { state, health, proxy } = ctx;
  return {
    CreateListener: async (p, rc) => {
      const lb = state.lb(need(p, 'LoadBalancerArn'));
      const port = qNumber(p.Port);
      if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new AwsError(
          'ValidationError',
          `1 validation error detected: Value '${port}' at 'port' failed to satisfy constraint: Member must have value between 1 and 65535`,
        );
      }
      const same = [...state.listeners.values()].find(
        (l) => l.LoadBalancerArn === lb.LoadBalancerArn && l.Port === port,
      );
      if (same)
        throw new AwsError(
          'DuplicateListener',
          'A listener already exists on this port for this load balancer',
        );
      if ([...state.listeners.values()].some((l) => l.Port === port)) {
        throw new AwsError(
          'DuplicateListener',
          `Port ${port} is already used by a listener of another load balancer in local-aws (all listeners share 127.0.0.1).`,
        );
      }
      const actions = parseActions(p.DefaultActions);
      checkActions(state, actions);
      const lbPath = lb.LoadBalancerArn.split(':loadbalancer/')[1];
      const listenerId = hexId(8);
      const l: Listener = {
        ListenerArn: arn(
          'elasticloadbalancing',
          rc.region,
          rc.accountId,
          `listener/${lbPath}/${listenerId}`,
        ),
        LoadBalancerArn: lb.LoadBalancerArn,
        Port: port,
        Protocol: qString(p.Protocol) ?? 'HTTP',
        DefaultActions: actions,
        defaultRuleArn: arn(
          'elasticloadbalancing',
          rc.region,
          rc.accountId,
          `listener-rule/${lbPath}/${listenerId}/${hexId(8)}`,
        ),
      };
      await proxy.listen(l);
      state.listeners.set(l.ListenerArn, l);
      state.addTags(l.ListenerArn, parseTags(p.Tags));
      health.refreshUse();
      return { Listeners: [listenerView(l)] };
    },
    DescribeListeners: (p) => {
      const lbArn = qString(p.LoadBalancerArn);
      const arns = strings(p.ListenerArns);
      if (!lbArn && !arns.length)
        throw new AwsError(
          'ValidationError',
          'You must specify either listener ARNs or a load balancer ARN',
        );
      if (lbArn) state.lb(lbArn);
      const out = arns.length
        ? arns.map((a) => state.listener(a))
        : [...state.listeners.values()].filter((l) => l.LoadBalancerArn === lbArn);
      const page = pageOf(out, p);
      return { Listeners: page.items.map(listenerView), NextMarker: page.NextMarker };
    },
    ModifyListener: (p) => {
      const l = state.listener(need(p, 'ListenerArn'));
      if (p.DefaultActions) {
        const actions = parseActions(p.DefaultActions);
        checkActions(state, actions);
        l.DefaultActions = actions;
      }
      health.refreshUse();
      return { Listeners: [listenerView(l)] };
    },
    DeleteListener: async (p) => {
      await deleteListener(ctx, need(p, 'ListenerArn'));
      return {};
    },
  };
}
