// Several services followed at once look at ECS together: one DescribeServices call answers
// up to 10 services, one DescribeServiceDeployments call up to 20 service deployments. This
// wrapper holds each single-item read until every participant waits on one (or a short wait
// has passed), then makes one call for all of them and hands each caller its own part.
import type {
  DescribeServiceDeploymentsCommandInput,
  DescribeServiceDeploymentsCommandOutput,
  DescribeServicesCommandInput,
  DescribeServicesCommandOutput,
} from '@aws-sdk/client-ecs';
import type { Clock } from '../../../kit/src/poll';
import type { EcsApi } from '../api';

/** The most services DescribeServices takes in one call. */
export const DESCRIBE_SERVICES_MAX = 10;
/** The most service deployments DescribeServiceDeployments takes in one call. */
export const DESCRIBE_SERVICE_DEPLOYMENTS_MAX = 20;

/** Options of {@link batchingEcsApi}. */
export interface BatchingOptions {
  clock: Clock;
  /** How many callers (services followed at once) take part; a batch goes as soon as all of them wait. */
  participants: number;
  /** The longest a read waits for the others (default 1.5 s). */
  maxWaitMs?: number;
  /** Pending reads go at once when this aborts (their calls then fail on the signal). */
  signal?: AbortSignal;
}

/** An {@link EcsApi} whose single-item reads are batched, and the handle that counts its participants. */
export interface BatchingEcsApi {
  api: EcsApi;
  /** One participant is done (its service's deploy or rollback ended): the others no longer wait for it. */
  leave(): void;
}

interface Pending<T> {
  ids: string[];
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

interface Queue<T> {
  limit: number;
  pending: Pending<T>[];
  send(ids: string[]): Promise<T>;
  part(answer: T, ids: string[]): T;
}

function matches(name: string | undefined, arn: string | undefined, id: string): boolean {
  return name === id || arn === id || (!!arn && arn.endsWith(`/${id}`));
}

/**
 * Wraps `api` so that DescribeServices calls for one service (same cluster and `include`) and
 * DescribeServiceDeployments calls for one deployment made by the participants are coalesced:
 * a batch is sent when every participant waits on a read, when it is full, or after
 * `maxWaitMs`. Every other call, and any call for several items, goes straight through.
 */
export function batchingEcsApi(api: EcsApi, opts: BatchingOptions): BatchingEcsApi {
  const maxWaitMs = opts.maxWaitMs ?? 1500;
  let participants = opts.participants;
  const queues = new Map<string, Queue<unknown>>();
  let waiting = 0;
  let generation = 0;
  let timerArmed = false;

  const flushQueue = (queue: Queue<unknown>): void => {
    while (queue.pending.length) {
      const batch: Pending<unknown>[] = [];
      const ids = new Set<string>();
      while (queue.pending.length) {
        const next = queue.pending[0];
        const added = next.ids.filter((id) => !ids.has(id));
        if (ids.size + added.length > queue.limit && batch.length) break;
        queue.pending.shift();
        batch.push(next);
        for (const id of added) ids.add(id);
      }
      waiting -= batch.length;
      const list = [...ids];
      queue.send(list).then(
        (answer) => {
          for (const p of batch) p.resolve(queue.part(answer, p.ids));
        },
        (error: unknown) => {
          for (const p of batch) p.reject(error);
        },
      );
    }
  };

  const flushAll = (): void => {
    generation++;
    timerArmed = false;
    for (const queue of queues.values()) flushQueue(queue);
  };

  const check = (): void => {
    if (waiting === 0) return;
    if (waiting >= participants) return flushAll();
    for (const queue of queues.values()) {
      const ids = new Set(queue.pending.flatMap((p) => p.ids));
      if (ids.size >= queue.limit) flushQueue(queue);
    }
    if (waiting > 0 && !timerArmed) {
      timerArmed = true;
      const armedFor = generation;
      opts.clock.sleep(maxWaitMs, opts.signal).then(
        () => {
          if (armedFor === generation) flushAll();
        },
        () => {
          if (armedFor === generation) flushAll();
        },
      );
    }
  };

  const enqueue = <T>(key: string, make: () => Queue<T>, ids: string[]): Promise<T> => {
    let queue = queues.get(key) as Queue<T> | undefined;
    if (!queue) {
      queue = make();
      queues.set(key, queue as Queue<unknown>);
    }
    const target = queue;
    return new Promise<T>((resolve, reject) => {
      target.pending.push({ ids, resolve, reject });
      waiting++;
      check();
    });
  };

  const describeServices = (
    input: DescribeServicesCommandInput,
  ): Promise<DescribeServicesCommandOutput> => {
    if (input.services?.length !== 1) return api.describeServices(input);
    const key = `services ${input.cluster ?? ''} ${JSON.stringify(input.include ?? [])}`;
    return enqueue<DescribeServicesCommandOutput>(
      key,
      () => ({
        limit: DESCRIBE_SERVICES_MAX,
        pending: [],
        send: (services) => api.describeServices({ ...input, services }),
        part: (answer, ids) => ({
          ...answer,
          services: (answer.services ?? []).filter((s) =>
            ids.some((id) => matches(s.serviceName, s.serviceArn, id)),
          ),
          failures: (answer.failures ?? []).filter((f) =>
            ids.some((id) => matches(undefined, f.arn, id)),
          ),
        }),
      }),
      input.services,
    );
  };

  const describeServiceDeployments = (
    input: DescribeServiceDeploymentsCommandInput,
  ): Promise<DescribeServiceDeploymentsCommandOutput> => {
    if (input.serviceDeploymentArns?.length !== 1) return api.describeServiceDeployments(input);
    return enqueue<DescribeServiceDeploymentsCommandOutput>(
      'service-deployments',
      () => ({
        limit: DESCRIBE_SERVICE_DEPLOYMENTS_MAX,
        pending: [],
        send: (serviceDeploymentArns) => api.describeServiceDeployments({ serviceDeploymentArns }),
        part: (answer, ids) => ({
          ...answer,
          serviceDeployments: (answer.serviceDeployments ?? []).filter((d) =>
            ids.includes(d.serviceDeploymentArn ?? ''),
          ),
          failures: (answer.failures ?? []).filter((f) => ids.includes(f.arn ?? '')),
        }),
      }),
      input.serviceDeploymentArns,
    );
  };

  return {
    api: { ...api, describeServices, describeServiceDeployments },
    leave: () => {
      participants = Math.max(0, participants - 1);
      check();
    },
  };
}

/**
 * Wraps `api` so each revision is described once: a task definition revision never changes, and
 * a release reads each one twice (to place its lines, then to deploy).
 */
export function cachingTaskDefinitions(api: EcsApi): EcsApi {
  const seen = new Map<string, ReturnType<EcsApi['describeTaskDefinition']>>();
  return {
    ...api,
    describeTaskDefinition: (input) => {
      const key = JSON.stringify([input.taskDefinition, input.include ?? []]);
      let answer = seen.get(key);
      if (!answer) {
        answer = api.describeTaskDefinition(input);
        // A failure is not kept: the next call asks again.
        answer.catch(() => seen.delete(key));
        seen.set(key, answer);
      }
      return answer;
    },
  };
}
