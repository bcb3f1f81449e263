/**
 * CreateDeploymentGroup, GetDeploymentGroup, ListDeploymentGroups, DeleteDeploymentGroup (ECS
 * blue/green groups), and the deployment configurations: GetDeploymentConfig,
 * CreateDeploymentConfig, ListDeploymentConfigs, DeleteDeploymentConfig.
 */
import { randomUUID } from 'node:crypto';
import { copy } from '../copy';
import { AwsError, type JsonOperation, type RequestContext } from '../../contracts';
import { PREDEFINED_CONFIGS, trafficRoutingConfig } from '../configs';
import { EcsCalls } from '../ecs-calls';
import type { CodeDeployContext } from '../index';
import type { DeploymentConfig, DeploymentGroup, TargetGroupPairInfo } from '../model';
import { groupView } from '../views';

type Input = Record<string, unknown>;

const ROLLBACK_EVENTS = [
  'DEPLOYMENT_FAILURE',
  'DEPLOYMENT_STOP_ON_ALARM',
  'DEPLOYMENT_STOP_ON_REQUEST',
];

function blueGreen(input: unknown): DeploymentGroup['blueGreenDeploymentConfiguration'] {
  const bg = (input ?? {}) as {
    terminateBlueInstancesOnDeploymentSuccess?: {
      action?: string;
      terminationWaitTimeInMinutes?: number;
    };
    deploymentReadyOption?: { actionOnTimeout?: string; waitTimeInMinutes?: number };
  };
  const bad = (m: string): AwsError =>
    new AwsError('InvalidBlueGreenDeploymentConfigurationException', m);
  const term = bg.terminateBlueInstancesOnDeploymentSuccess ?? {};
  const ready = bg.deploymentReadyOption ?? {};
  const action = term.action ?? 'TERMINATE';
  if (action !== 'TERMINATE' && action !== 'KEEP_ALIVE')
    throw bad('terminateBlueInstancesOnDeploymentSuccess.action must be TERMINATE or KEEP_ALIVE.');
  const termWait = term.terminationWaitTimeInMinutes ?? 0;
  if (!Number.isInteger(termWait) || termWait < 0 || termWait > 2880)
    throw bad('terminationWaitTimeInMinutes must be between 0 and 2880.');
  const onTimeout = ready.actionOnTimeout ?? 'CONTINUE_DEPLOYMENT';
  if (onTimeout !== 'CONTINUE_DEPLOYMENT' && onTimeout !== 'STOP_DEPLOYMENT')
    throw bad(
      'deploymentReadyOption.actionOnTimeout must be CONTINUE_DEPLOYMENT or STOP_DEPLOYMENT.',
    );
  const readyWait = ready.waitTimeInMinutes ?? 0;
  if (!Number.isInteger(readyWait) || readyWait < 0 || readyWait > 2880)
    throw bad('deploymentReadyOption.waitTimeInMinutes must be between 0 and 2880.');
  if (onTimeout === 'STOP_DEPLOYMENT' && readyWait === 0)
    throw bad('With STOP_DEPLOYMENT, deploymentReadyOption.waitTimeInMinutes must be above 0.');
  return {
    terminateBlueInstancesOnDeploymentSuccess: {
      action,
      terminationWaitTimeInMinutes: termWait,
    },
    deploymentReadyOption: { actionOnTimeout: onTimeout, waitTimeInMinutes: readyWait },
  };
}

async function loadBalancerInfo(
  input: unknown,
  calls: EcsCalls,
): Promise<DeploymentGroup['loadBalancerInfo']> {
  const pairs = (input as { targetGroupPairInfoList?: TargetGroupPairInfo[] } | undefined)
    ?.targetGroupPairInfoList;
  const bad = (m: string): AwsError => new AwsError('InvalidTargetGroupPairException', m);
  if (!Array.isArray(pairs) || pairs.length !== 1)
    throw bad(
      'An ECS deployment group needs exactly one target group pair (loadBalancerInfo.targetGroupPairInfoList).',
    );
  const pair = pairs[0];
  if (!Array.isArray(pair.targetGroups) || pair.targetGroups.length !== 2)
    throw bad('A target group pair needs exactly two target groups.');
  for (const tg of pair.targetGroups)
    if (!tg?.name || !(await calls.targetGroupArn(tg.name)))
      throw bad(`The target group ${tg?.name ?? ''} does not exist.`);
  const prod = pair.prodTrafficRoute?.listenerArns;
  if (!Array.isArray(prod) || prod.length !== 1)
    throw bad('The production traffic route needs exactly one listener.');
  const test = pair.testTrafficRoute?.listenerArns ?? [];
  if (!Array.isArray(test) || test.length > 1)
    throw bad('The test traffic route takes at most one listener.');
  for (const l of [...prod, ...test])
    if (!(await calls.defaultRule(l))) throw bad(`The listener ${l} does not exist.`);
  return {
    targetGroupPairInfoList: [
      {
        targetGroups: pair.targetGroups.map((t) => ({ name: t.name })),
        prodTrafficRoute: { listenerArns: [...prod] },
        ...(test.length ? { testTrafficRoute: { listenerArns: [...test] } } : {}),
      },
    ],
  };
}

