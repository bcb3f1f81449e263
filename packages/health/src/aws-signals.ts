import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { logSafe } from '../../kit/src/log-text';
import type { SignalCheck, SignalReading } from './gate';

/**
 * Fails the gate while any of the named CloudWatch alarms (metric or composite) is in ALARM. The
 * alarm's state reason is text from outside: it reaches the detail on one line via `logSafe`.
 */
export function alarmSignal(client: CloudWatchClient, names: string[]): SignalCheck {
  return {
    name: `CloudWatch alarm${names.length > 1 ? 's' : ''} ${names.join(', ')}`,
    async check(signal): Promise<SignalReading> {
      const found = new Map<string, { state?: string; reason?: string }>();
      let token: string | undefined;
      do {
        const page = await client.send(
          new DescribeAlarmsCommand({
            AlarmNames: names,
            AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
            NextToken: token,
          }),
          { abortSignal: signal },
        );
        for (const a of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
          if (a.AlarmName) found.set(a.AlarmName, { state: a.StateValue, reason: a.StateReason });
        }
        token = page.NextToken;
      } while (token);
      const missing = names.filter((n) => !found.has(n));
      if (missing.length) {
        return {
          state: 'failed',
          detail: `CloudWatch alarm${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found.`,
        };
      }
      const firing = names.filter((n) => found.get(n)?.state === 'ALARM');
      if (firing.length) {
        const first = found.get(firing[0]);
        return {
          state: 'failed',
          detail: `CloudWatch alarm ${firing.join(', ')} is in ALARM${first?.reason ? `: ${logSafe(first.reason, 500)}` : ''}.`,
        };
      }
      return { state: 'ok', detail: `${names.length} CloudWatch alarm(s) not in ALARM` };
    },
  };
}

/** `my-tg` from `arn:aws:elasticloadbalancing:…:targetgroup/my-tg/abc123`. */
export function targetGroupName(arn: string): string {
  return /targetgroup\/([^/]+)\//.exec(arn)?.[1] ?? arn;
}

/**
 * Ready when every registered target (draining ones aside) is healthy. Not ready while targets
 * register or when the group is empty; `unhealthy` when ELB marks a target unhealthy; the reason names the unhealthy targets and why (ELB's
 * reason and description on one line via `logSafe`).
 */
export function targetGroupSignal(client: ElasticLoadBalancingV2Client, arn: string): SignalCheck {
  const name = targetGroupName(arn);
  return {
    name: `target group ${name}`,
    async check(signal): Promise<SignalReading> {
      const out = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }), {
        abortSignal: signal,
      });
      const targets = (out.TargetHealthDescriptions ?? []).filter(
        (t) => t.TargetHealth?.State !== 'draining',
      );
      if (!targets.length)
        return { state: 'not-ready', detail: `Target group ${name} has no registered targets` };
      const bad = targets.filter((t) => t.TargetHealth?.State !== 'healthy');
      if (!bad.length)
        return { state: 'ok', detail: `all ${targets.length} targets of ${name} are healthy` };
      const described = bad
        .slice(0, 3)
        .map((t) => {
          const h = t.TargetHealth ?? {};
          const why = [h.Reason, h.Description].filter(Boolean).join(': ');
          return logSafe(
            `${t.Target?.Id}${t.Target?.Port ? `:${t.Target.Port}` : ''} ${h.State}${why ? ` (${why})` : ''}`,
            300,
          );
        })
        .join('; ');
      return {
        // `unhealthy` is ELB's verdict after its own failed checks; `initial` and the rest wait.
        state: bad.some((t) => t.TargetHealth?.State === 'unhealthy') ? 'unhealthy' : 'not-ready',
        detail: `Target group ${name}: ${bad.length} of ${targets.length} targets not healthy — ${described}${bad.length > 3 ? '; …' : ''}`,
      };
    },
  };
}
