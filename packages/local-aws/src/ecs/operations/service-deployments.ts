/**
 * ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions,
 * StopServiceDeployment.
 */
import { AwsError, type JsonOperation } from '../../contracts';
import type { EcsContext } from '../context';
import { paginate, requireString, type Input } from '../util';
import { serviceDeploymentView } from '../views';

/** The service deployment and revision operations. */
export function serviceDeploymentOperations(ctx: EcsContext): Record<string, JsonOperation> {
  const { state, opts, deployments } = ctx;
  return {
    ListServiceDeployments: (input: Input) => {
      const svc = state.service(input);
      const statuses = Array.isArray(input.status) ? (input.status as string[]) : [];
      const created = (input.createdAt ?? {}) as { before?: number; after?: number };
      const items = [...state.serviceDeployments.values()]
        .filter(
          (sd) =>
            sd.serviceArn === svc.serviceArn &&
            (!statuses.length || statuses.includes(sd.status)) &&
            (created.after === undefined || sd.createdAt.getTime() / 1000 >= created.after) &&
            (created.before === undefined || sd.createdAt.getTime() / 1000 <= created.before),
        )
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
        .map((sd) => ({
          serviceDeploymentArn: sd.serviceDeploymentArn,
          serviceArn: sd.serviceArn,
          clusterArn: sd.clusterArn,
          startedAt: sd.startedAt,
          createdAt: sd.createdAt,
          finishedAt: sd.finishedAt,
          targetServiceRevisionArn: sd.targetServiceRevision.arn,
          status: sd.status,
          statusReason: sd.statusReason,
        }));
      const { page, nextToken } = paginate(items, input, 20);
      return { serviceDeployments: page, nextToken };
    },
    DescribeServiceDeployments: (input: Input) => {
      const arns = input.serviceDeploymentArns;
      if (!Array.isArray(arns) || !arns.length)
        throw new AwsError('InvalidParameterException', '`serviceDeploymentArns` cannot be empty.');
      const serviceDeployments: unknown[] = [];
      const failures: unknown[] = [];
      for (const a of arns as string[]) {
        const sd = state.serviceDeployments.get(a);
        if (sd) serviceDeployments.push(serviceDeploymentView(sd));
        else
          failures.push({
            arn: a,
            reason: 'MISSING',
            detail: 'The service deployment does not exist.',
          });
      }
      return { serviceDeployments, failures };
    },
    DescribeServiceRevisions: (input: Input) => {
      const arns = input.serviceRevisionArns;
      if (!Array.isArray(arns) || !arns.length)
        throw new AwsError('InvalidParameterException', '`serviceRevisionArns` cannot be empty.');
      const serviceRevisions: unknown[] = [];
      const failures: unknown[] = [];
      for (const a of arns as string[]) {
        const r = state.revisions.get(a);
        if (r) serviceRevisions.push(r);
        else
          failures.push({
            arn: a,
            reason: 'MISSING',
            detail: 'The service revision does not exist.',
          });
      }
      return { serviceRevisions, failures };
    },
    StopServiceDeployment: (input: Input) => {
      const a = requireString(input, 'serviceDeploymentArn');
      const sd = state.serviceDeployments.get(a);
      if (!sd)
        throw new AwsError(
          'ServiceDeploymentNotFoundException',
          'The service deployment does not exist.',
        );
      const stopType = (input.stopType as string | undefined) ?? 'ROLLBACK';
      if (stopType !== 'ROLLBACK' && stopType !== 'ABORT')
        throw new AwsError('InvalidParameterException', '`stopType` must be ROLLBACK or ABORT.');
      if (!['PENDING', 'IN_PROGRESS'].includes(sd.status)) {
        throw new AwsError(
          'ConflictException',
          `The service deployment is ${sd.status} and cannot be stopped.`,
        );
      }
      const svc = [...state.services.values()].find((s) => s.serviceArn === sd.serviceArn);
      if (!svc) throw new AwsError('ServiceNotFoundException', 'Service not found.');
      sd.stopRequest = stopType;
      sd.status = stopType === 'ROLLBACK' ? 'ROLLBACK_REQUESTED' : 'STOP_REQUESTED';
      sd.updatedAt = opts.clock.now();
      const d = svc.deployments.find((x) => x.id === sd.deploymentId);
      if (!state.runtime(svc).blueGreenRunning && d) {
        // Rolling: roll back to the last completed revision (ABORT leaves tasks as they are).
        if (stopType === 'ROLLBACK') {
          deployments.fail(
            svc,
            d,
            'stopped by request',
            'Service deployment rolled back because of a StopServiceDeployment request.',
            true,
          );
        } else {
          d.rolloutState = 'FAILED';
          d.rolloutStateReason =
            'Service deployment stopped because of a StopServiceDeployment request.';
          Object.assign(sd, {
            status: 'STOPPED',
            stoppedAt: opts.clock.now(),
            statusReason: d.rolloutStateReason,
          });
        }
      }
      return { serviceDeploymentArn: sd.serviceDeploymentArn };
    },
  };
}