/** The deployment group and configuration operations. */
export function deploymentGroupOperations(ctx: CodeDeployContext): Record<string, JsonOperation> {
  const { state, opts } = ctx;
  return {
    CreateDeploymentGroup: async (input: Input, rc: RequestContext) => {
      const app = state.application(input.applicationName);
      const name = input.deploymentGroupName;
      if (typeof name !== 'string' || !name)
        throw new AwsError(
          'DeploymentGroupNameRequiredException',
          'The deployment group name must be specified.',
        );
      if (state.groups.has(`${app.applicationName}/${name}`))
        throw new AwsError(
          'DeploymentGroupAlreadyExistsException',
          `A deployment group named ${name} already exists for application ${app.applicationName}.`,
        );
      if (app.computePlatform !== 'ECS')
        throw new AwsError(
          'InvalidComputePlatformException',
          'local-aws models deployment groups of ECS applications only.',
        );
      if (typeof input.serviceRoleArn !== 'string' || !input.serviceRoleArn)
        throw new AwsError('RoleRequiredException', 'The service role ARN must be specified.');
      const configName =
        (input.deploymentConfigName as string | undefined) ?? 'CodeDeployDefault.ECSAllAtOnce';
      if (state.config(configName).computePlatform !== 'ECS')
        throw new AwsError(
          'InvalidDeploymentConfigNameException',
          `${configName} is not an ECS deployment configuration.`,
        );
      const style = (input.deploymentStyle ?? {}) as {
        deploymentType?: string;
        deploymentOption?: string;
      };
      if (
        style.deploymentType !== 'BLUE_GREEN' ||
        style.deploymentOption !== 'WITH_TRAFFIC_CONTROL'
      )
        throw new AwsError(
          'InvalidDeploymentStyleException',
          'An ECS deployment group needs deploymentStyle BLUE_GREEN with WITH_TRAFFIC_CONTROL.',
        );
      const services = input.ecsServices as
        { serviceName?: string; clusterName?: string }[] | undefined;
      if (
        !Array.isArray(services) ||
        services.length !== 1 ||
        !services[0]?.serviceName ||
        !services[0].clusterName
      )
        throw new AwsError(
          'InvalidECSServiceException',
          'An ECS deployment group needs one ECS service (ecsServices).',
        );
      const calls = new EcsCalls(opts, rc);
      const svc = await calls.service(services[0].clusterName, services[0].serviceName);
      if (!svc)
        throw new AwsError(
          'InvalidECSServiceException',
          `The ECS service ${services[0].serviceName} in cluster ${services[0].clusterName} does not exist.`,
        );
      if (svc.deploymentController?.type !== 'CODE_DEPLOY')
        throw new AwsError(
          'InvalidECSServiceException',
          `The ECS service ${svc.serviceName} does not use the CODE_DEPLOY deployment controller.`,
        );
      for (const g of state.groups.values())
        if (
          g.ecsServices.some(
            (s) => s.serviceName === svc.serviceName && s.clusterName === services[0].clusterName,
          )
        )
          throw new AwsError(
            'ECSServiceMappingLimitExceededException',
            `The ECS service ${svc.serviceName} is already in deployment group ${g.deploymentGroupName}.`,
          );
      const rollback = (input.autoRollbackConfiguration ?? {}) as {
        enabled?: boolean;
        events?: string[];
      };
      if ((rollback.events ?? []).some((e) => !ROLLBACK_EVENTS.includes(e)))
        throw new AwsError(
          'InvalidAutoRollbackConfigException',
          `Rollback events must be among ${ROLLBACK_EVENTS.join(', ')}.`,
        );
      const alarms = (input.alarmConfiguration ?? {}) as {
        enabled?: boolean;
        ignorePollAlarmFailure?: boolean;
        alarms?: { name?: string }[];
      };
      if (alarms.enabled && !(alarms.alarms ?? []).length)
        throw new AwsError(
          'InvalidAlarmConfigException',
          'An enabled alarm configuration needs at least one alarm.',
        );
      const group: DeploymentGroup = {
        applicationName: app.applicationName,
        deploymentGroupId: randomUUID(),
        deploymentGroupName: name,
        deploymentConfigName: configName,
        serviceRoleArn: input.serviceRoleArn,
        computePlatform: 'ECS',
        ecsServices: [{ serviceName: svc.serviceName, clusterName: services[0].clusterName }],
        deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
        blueGreenDeploymentConfiguration: blueGreen(input.blueGreenDeploymentConfiguration),
        loadBalancerInfo: await loadBalancerInfo(input.loadBalancerInfo, calls),
        autoRollbackConfiguration: {
          enabled: rollback.enabled === true,
          events: [...(rollback.events ?? [])],
        },
        alarmConfiguration: {
          enabled: alarms.enabled === true,
          ignorePollAlarmFailure: alarms.ignorePollAlarmFailure === true,
          alarms: (alarms.alarms ?? []).map((a) => ({ name: String(a.name) })),
        },
        tags: Array.isArray(input.tags) ? copy(input.tags as DeploymentGroup['tags']) : [],
      };
      state.groups.set(`${app.applicationName}/${name}`, group);
      return { deploymentGroupId: group.deploymentGroupId };
    },
    GetDeploymentGroup: (input: Input) => ({
      deploymentGroupInfo: groupView(state.group(input.applicationName, input.deploymentGroupName)),
    }),
    ListDeploymentGroups: (input: Input) => {
      const app = state.application(input.applicationName);
      return {
        applicationName: app.applicationName,
        deploymentGroups: [...state.groups.values()]
          .filter((g) => g.applicationName === app.applicationName)
          .map((g) => g.deploymentGroupName)
          .sort(),
      };
    },
    // No "does not exist" error either: an unknown application or group succeeds.
    DeleteDeploymentGroup: (input: Input) => {
      const { applicationName: app, deploymentGroupName: name } = input;
      if (typeof app !== 'string' || !app) state.application(app);
      if (typeof name !== 'string' || !name)
        throw new AwsError(
          'DeploymentGroupNameRequiredException',
          'The deployment group name must be specified.',
        );
      state.groups.delete(`${String(app)}/${name}`);
      return { hooksNotCleanedUp: [] };
    },
    GetDeploymentConfig: (input: Input) => ({
      deploymentConfigInfo: copy(state.config(input.deploymentConfigName)),
    }),
    CreateDeploymentConfig: (input: Input) => {
      const name = input.deploymentConfigName;
      if (typeof name !== 'string' || !name)
        throw new AwsError(
          'DeploymentConfigNameRequiredException',
          'The deployment configuration name must be specified.',
        );
      if (PREDEFINED_CONFIGS.has(name) || state.configs.has(name))
        throw new AwsError(
          'DeploymentConfigAlreadyExistsException',
          `A deployment configuration named ${name} already exists.`,
        );
      if (input.computePlatform !== 'ECS')
        throw new AwsError(
          'InvalidComputePlatformException',
          'local-aws models ECS deployment configurations only.',
        );
      const config: DeploymentConfig = {
        deploymentConfigId: randomUUID(),
        deploymentConfigName: name,
        createTime: opts.clock.now(),
        computePlatform: 'ECS',
        trafficRoutingConfig: trafficRoutingConfig(input.trafficRoutingConfig),
      };
      state.configs.set(name, config);
      return { deploymentConfigId: config.deploymentConfigId };
    },
    ListDeploymentConfigs: () => ({
      deploymentConfigsList: [...PREDEFINED_CONFIGS.keys(), ...state.configs.keys()].sort(),
    }),
    DeleteDeploymentConfig: (input: Input) => {
      const name = input.deploymentConfigName;
      if (typeof name === 'string' && PREDEFINED_CONFIGS.has(name))
        throw new AwsError(
          'InvalidOperationException',
          'A predefined deployment configuration cannot be deleted.',
        );
      // No "does not exist" error in the model: an unknown configuration succeeds.
      if (typeof name === 'string' && name && !state.configs.has(name)) return {};
      const c = state.config(name);
      if ([...state.groups.values()].some((g) => g.deploymentConfigName === c.deploymentConfigName))
        throw new AwsError(
          'DeploymentConfigInUseException',
          `The deployment configuration ${c.deploymentConfigName} is in use.`,
        );
      state.configs.delete(c.deploymentConfigName);
      return {};
    },
  };
}
