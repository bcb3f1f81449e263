/**
 * CreateTargetGroup, ModifyTargetGroup, DescribeTargetGroups, DeleteTargetGroup,
 * DescribeTargetGroupAttributes, ModifyTargetGroupAttributes.
 */
import { AwsError } from '../../contracts';
import { arn, hexId } from '../../ids';
import { qList, qNumber, qObject, qString } from '../../protocol/query';
import type { ElbContext, ElbOperation } from '../context';
import type { TargetGroup } from '../model';
import { pageOf } from '../paging';
import { defaultAttributes } from '../state';
import { healthCheckSettings, isValidTargetGroupName, need, parseTags, strings } from '../validate';
import { attributesView } from '../views';

/** The target group operations. */
export function targetGroupOperations(ctx: ElbContext): Record<string, ElbOperation> {
  const { state, health } = ctx;
  return {
    CreateTargetGroup: (p, rc) => {
      const name = need(p, 'Name');
      if (!isValidTargetGroupName(name))
        throw new AwsError('ValidationError', `Target group name '${name}' is not valid.`);
      const existing = [...state.tgs.values()].find((t) => t.TargetGroupName === name);
      if (existing)
        throw new AwsError(
          'DuplicateTargetGroupName',
          `A target group with the same name '${name}' exists, but with different settings`,
        );
      const protocol = qString(p.Protocol) ?? 'HTTP';
      const tg = {
        TargetGroupArn: arn(
          'elasticloadbalancing',
          rc.region,
          rc.accountId,
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
        ...healthCheckSettings(p),
      } as TargetGroup;
      state.tgs.set(tg.TargetGroupArn, tg);
      state.tgAttributes.set(tg.TargetGroupArn, defaultAttributes());
      state.addTags(tg.TargetGroupArn, parseTags(p.Tags));
      return { TargetGroups: [tg] };
    },
    ModifyTargetGroup: (p) => {
      const tg = state.tg(need(p, 'TargetGroupArn'));
      Object.assign(tg, healthCheckSettings(p));
      return { TargetGroups: [tg] };
    },
    DescribeTargetGroups: (p) => {
      const arns = strings(p.TargetGroupArns);
      const names = strings(p.Names);
      const lbArn = qString(p.LoadBalancerArn);
      let out = [...state.tgs.values()];
      if (arns.length) out = arns.map((a) => state.tg(a));
      if (names.length) {
        out = names.map((n) => {
          const tg = [...state.tgs.values()].find((t) => t.TargetGroupName === n);
          if (!tg) throw new AwsError('TargetGroupNotFound', `One or more target groups not found`);
          return tg;
        });
      }
      if (lbArn) {
        state.lb(lbArn);
        out = out.filter((t) => t.LoadBalancerArns.includes(lbArn));
      }
      const page = pageOf(out, p);
      return { TargetGroups: page.items, NextMarker: page.NextMarker };
    },
    DeleteTargetGroup: (p) => {
      const tgArn = need(p, 'TargetGroupArn');
      if (!state.tgs.has(tgArn)) return {};
      if (state.inUse(tgArn))
        throw new AwsError(
          'ResourceInUse',
          `Target group '${tgArn}' is currently in use by a listener or a rule`,
        );
      health.forgetGroup(tgArn);
      state.tgs.delete(tgArn);
      state.tgAttributes.delete(tgArn);
      state.tags.delete(tgArn);
      return {};
    },
    DescribeTargetGroupAttributes: (p) => {
      const tgArn = need(p, 'TargetGroupArn');
      state.tg(tgArn);
      return { Attributes: attributesView(state.tgAttributes.get(tgArn) ?? {}) };
    },
    ModifyTargetGroupAttributes: (p) => {
      const tgArn = need(p, 'TargetGroupArn');
      state.tg(tgArn);
      const attrs = state.tgAttributes.get(tgArn) ?? defaultAttributes();
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
      state.tgAttributes.set(tgArn, attrs);
      return { Attributes: attributesView(attrs) };
    },
  };
}
