// The ECS API an action calls through: the SDK client with the kit's options, metered.
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EcsApi } from './api';

/** Builds the ECS API from the SDK client, after inputs are validated (lazy imports keep cold start small). */
export async function realEcsApi(): Promise<EcsApi> {
  const [{ ECSClient }, kitAws, { createEcsApi }] = await Promise.all([
    import('@aws-sdk/client-ecs'),
    import('../../kit/src/aws'),
    import('./api'),
  ]);
  const client: ECSClient = kitAws.withErrorContext(
    new ECSClient(kitAws.awsClientConfig(kitAws.resolveRegion())),
    'ECS',
  );
  return createEcsApi(client);
}

/**
 * The ECS API an action calls through: `injected` (tests) or the real one, metered to at most 30
 * calls in any minute, whatever the rollout does, because the account's API budget is shared.
 */
export async function meteredActionEcsApi(
  injected: EcsApi | undefined,
  signal: AbortSignal,
): Promise<EcsApi> {
  const { meteredEcsApi, newCallCounter } = await import('./api');
  const { sleep } = await import('../../kit/src/poll');
  return meteredEcsApi(injected ?? (await realEcsApi()), newCallCounter(), {
    maxPerMinute: 30,
    sleep,
    signal,
  });
}

/**
 * Reads the longest `deregistration_delay.timeout_seconds` of the given target groups (in ms)
 * with the ELBv2 API (`elasticloadbalancing:DescribeTargetGroupAttributes`); undefined when it
 * cannot be read, and following then looks at the usual pace. The client is made on first use.
 */
export function deregistrationDelayReader(): (
  targetGroupArns: string[],
) => Promise<number | undefined> {
  return async (targetGroupArns) => {
    const [elb, kitAws] = await Promise.all([
      import('@aws-sdk/client-elastic-load-balancing-v2'),
      import('../../kit/src/aws'),
    ]);
    const client = new elb.ElasticLoadBalancingV2Client(
      kitAws.awsClientConfig(kitAws.resolveRegion()),
    );
    try {
      let longest: number | undefined;
      for (const arn of targetGroupArns.slice(0, 5)) {
        const out = await client.send(
          new elb.DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }),
        );
        const value = out.Attributes?.find(
          (a) => a.Key === 'deregistration_delay.timeout_seconds',
        )?.Value;
        const seconds = value === undefined ? 300 : Number(value);
        if (Number.isFinite(seconds)) longest = Math.max(longest ?? 0, seconds * 1000);
      }
      return longest;
    } finally {
      client.destroy();
    }
  };
}
