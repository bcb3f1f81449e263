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
