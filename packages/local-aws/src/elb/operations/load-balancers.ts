/** CreateLoadBalancer, DescribeLoadBalancers, DeleteLoadBalancer. */
import { AwsError } from '../../contracts';
import { arn, hexId } from '../../ids';
import { qString } from '../../protocol/query';
import type { ElbContext, ElbOperation } from '../context';
import type { LoadBalancer } from '../model';
import { pageOf } from '../paging';
import { isValidLoadBalancerName, need, parseTags, strings } from '../validate';
import { deleteListener } from './listeners';

/** The load balancer operations. */
export function loadBalancerOperations(ctx: ElbContext): Record<string, ElbOperation> {
  const { state, clock } = ctx;
  return {
    CreateLoadBalancer: (p, rc) => {
      const name = need(p, 'Name');
      if (!isValidLoadBalancerName(name)) {
        throw new AwsError('ValidationError', `The load balancer name '${name}' is not valid.`);
      }
      const existing = [...state.lbs.values()].find((l) => l.LoadBalancerName === name);
      if (existing) return { LoadBalancers: [existing] };
      const id = hexId(8);
      const subnets = strings(p.Subnets);
      const lb: LoadBalancer = {
        LoadBalancerArn: arn(
          'elasticloadbalancing',
          rc.region,
          rc.accountId,
          `loadbalancer/app/${name}/${id}`,
        ),
        DNSName: '127.0.0.1',
        CanonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
        CreatedTime: clock.now(),
        LoadBalancerName: name,
        Scheme: qString(p.Scheme) ?? 'internet-facing',
        VpcId: 'vpc-00000000',
        State: { Code: 'active' },
        Type: qString(p.Type) ?? 'application',
        AvailabilityZones: subnets.map((s, i) => ({
          ZoneName: `${rc.region}${'abcdef'[i % 6]}`,
          SubnetId: s,
        })),
        SecurityGroups: strings(p.SecurityGroups),
        IpAddressType: qString(p.IpAddressType) ?? 'ipv4',
      };
      state.lbs.set(lb.LoadBalancerArn, lb);
      state.addTags(lb.LoadBalancerArn, parseTags(p.Tags));
      return { LoadBalancers: [lb] };
    },
    DescribeLoadBalancers: (p) => {
      const arns = strings(p.LoadBalancerArns);
      const names = strings(p.Names);
      let out = [...state.lbs.values()];
      if (arns.length) out = arns.map((a) => state.lb(a));
      if (names.length) {
        out = names.map((n) => {
          const lb = [...state.lbs.values()].find((l) => l.LoadBalancerName === n);
          if (!lb) throw new AwsError('LoadBalancerNotFound', `Load balancers '[${n}]' not found`);
          return lb;
        });
      }
      const page = pageOf(out, p);
      return { LoadBalancers: page.items, NextMarker: page.NextMarker };
    },
    DeleteLoadBalancer: async (p) => {
      const lbArn = need(p, 'LoadBalancerArn');
      if (!state.lbs.has(lbArn)) return {};
      for (const l of [...state.listeners.values()].filter((x) => x.LoadBalancerArn === lbArn))
        await deleteListener(ctx, l.ListenerArn);
      state.lbs.delete(lbArn);
      state.tags.delete(lbArn);
      return {};
    },
  };
}
