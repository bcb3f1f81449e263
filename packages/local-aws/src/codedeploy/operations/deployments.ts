/**
 * CreateDeployment, GetDeployment, BatchGetDeployments, ListDeployments, ContinueDeployment,
 * StopDeployment, and the deployment targets: ListDeploymentTargets, GetDeploymentTarget,
 * BatchGetDeploymentTargets.
 */
import { AwsError, type JsonOperation, type RequestContext } from '../../contracts';
import { parseAppSpec } from '../appspec';
import { newDeployment } from '../deployment-factory';
import type { CodeDeployContext } from '../index';
import type { Deployment } from '../model';
import { deploymentView, targetView } from '../views';

type Input = Record<string, unknown>;

const DONE = ['Succeeded', 'Failed', 'Stopped'];

/** The deployment and deployment-target operations. */
export function deploymentOperations(ctx: CodeDeployContext): Record<string, JsonOperation> {
  const { state, opts, rollouts } = ctx;
  const completed = (d: Deployment): AwsError =>
    new AwsError(
      'DeploymentAlreadyCompletedException',
      `The deployment ${d.deploymentId} has already completed.`,
    );
  const target = (d: Deployment, id: unknown): Deployment => {
    if (typeof id !== 'string' || !id)
      throw new AwsError(
        'DeploymentTargetIdRequiredException',
        'A deployment target ID must be specified.',
      );
    if (id !== d.target.targetId)
      throw new AwsError(
        'DeploymentTargetDoesNotExistException',
        `The deployment target ${id} does not exist.`,
      );
    return d;
  };
  return {
    CreateDeployment: (input: Input, rc: RequestContext) => {
      const group = state.group(input.applicationName, input.deploymentGroupName);
      const revision = input.revision as
        | { revisionType?: string; appSpecContent?: { content?: unknown; sha256?: unknown } }
        | undefined;
      if (!revision)
        throw new AwsError('RevisionRequiredException', 'The revision must be specified.');
      if (revision.revisionType !== 'AppSpecContent')
        throw new AwsError(
          'InvalidRevisionException',
          'An ECS deployment takes its revision as AppSpecContent.',
        );
      const spec = parseAppSpec(revision.appSpecContent?.content);
      const configName =
        (input.deploymentConfigName as string | undefined) ?? group.deploymentConfigName;
      if (state.config(configName).computePlatform !== 'ECS')
        throw new AwsError(
          'InvalidDeploymentConfigNameException',
          `${configName} is not an ECS deployment configuration.`,
        );
      const active = [...state.deployments.values()].find(
        (d) =>
          d.applicationName === group.applicationName &&
          d.deploymentGroupName === group.deploymentGroupName &&
          !DONE.includes(d.status),
      );
      if (active)
        throw new AwsError(
          'DeploymentLimitExceededException',
          `The Deployment Group '${group.deploymentGroupName}' already has an active Deployment '${active.deploymentId}'`,
        );
      const rollback = input.autoRollbackConfiguration as
        { enabled?: boolean; events?: string[] } | undefined;
      const d = newDeployment(state, group, {
        revision: {
          revisionType: 'AppSpecContent',
          appSpecContent: {
            content: String(revision.appSpecContent?.content),
            ...(typeof revision.appSpecContent?.sha256 === 'string'
              ? { sha256: revision.appSpecContent.sha256 }
              : {}),
          },
        },
        deploymentConfigName: configName,
        creator: 'user',
        description: typeof input.description === 'string' ? input.description : undefined,
        autoRollbackConfiguration: rollback
          ? { enabled: rollback.enabled === true, events: [...(rollback.events ?? [])] }
          : undefined,
        now: opts.clock.now(),
      });
      group.lastAttemptedDeployment = {
        deploymentId: d.deploymentId,
        status: d.status,
        createTime: d.createTime,
      };
      rollouts.start(d, group, spec, rc);
      return { deploymentId: d.deploymentId };
    },
    GetDeployment: (input: Input) => ({
      deploymentInfo: deploymentView(state.deployment(input.deploymentId)),
    }),
    BatchGetDeployments: (input: Input) => {
      const ids = Array.isArray(input.deploymentIds) ? (input.deploymentIds as unknown[]) : [];
      if (ids.length > 25)
        throw new AwsError('BatchLimitExceededException', 'At most 25 deployments at once.');
      return {
        deploymentsInfo: ids
          .map((id) => state.deployments.get(String(id)))
          .filter((d): d is Deployment => !!d)
          .map(deploymentView),
      };
    },
    ListDeployments: (input: Input) => {
      const app =
        input.applicationName !== undefined ? state.application(input.applicationName) : undefined;
      if (input.deploymentGroupName !== undefined)
        state.group(input.applicationName, input.deploymentGroupName);
      const statuses = Array.isArray(input.includeOnlyStatuses)
        ? (input.includeOnlyStatuses as string[])
        : undefined;
      const deployments = [...state.deployments.values()]
        .filter(
          (d) =>
            (!app || d.applicationName === app.applicationName) &&
            (input.deploymentGroupName === undefined ||
              d.deploymentGroupName === input.deploymentGroupName) &&
            (!statuses || statuses.includes(d.status)),
        )
        .sort((a, b) => b.createTime.getTime() - a.createTime.getTime())
        .map((d) => d.deploymentId);
      return { deployments };
    },
    ContinueDeployment: (input: Input) => {
      const d = state.deployment(input.deploymentId);
      const waitType = (input.deploymentWaitType as string | undefined) ?? 'READY_WAIT';
      if (waitType !== 'READY_WAIT' && waitType !== 'TERMINATION_WAIT')
        throw new AwsError(
          'InvalidDeploymentWaitTypeException',
          'The wait type must be READY_WAIT or TERMINATION_WAIT.',
        );
      if (DONE.includes(d.status)) throw completed(d);
      const waiting =
        waitType === 'READY_WAIT' ? d.status === 'Ready' : d.instanceTerminationWaitTimeStarted;
      if (!waiting)
        throw new AwsError(
          'DeploymentIsNotInReadyStateException',
          `The deployment ${d.deploymentId} is not waiting (${waitType}).`,
        );
      rollouts.continue(d.deploymentId, waitType);
      return {};
    },
    StopDeployment: (input: Input) => {
      const d = state.deployment(input.deploymentId);
      if (DONE.includes(d.status) || !rollouts.isRunning(d.deploymentId)) throw completed(d);
      const rollback =
        typeof input.autoRollbackEnabled === 'boolean'
          ? input.autoRollbackEnabled
          : d.autoRollbackConfiguration.enabled &&
            d.autoRollbackConfiguration.events.includes('DEPLOYMENT_STOP_ON_REQUEST');
      rollouts.requestStop(d.deploymentId, rollback);
      return {
        status: 'Pending',
        statusMessage:
          'Stopping Pending. Stopping to schedule commands in the deployment instances',
      };
    },
    ListDeploymentTargets: (input: Input) => ({
      targetIds: [state.deployment(input.deploymentId).target.targetId],
    }),
    GetDeploymentTarget: (input: Input) => {
      const d = state.deployment(input.deploymentId);
      return { deploymentTarget: targetView(target(d, input.targetId)) };
    },
    BatchGetDeploymentTargets: (input: Input) => {
      const d = state.deployment(input.deploymentId);
      const ids = Array.isArray(input.targetIds) ? (input.targetIds as unknown[]) : [];
      if (!ids.length)
        throw new AwsError(
          'DeploymentTargetIdRequiredException',
          'At least one target ID must be specified.',
        );
      return { deploymentTargets: ids.map((id) => targetView(target(d, id))) };
    },
  };
}
