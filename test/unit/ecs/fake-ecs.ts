/**
 * A scripted ECS for the follow and deploy tests: the test says what ECS answers at each moment
 * of a virtual clock (ms since the deployment started), and the fake counts every call.
 */
import type {
  Deployment,
  Service,
  ServiceDeployment,
  ServiceEvent,
  Task,
} from '@aws-sdk/client-ecs';
import { CancelledError } from '../../../packages/kit/src/errors';
import type { Clock } from '../../../packages/kit/src/poll';
import type { EcsApi } from '../../../packages/ecs/src/api';

export const TD1 = 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1';
export const TD2 = 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:2';
export const SD = 'arn:aws:ecs:us-east-1:000000000000:service-deployment/apps/web/sd2';
export const T0 = Date.UTC(2026, 0, 1);

/** A virtual clock: sleeping moves time forward at once; nothing waits on the wall clock. */
export class FakeClock implements Clock {
  constructor(public time = T0) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason ?? new CancelledError();
    this.time += Math.max(0, ms);
    await Promise.resolve();
  }
}

/** What ECS answers at one moment. */
export interface Moment {
  service: Service;
  deployment?: ServiceDeployment;
  stopped?: Task[];
}

/** A rolling deployment entry of `deployments[]`. */
export function rolling(
  taskDefinition: string,
  rolloutState: Deployment['rolloutState'],
  running: number,
  desired: number,
  extra: Partial<Deployment> = {},
): Deployment {
  return {
    id: `ecs-svc/${taskDefinition.slice(-1)}`,
    status: taskDefinition === TD2 ? 'PRIMARY' : 'ACTIVE',
    taskDefinition,
    rolloutState,
    desiredCount: desired,
    runningCount: running,
    pendingCount: Math.max(0, desired - running),
    failedTasks: 0,
    ...extra,
  };
}

/** A service with these deployments; the service counts default to the sum of the deployments'. */
export function service(
  deployments: Deployment[],
  extra: Partial<Service> = {},
  events: ServiceEvent[] = [],
): Service {
  const primary = deployments.find((d) => d.status === 'PRIMARY') ?? deployments[0];
  return {
    serviceName: 'web',
    status: 'ACTIVE',
    taskDefinition: primary?.taskDefinition,
    desiredCount: primary?.desiredCount ?? 0,
    runningCount: deployments.reduce((n, d) => n + (d.runningCount ?? 0), 0),
    pendingCount: deployments.reduce((n, d) => n + (d.pendingCount ?? 0), 0),
    deployments,
    deploymentConfiguration: { deploymentCircuitBreaker: { enable: false, rollback: false } },
    currentServiceDeployment: SD,
    events,
    ...extra,
  };
}

/** A task of `taskDefinitionArn` (web:2) that stopped on its own with `exitCode`. */
export function crashedTask(
  id: string,
  exitCode: number,
  at: number,
  reason?: string,
  taskDefinitionArn = TD2,
): Task {
  return {
    taskArn: `arn:aws:ecs:us-east-1:000000000000:task/apps/${id}`,
    taskDefinitionArn,
    lastStatus: 'STOPPED',
    desiredStatus: 'STOPPED',
    stopCode: 'EssentialContainerExited',
    stoppedReason: reason ?? 'Essential container in task exited',
    stoppedAt: new Date(at),
    createdAt: new Date(at - 500),
    containers: [{ name: 'web', exitCode, lastStatus: 'STOPPED' }],
  };
}

/** An event at `at`. */
export function event(id: string, at: number, message: string): ServiceEvent {
  return { id, createdAt: new Date(at), message: `(service web) ${message}` };
}

/** The scripted ECS. `script(ms)` says what ECS answers `ms` after the deployment started. */
export class FakeEcs {
  readonly calls: { op: string; at: number; input?: unknown }[] = [];
  /** Errors to throw, by operation, before answering (consumed in order). */
  readonly failures: Record<string, unknown[]> = {};
  /** Throws this error for every call of the operation (after `failures`). */
  readonly failAlways: Record<string, unknown> = {};
  /** The started deployment's start (epoch ms), set by UpdateService. */
  startedAt: number;

  constructor(
    private readonly clock: FakeClock,
    private readonly script: (ms: number) => Moment,
    readonly initial: Service = service([rolling(TD1, 'COMPLETED', 2, 2, { status: 'PRIMARY' })]),
  ) {
    this.startedAt = clock.now();
  }

  count(op: string, from = 0, to = Infinity): number {
    return this.calls.filter((c) => (op === '*' || c.op === op) && c.at >= from && c.at < to)
      .length;
  }

  private moment(): Moment {
    return this.script(this.clock.now() - this.startedAt);
  }

  private async call<T>(op: string, answer: () => T, input?: unknown): Promise<T> {
    this.calls.push({ op, at: this.clock.now(), input });
    const queued = this.failures[op];
    if (queued?.length) throw queued.shift();
    if (this.failAlways[op]) throw this.failAlways[op];
    return answer();
  }

  get api(): EcsApi {
    const updated = { value: false };
    const api: Partial<EcsApi> = {
      describeServices: (input) =>
        this.call('DescribeServices', () => ({
          services: [updated.value ? this.moment().service : this.initial],
          $metadata: {},
          ...(input ? {} : {}),
        })),
      describeServiceDeployments: () =>
        this.call('DescribeServiceDeployments', () => {
          const d = this.moment().deployment;
          return { serviceDeployments: d ? [d] : [], $metadata: {} };
        }),
      listServiceDeployments: () =>
        this.call('ListServiceDeployments', () => ({ serviceDeployments: [], $metadata: {} })),
      describeTaskDefinition: (input) =>
        this.call('DescribeTaskDefinition', () => ({
          taskDefinition: {
            taskDefinitionArn: String(input.taskDefinition),
            family: 'web',
            containerDefinitions: [{ name: 'web', image: 'registry.example/web:v1' }],
          },
          tags: [],
          $metadata: {},
        })),
      registerTaskDefinition: () =>
        this.call('RegisterTaskDefinition', () => ({
          taskDefinition: { taskDefinitionArn: TD2 },
          $metadata: {},
        })),
      updateService: (input) =>
        this.call(
          'UpdateService',
          () => {
            updated.value = true;
            this.startedAt = this.clock.now();
            return { service: { ...this.initial, currentServiceDeployment: SD }, $metadata: {} };
          },
          input,
        ),
      listTasks: () =>
        this.call('ListTasks', () => ({
          taskArns: (this.moment().stopped ?? []).map((t) => t.taskArn as string),
          $metadata: {},
        })),
      describeTasks: () =>
        this.call('DescribeTasks', () => ({ tasks: this.moment().stopped ?? [], $metadata: {} })),
      tagResource: (input) => this.call('TagResource', () => ({ $metadata: {} }), input),
    };
    return api as EcsApi;
  }
}

/** An error shaped like the SDK's after its retries: a 500 from ECS. */
export function serverError(op = 'DescribeServices'): Error {
  return Object.assign(new Error('We encountered an internal error. Please try again.'), {
    name: 'ServerException',
    $fault: 'server',
    $service: 'ECS',
    $operation: op,
    $metadata: { httpStatusCode: 500, requestId: 'req-500' },
  });
}
