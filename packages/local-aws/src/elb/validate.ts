/**
 * Reading ELBv2 query parameters into resources, with the checks AWS makes: required members,
 * actions and rule conditions, target group health-check settings, names and tags.
 */
import { AwsError } from '../contracts';
import {
  qBool,
  qList,
  qNumber,
  qObject,
  qString,
  type QueryParams,
  type QueryValue,
} from '../protocol/query';
import type { ElbAction, RuleCondition, TargetGroup } from './model';
import { forwardTuples, type ElbState, type Tag } from './state';

/** A required string member, or AWS's "must not be null" `ValidationError`. */
export function need(p: QueryParams, name: string): string {
  const v = qString(p[name]);
  if (v === undefined || v === '')
    throw new AwsError(
      'ValidationError',
      `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
    );
  return v;
}

/** A list member of strings (absent: empty). */
export function strings(v: QueryValue | undefined): string[] {
  return qList(v).map((x) => String(x));
}

/** Load balancer and target group names: 1-32 alphanumerics and hyphens, not at either end. */
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;

/** Whether a load balancer name is valid (also: not starting with `internal-`). */
export function isValidLoadBalancerName(name: string): boolean {
  return NAME.test(name) && !name.startsWith('internal-');
}

/** Whether a target group name is valid. */
export function isValidTargetGroupName(name: string): boolean {
  return NAME.test(name);
}

/** Reads `Tags.member.N.Key/Value`. */
export function parseTags(tags: QueryValue | undefined): Tag[] {
  return qList(tags).map((t) => ({
    Key: need(qObject(t), 'Key'),
    Value: qString(qObject(t).Value),
  }));
}

/** Reads listener or rule actions (forward, fixed-response, redirect). */
export function parseActions(v: QueryValue | undefined): ElbAction[] {
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

/** Checks actions: at least one, and every target group they forward to exists. */
export function checkActions(state: ElbState, actions: ElbAction[]): void {
  if (!actions.length) throw new AwsError('ValidationError', 'At least one action is required.');
  for (const a of actions) for (const t of forwardTuples(a)) state.tg(t.TargetGroupArn);
}

/** Reads rule conditions (path, host, header, method, query string). */
export function parseConditions(v: QueryValue | undefined): RuleCondition[] {
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

/** The health-check settings a CreateTargetGroup or ModifyTargetGroup request names. */
export function healthCheckSettings(p: QueryParams): Partial<TargetGroup> {
  const out: Partial<TargetGroup> = {};
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
