import type {
  DescribeServiceDeploymentsCommandInput,
  DescribeServiceDeploymentsCommandOutput,
  DescribeServiceRevisionsCommandInput,
  DescribeServiceRevisionsCommandOutput,
  DescribeServicesCommandInput,
  DescribeServicesCommandOutput,
  DescribeTaskDefinitionCommandInput,
  DescribeTaskDefinitionCommandOutput,
  DescribeTasksCommandInput,
  DescribeTasksCommandOutput,
  ECSClient,
  ListServiceDeploymentsCommandInput,
  ListServiceDeploymentsCommandOutput,
  ListTaskDefinitionsCommandInput,
  ListTaskDefinitionsCommandOutput,
  ListTasksCommandInput,
  ListTasksCommandOutput,
  RegisterTaskDefinitionCommandInput,
  RegisterTaskDefinitionCommandOutput,
  StopServiceDeploymentCommandInput,
  StopServiceDeploymentCommandOutput,
  TagResourceCommandInput,
  TagResourceCommandOutput,
  UpdateServiceCommandInput,
  UpdateServiceCommandOutput,
} from '@aws-sdk/client-ecs';

/**
 * The ECS operations shipkit calls, one method per operation. The domain code depends on this
 * interface only, so tests can hand in a small typed fake; {@link createEcsApi} adapts an SDK client.
 */
export interface EcsApi {
  describeServices(input: DescribeServicesCommandInput): Promise<DescribeServicesCommandOutput>;
  describeServiceDeployments(
    input: DescribeServiceDeploymentsCommandInput,
  ): Promise<DescribeServiceDeploymentsCommandOutput>;
  listServiceDeployments(
    input: ListServiceDeploymentsCommandInput,
  ): Promise<ListServiceDeploymentsCommandOutput>;
  describeServiceRevisions(
    input: DescribeServiceRevisionsCommandInput,
  ): Promise<DescribeServiceRevisionsCommandOutput>;
  describeTaskDefinition(
    input: DescribeTaskDefinitionCommandInput,
  ): Promise<DescribeTaskDefinitionCommandOutput>;
  listTaskDefinitions(
    input: ListTaskDefinitionsCommandInput,
  ): Promise<ListTaskDefinitionsCommandOutput>;
  registerTaskDefinition(
    input: RegisterTaskDefinitionCommandInput,
  ): Promise<RegisterTaskDefinitionCommandOutput>;
  updateService(input: UpdateServiceCommandInput): Promise<UpdateServiceCommandOutput>;
  stopServiceDeployment(
    input: StopServiceDeploymentCommandInput,
  ): Promise<StopServiceDeploymentCommandOutput>;
  listTasks(input: ListTasksCommandInput): Promise<ListTasksCommandOutput>;
  describeTasks(input: DescribeTasksCommandInput): Promise<DescribeTasksCommandOutput>;
  tagResource(input: TagResourceCommandInput): Promise<TagResourceCommandOutput>;
}

/** Adapts an SDK v3 ECS client to {@link EcsApi}. Loads the command classes on first use. */
export async function createEcsApi(client: ECSClient): Promise<EcsApi> {
  const sdk = await import('@aws-sdk/client-ecs');
  return {
    describeServices: (i) => client.send(new sdk.DescribeServicesCommand(i)),
    describeServiceDeployments: (i) => client.send(new sdk.DescribeServiceDeploymentsCommand(i)),
    listServiceDeployments: (i) => client.send(new sdk.ListServiceDeploymentsCommand(i)),
    describeServiceRevisions: (i) => client.send(new sdk.DescribeServiceRevisionsCommand(i)),
    describeTaskDefinition: (i) => client.send(new sdk.DescribeTaskDefinitionCommand(i)),
    listTaskDefinitions: (i) => client.send(new sdk.ListTaskDefinitionsCommand(i)),
    registerTaskDefinition: (i) => client.send(new sdk.RegisterTaskDefinitionCommand(i)),
    updateService: (i) => client.send(new sdk.UpdateServiceCommand(i)),
    stopServiceDeployment: (i) => client.send(new sdk.StopServiceDeploymentCommand(i)),
    listTasks: (i) => client.send(new sdk.ListTasksCommand(i)),
    describeTasks: (i) => client.send(new sdk.DescribeTasksCommand(i)),
    tagResource: (i) => client.send(new sdk.TagResourceCommand(i)),
  };
}

/** Counts the calls made through an {@link EcsApi}, by operation. */
export interface CallCounter {
  total: number;
  byOperation: Record<string, number>;
  /** Epoch milliseconds of each call, oldest first. */
  times: number[];
}

/**
 * Wraps `api` so every call is counted in `counter` and, when `maxPerMinute` is given, spaced so
 * no more than that many calls start in any 60-second window (waiting on `clock`).
 */
export function meteredEcsApi(
  api: EcsApi,
  counter: CallCounter,
  opts: {
    maxPerMinute?: number;
    now?: () => number;
    sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
    signal?: AbortSignal;
  } = {},
): EcsApi {
  const now = opts.now ?? Date.now;
  const wrapped = {} as Record<string, unknown>;
  for (const name of Object.keys(api) as (keyof EcsApi)[]) {
    const fn = api[name] as (input: unknown) => Promise<unknown>;
    wrapped[name] = async (input: unknown): Promise<unknown> => {
      if (opts.maxPerMinute && opts.sleep) {
        const windowStart = now() - 60_000;
        const recent = counter.times.filter((t) => t > windowStart);
        if (recent.length >= opts.maxPerMinute) {
          const wait = recent[recent.length - opts.maxPerMinute] + 60_000 - now();
          if (wait > 0) await opts.sleep(wait, opts.signal);
        }
      }
      counter.total++;
      counter.byOperation[name] = (counter.byOperation[name] ?? 0) + 1;
      counter.times.push(now());
      if (counter.times.length > 500) counter.times.splice(0, counter.times.length - 500);
      return fn.call(api, input);
    };
  }
  return wrapped as unknown as EcsApi;
}

/** A fresh, empty {@link CallCounter}. */
export function newCallCounter(): CallCounter {
  return { total: 0, byOperation: {}, times: [] };
}
