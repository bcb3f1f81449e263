/** CreateCluster, DescribeClusters, ListClusters, DeleteCluster. */
import { AwsError, type JsonOperation } from '../../contracts';
import { arn } from '../../ids';
import type { EcsContext } from '../context';
import type { Cluster } from '../model';
import { nameOf, paginate, parseTags, requireString, type Input } from '../util';

/** The cluster operations. */
export function clusterOperations(ctx: EcsContext): Record<string, JsonOperation> {
  const { state } = ctx;
  return {
    CreateCluster: (input: Input, rc) => {
      const name =
        typeof input.clusterName === 'string' && input.clusterName ? input.clusterName : 'default';
      if (!/^[A-Za-z0-9_-]{1,255}$/.test(name))
        throw new AwsError('InvalidParameterException', `Cluster name \`${name}\` is not valid.`);
      const existing = state.clusters.get(name);
      if (existing?.status === 'ACTIVE') return { cluster: existing };
      const c: Cluster = {
        clusterArn: arn('ecs', rc.region, rc.accountId, `cluster/${name}`),
        clusterName: name,
        status: 'ACTIVE',
        registeredContainerInstancesCount: 0,
        runningTasksCount: 0,
        pendingTasksCount: 0,
        activeServicesCount: 0,
        statistics: [],
        tags: parseTags(input.tags),
        settings: (input.settings as Cluster['settings']) ?? [
          { name: 'containerInsights', value: 'disabled' },
        ],
        capacityProviders: (input.capacityProviders as string[]) ?? [],
        defaultCapacityProviderStrategy: (input.defaultCapacityProviderStrategy as unknown[]) ?? [],
      };
      state.clusters.set(name, c);
      return { cluster: c };
    },
    DescribeClusters: (input: Input, rc) => {
      const refs =
        Array.isArray(input.clusters) && input.clusters.length
          ? (input.clusters as string[])
          : ['default'];
      const include = Array.isArray(input.include) && input.include.includes('TAGS');
      const clusters: unknown[] = [];
      const failures: unknown[] = [];
      for (const ref of refs) {
        const c = state.clusters.get(nameOf(ref));
        if (c) {
          const { tags: _tags, ...rest } = c;
          clusters.push(include ? c : rest);
        } else {
          // ECS names a missing cluster by its full ARN, also when it was given by name.
          const missing = ref.startsWith('arn:')
            ? ref
            : arn('ecs', rc.region, rc.accountId, `cluster/${ref}`);
          failures.push({ arn: missing, reason: 'MISSING' });
        }
      }
      return { clusters, failures };
    },
    ListClusters: (input: Input) => {
      const { page, nextToken } = paginate(
        [...state.clusters.values()].filter((c) => c.status === 'ACTIVE').map((c) => c.clusterArn),
        input,
      );
      return { clusterArns: page, nextToken };
    },
    DeleteCluster: (input: Input) => {
      const c = state.cluster(requireString(input, 'cluster'));
      if (
        [...state.services.values()].some(
          (s) => s.clusterArn === c.clusterArn && s.status !== 'INACTIVE',
        )
      ) {
        throw new AwsError(
          'ClusterContainsServicesException',
          'The Cluster cannot be deleted while Services are active.',
        );
      }
      if (
        [...state.tasks.values()].some(
          (t) => t.clusterArn === c.clusterArn && t.lastStatus !== 'STOPPED',
        )
      ) {
        throw new AwsError(
          'ClusterContainsTasksException',
          'The Cluster cannot be deleted while Tasks are active.',
        );
      }
      c.status = 'INACTIVE';
      return { cluster: c };
    },
  };
}
