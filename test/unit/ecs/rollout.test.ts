import type { Service, ServiceDeployment } from '@aws-sdk/client-ecs';
import {
  interpretRollout,
  waitSatisfied,
  type RolloutPhase,
} from '../../../packages/ecs/src/rollout';

const V1 = 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1';
const V2 = 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:2';

function sd(status: string, extra: Partial<ServiceDeployment> = {}): ServiceDeployment {
  return {
    serviceDeploymentArn: 'arn:sd/1',
    status: status as ServiceDeployment['status'],
    targetServiceRevision: {
      arn: 'rev/2',
      requestedTaskCount: 2,
      runningTaskCount: 1,
      pendingTaskCount: 1,
    },
    ...extra,
  };
}

function svc(deployments: Service['deployments']): Service {
  return { serviceName: 'web', taskDefinition: deployments?.[0]?.taskDefinition, deployments };
}

describe('interpretRollout reads a service deployment', () => {
  test.each<[string, ServiceDeployment, RolloutPhase, boolean]>([
    ['pending', sd('PENDING'), 'in-progress', false],
    ['scaling up', sd('IN_PROGRESS', { lifecycleStage: 'SCALE_UP' }), 'in-progress', false],
    [
      'test traffic shifted',
      sd('IN_PROGRESS', { lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' }),
      'in-progress',
      false,
    ],
    [
      'production traffic shifting',
      sd('IN_PROGRESS', { lifecycleStage: 'PRODUCTION_TRAFFIC_SHIFT' }),
      'in-progress',
      false,
    ],
    ['baking', sd('IN_PROGRESS', { lifecycleStage: 'BAKE_TIME' }), 'traffic-shifted', false],
    ['cleaning up', sd('IN_PROGRESS', { lifecycleStage: 'CLEAN_UP' }), 'traffic-shifted', false],
    ['successful, service not read yet', sd('SUCCESSFUL'), 'settling', false],
    ['rollback requested', sd('ROLLBACK_REQUESTED'), 'rolling-back', false],
    ['rolling back', sd('ROLLBACK_IN_PROGRESS'), 'rolling-back', false],
    [
      'rolled back',
      sd('ROLLBACK_SUCCESSFUL', { rollback: { reason: 'circuit breaker' } }),
      'rolled-back',
      true,
    ],
    ['rollback failed', sd('ROLLBACK_FAILED'), 'failed', true],
    ['stopped', sd('STOPPED', { statusReason: 'stopped by request' }), 'failed', true],
    ['stop requested', sd('STOP_REQUESTED'), 'in-progress', false],
  ])('%s', (_name, deployment, phase, isFinal) => {
    const state = interpretRollout({ deployment }, V2);
    expect(state.phase).toBe(phase);
    expect(state.final).toBe(isFinal);
  });

  test('takes counts from the target revision and failures from the rolling deployment', () => {
    const state = interpretRollout(
      {
        deployment: sd('IN_PROGRESS'),
        service: svc([
          {
            taskDefinition: V2,
            status: 'PRIMARY',
            desiredCount: 2,
            runningCount: 1,
            failedTasks: 3,
          },
        ]),
      },
      V2,
    );
    expect(state.counts).toEqual({ desired: 2, running: 1, pending: 1, failed: 3 });
  });

  test('joins the rollback reason and the status reason without repeating them', () => {
    const state = interpretRollout(
      {
        deployment: sd('ROLLBACK_SUCCESSFUL', {
          rollback: { reason: 'alarm web-5xx' },
          statusReason: 'alarm web-5xx',
        }),
      },
      V2,
    );
    expect(state.reason).toBe('alarm web-5xx');
  });
});

describe('interpretRollout calls a completed rollout a success only when the counts settled on it', () => {
  const completed = { taskDefinition: V2, status: 'PRIMARY', rolloutState: 'COMPLETED' } as const;
  test.each<[string, Service, RolloutPhase, boolean]>([
    [
      'one deployment, running = desired, nothing pending',
      { ...svc([completed]), desiredCount: 2, runningCount: 2, pendingCount: 0 },
      'succeeded',
      true,
    ],
    [
      'tasks still pending',
      { ...svc([completed]), desiredCount: 2, runningCount: 0, pendingCount: 2 },
      'settling',
      false,
    ],
    [
      'fewer running than desired',
      { ...svc([completed]), desiredCount: 2, runningCount: 1, pendingCount: 0 },
      'settling',
      false,
    ],
    [
      'an old deployment still there',
      {
        ...svc([completed, { taskDefinition: V1, status: 'ACTIVE', rolloutState: 'COMPLETED' }]),
        desiredCount: 2,
        runningCount: 2,
        pendingCount: 0,
      },
      'settling',
      false,
    ],
  ])('rolling: %s', (_name, service, phase, isFinal) => {
    const state = interpretRollout({ service }, V2);
    expect([state.phase, state.final]).toEqual([phase, isFinal]);
  });

  test.each<[string, Partial<Service>, RolloutPhase]>([
    ['settled', { desiredCount: 2, runningCount: 2, pendingCount: 0 }, 'succeeded'],
    ['not settled', { desiredCount: 2, runningCount: 0, pendingCount: 2 }, 'settling'],
  ])('service deployment SUCCESSFUL, service %s', (_name, counts, phase) => {
    const service = { ...svc([completed]), ...counts };
    expect(interpretRollout({ deployment: sd('SUCCESSFUL'), service }, V2).phase).toBe(phase);
  });

  test('a settling state shows the service counts, which the sentence may then state', () => {
    const service = { ...svc([completed]), desiredCount: 2, runningCount: 0, pendingCount: 2 };
    expect(interpretRollout({ service }, V2).counts).toMatchObject({
      desired: 2,
      running: 0,
      pending: 2,
    });
  });
});

describe('interpretRollout falls back to the rolling deployments of the service', () => {
  test.each<[string, Service['deployments'], RolloutPhase]>([
    [
      'new deployment in progress',
      [
        { taskDefinition: V2, status: 'PRIMARY', rolloutState: 'IN_PROGRESS' },
        { taskDefinition: V1, status: 'ACTIVE', rolloutState: 'COMPLETED' },
      ],
      'in-progress',
    ],
    [
      'new deployment completed',
      [{ taskDefinition: V2, status: 'PRIMARY', rolloutState: 'COMPLETED' }],
      'succeeded',
    ],
    [
      'failed without a rollback',
      [{ taskDefinition: V2, status: 'PRIMARY', rolloutState: 'FAILED' }],
      'failed',
    ],
    [
      'failed, rolling back to v1',
      [
        { taskDefinition: V1, status: 'PRIMARY', rolloutState: 'IN_PROGRESS' },
        { taskDefinition: V2, status: 'ACTIVE', rolloutState: 'FAILED' },
      ],
      'rolling-back',
    ],
    [
      'rolled back, v2 gone',
      [{ taskDefinition: V1, status: 'PRIMARY', rolloutState: 'COMPLETED' }],
      'rolled-back',
    ],
  ])('%s', (_name, deployments, phase) => {
    expect(interpretRollout({ service: svc(deployments) }, V2).phase).toBe(phase);
  });
});

describe('waitSatisfied', () => {
  test.each<[RolloutPhase, boolean, 'stable' | 'traffic-shifted', boolean]>([
    ['traffic-shifted', false, 'stable', false],
    ['traffic-shifted', false, 'traffic-shifted', true],
    ['in-progress', false, 'traffic-shifted', false],
    ['rolling-back', false, 'traffic-shifted', false],
    ['succeeded', true, 'stable', true],
    ['rolled-back', true, 'traffic-shifted', true],
  ])('%s (final %s) with wait-until %s → %s', (phase, isFinal, waitUntil, expected) => {
    expect(waitSatisfied({ phase, final: isFinal, counts: {} }, waitUntil)).toBe(expected);
  });
});
