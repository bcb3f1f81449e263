/** CreateService, UpdateService, DescribeServices, ListServices, DeleteService. */
import { AwsError, type JsonOperation } from '../../contracts';
import { arn, parseArn } from '../../ids';
import type { EcsContext } from '../context';
import type { Service, TaskDefinition } from '../model';
import { clone, paginate, parseTags, requireString, type Input } from '../util';
import {
  deploymentConfiguration,
  requireNetworkConfiguration,
  validateLoadBalancers,
} from '../validate';
import {
  checkDeploymentController,
  refuseTaskSetServiceChanges,
  startTaskSetService,
} from '../external-controller';
import { usesTaskSets, withTaskSets } from '../task-sets';
import { serviceView } from '../views';
import { taskSetOperations } from './task-sets';

/** The service operations. */
export function serviceOperations(ctx: EcsContext): Record<string, JsonOperation> {
  const { state, opts, scheduler, deployments } = ctx;
  return {
    CreateService: (input: Input, rc) => {
      const cluster = state.cluster(input.cluster);
      const name = requireString(input, 'serviceName');
      if (!/^[A-Za-z0-9_-]{1,255}$/.test(name))
        throw new AwsError('InvalidParameterException', `Service name \`${name}\` is not valid.`);
      const existing = state.findService(cluster, name);
      if (existing && existing.status !== 'INACTIVE')
        throw new AwsError('InvalidParameterException', 'Creation of service was not idempotent.');
      const td = state.resolveTaskDef(requireString(input, 'taskDefinition'));
      if (!td || td.status !== 'ACTIVE')
        throw new AwsError('ClientException', 'TaskDefinition not found.');
      const desiredCount = input.desiredCount === undefined ? 0 : Number(input.desiredCount);
      if (!Number.isInteger(desiredCount) || desiredCount < 0)
        throw new AwsError(
          'InvalidParameterException',
          '`desiredCount` must be a non-negative integer.',
        );
      requireNetworkConfiguration(td, input.networkConfiguration);
      const loadBalancers = validateLoadBalancers(input.loadBalancers, opts.elb);
      const controller =
        (input.deploymentController as { type?: string } | undefined)?.type ?? 'ECS';
      checkDeploymentController(controller, loadBalancers);
      const now = opts.clock.now();
      const svc: Service = {
        serviceArn: arn('ecs', rc.region, rc.accountId, `service/${cluster.clusterName}/${name}`),
        serviceName: name,
        clusterArn: cluster.clusterArn,
        status: 'ACTIVE',
        desiredCount,
        runningCount: 0,
        pendingCount: 0,
        launchType:
          (input.launchType as string | undefined) ??
          (input.capacityProviderStrategy ? undefined : 'FARGATE'),
        platformVersion: (input.platformVersion as string | undefined) ?? 'LATEST',
        taskDefinition: td.taskDefinitionArn,
        loadBalancers,
        serviceRegistries: (input.serviceRegistries as unknown[]) ?? [],
        deploymentConfiguration: deploymentConfiguration(
          input.deploymentConfiguration,
          {},
          loadBalancers,
        ),
        deploymentController: { type: controller },
        deployments: [],
        events: [],
        networkConfiguration: clone(input.networkConfiguration),
        healthCheckGracePeriodSeconds: input.healthCheckGracePeriodSeconds as number | undefined,
        schedulingStrategy: (input.schedulingStrategy as string | undefined) ?? 'REPLICA',
        createdAt: now,
        createdBy: `arn:aws:iam::${rc.accountId}:root`,
        enableECSManagedTags: input.enableECSManagedTags === true,
        propagateTags: (input.propagateTags as string | undefined) ?? 'NONE',
        enableExecuteCommand: input.enableExecuteCommand === true,
        availabilityZoneRebalancing: 'ENABLED',
        tags: parseTags(input.tags),
      };
      state.services.set(state.serviceKey(svc), svc);
      state.serviceRuntime.delete(svc.serviceArn);
      if (usesTaskSets(svc)) startTaskSetService(ctx, svc);
      else deployments.start(svc, td);
      scheduler.reconcile(svc);
      return { service: withTaskSets(serviceView(state, svc, false), svc) };
    },
    UpdateService: (input: Input) => {
      const svc = state.service(input);
      if (svc.status !== 'ACTIVE')
        throw new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
      refuseTaskSetServiceChanges(svc, input);
      let td: TaskDefinition | undefined;
      if (input.taskDefinition !== undefined) {
        td = state.resolveTaskDef(requireString(input, 'taskDefinition'));
        if (!td || td.status !== 'ACTIVE')
          throw new AwsError('ClientException', 'TaskDefinition not found.');
      }
      if (td || input.networkConfiguration !== undefined)
        requireNetworkConfiguration(
          td ?? state.resolveTaskDef(svc.taskDefinition)!,
          input.networkConfiguration ?? svc.networkConfiguration,
        );
      let lbChanged = false;
      if (input.loadBalancers !== undefined) {
        const lbs = validateLoadBalancers(input.loadBalancers, opts.elb);
        lbChanged = JSON.stringify(lbs) !== JSON.stringify(svc.loadBalancers);
        svc.loadBalancers = lbs;
      }
      if (input.deploymentConfiguration !== undefined) {
        svc.deploymentConfiguration = deploymentConfiguration(
          input.deploymentConfiguration,
          svc.deploymentConfiguration,
          svc.loadBalancers,
        );
      }
      if (input.desiredCount !== undefined) {
        const n = Number(input.desiredCount);
        if (!Number.isInteger(n) || n < 0)
          throw new AwsError(
            'InvalidParameterException',
            '`desiredCount` must be a non-negative integer.',
          );
        if (n !== svc.desiredCount) svc.unsteady = true;
        svc.desiredCount = n;
        const p = state.primary(svc);
        if (p) p.desiredCount = n;
      }
      if (input.healthCheckGracePeriodSeconds !== undefined)
        svc.healthCheckGracePeriodSeconds = Number(input.healthCheckGracePeriodSeconds);
      let netChanged = false;
      if (input.networkConfiguration !== undefined) {
        netChanged =
          JSON.stringify(input.networkConfiguration) !== JSON.stringify(svc.networkConfiguration);
        svc.networkConfiguration = clone(input.networkConfiguration);
      }
      if (input.propagateTags !== undefined) svc.propagateTags = String(input.propagateTags);
      const current = state.resolveTaskDef(svc.taskDefinition)!;
      const changed =
        (td && td.taskDefinitionArn !== svc.taskDefinition) ||
        input.forceNewDeployment === true ||
        lbChanged ||
        netChanged;
      if (changed) {
        if (state.runtime(svc).blueGreenRunning) {
          throw new AwsError(
            'InvalidParameterException',
            'A blue/green service deployment is in progress; wait for it to finish or stop it before updating the service.',
          );
        }
        deployments.start(svc, td ?? current);
      }
      scheduler.kick(svc);
      return { service: withTaskSets(serviceView(state, svc, false), svc) };
    },
    DescribeServices: (input: Input) => {
      const cluster = state.cluster(input.cluster);
      if (!Array.isArray(input.services) || !input.services.length)
        throw new AwsError('InvalidParameterException', 'Services cannot be empty.');
      if (input.services.length > 10)
        throw new AwsError(
          'InvalidParameterException',
          'At most 10 services can be described at once.',
        );
      const include = Array.isArray(input.include) && input.include.includes('TAGS');
      const services: unknown[] = [];
      const failures: unknown[] = [];
      for (const ref of input.services as string[]) {
        const s = state.findService(cluster, ref);
        if (s) services.push(withTaskSets(serviceView(state, s, include), s));
        else
          failures.push({
            arn: ref.startsWith('arn:')
              ? ref
              : arn(
                  'ecs',
                  state.region(cluster),
                  parseArn(cluster.clusterArn)!.account,
                  `service/${cluster.clusterName}/${ref}`,
                ),
            reason: 'MISSING',
          });
      }
      return { services, failures };
    },
    ListServices: (input: Input) => {
      const cluster = state.cluster(input.cluster);
      const launchType = typeof input.launchType === 'string' ? input.launchType : undefined;
      const strategy =
        typeof input.schedulingStrategy === 'string' ? input.schedulingStrategy : undefined;
      const arns = [...state.services.values()]
        .filter((s) => s.clusterArn === cluster.clusterArn && s.status === 'ACTIVE')
        .filter((s) => launchType === undefined || s.launchType === launchType)
        .filter((s) => strategy === undefined || s.schedulingStrategy === strategy)
        .map((s) => s.serviceArn);
      const { page, nextToken } = paginate(arns, input, 10);
      return { serviceArns: page, nextToken };
    },
    DeleteService: (input: Input) => {
      const svc = state.service(input);
      if (svc.status !== 'ACTIVE')
        throw new AwsError('ServiceNotActiveException', 'Service was not ACTIVE.');
      if (svc.desiredCount > 0 && input.force !== true) {
        throw new AwsError(
          'InvalidParameterException',
          'The service cannot be stopped while it is scaled above 0.',
        );
      }
      svc.status = 'DRAINING';
      svc.desiredCount = 0;
      scheduler.kick(svc);
      return { service: withTaskSets(serviceView(state, svc, false), svc) };
    },
    ...taskSetOperations(ctx),
  };
}
