// The ECS API an action calls through: the SDK client with the kit's options, metered.
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EcsApi } from './api';
import type { Clock } from '../../kit/src/poll';

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
 * calls in any minute (`maxPerMinute`), whatever the rollout does, because the account's API
 * budget is shared.
 */
export async function meteredActionEcsApi(
  injected: EcsApi | undefined,
  signal: AbortSignal,
  clock?: Clock,
  maxPerMinute = 30,
): Promise<EcsApi> {
  const { meteredEcsApi, newCallCounter } = await import('./api');
  const { systemClock } = await import('../../kit/src/poll');
  const time = clock ?? systemClock;
  return meteredEcsApi(injected ?? (await realEcsApi()), newCallCounter(), {
    maxPerMinute,
    now: () => time.now(),
    sleep: (ms, s) => time.sleep(ms, s),
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
    const client = kitAws.withErrorContext(
      new elb.ElasticLoadBalancingV2Client(kitAws.awsClientConfig(kitAws.resolveRegion())),
      'ELBv2',
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

const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/**
 * Says whether an image exists in its Amazon ECR repository (`ecr:DescribeImages`). An image
 * is in ECR when its registry is an ECR registry (`<account>.dkr.ecr.<region>.amazonaws.com`) or
 * the host of the configured ECR endpoint; for any other registry the answer is `unknown`, as
 * it is when ECR refuses the call.
 */
export function ecrImageChecker(): (image: string) => Promise<'exists' | 'missing' | 'unknown'> {
  return async (image) => {
    const { parseImageRef } = await import('./image-ref');
    const ref = parseImageRef(image);
    if (!ref?.registry || (!ref.tag && !ref.digest)) return 'unknown';
    const host = ref.registry.toLowerCase();
    const ecrHost = ECR_HOST.exec(host);
    const endpoint = process.env.AWS_ENDPOINT_URL_ECR || process.env.AWS_ENDPOINT_URL;
    let endpointHost: string | undefined;
    try {
      endpointHost = endpoint ? new URL(endpoint).host.toLowerCase() : undefined;
    } catch {
      endpointHost = undefined;
    }
    if (!ecrHost && host !== endpointHost) return 'unknown';
    const [ecr, kitAws] = await Promise.all([
      import('@aws-sdk/client-ecr'),
      import('../../kit/src/aws'),
    ]);
    const client = kitAws.withErrorContext(
      new ecr.ECRClient(kitAws.awsClientConfig(ecrHost?.[2] ?? kitAws.resolveRegion())),
      'ECR',
    );
    try {
      const out = await client.send(
        new ecr.DescribeImagesCommand({
          repositoryName: ref.repository,
          registryId: ecrHost?.[1],
          imageIds: [ref.digest ? { imageDigest: ref.digest } : { imageTag: ref.tag }],
        }),
      );
      return out.imageDetails?.length ? 'exists' : 'missing';
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'ImageNotFoundException' || name === 'RepositoryNotFoundException')
        return 'missing';
      return 'unknown';
    } finally {
      client.destroy();
    }
  };
}
