/**
 * A small ECS of several rolling services for the release tests, on a virtual clock that runs
 * several sleepers at once: time jumps to the earliest timer once every other piece of work has
 * run. Nothing waits on the wall clock.
 */
import type { Deployment, Service, Task } from '@aws-sdk/client-ecs';
import { CancelledError } from '../../../packages/kit/src/errors';
import type { Clock } from '../../../packages/kit/src/poll';
import type { EcsApi } from '../../../packages/ecs/src/api';

export const T0 = Date.UTC(2026, 0, 1);

/** A virtual clock for concurrent sleepers: the earliest timer fires once nothing else can run. */
export class SchedulerClock implements Clock {
  private timers: { at: number; seq: number; resolve: () => void }[] = [];
  private seq = 0;
  private scheduled = false;
  constructor(public time = T0) {}
  now(): number {
    return this.time;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new CancelledError());
    return new Promise((resolve, reject) => {
      const timer = { at: this.time + Math.max(0, ms), seq: this.seq++, resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((t) => t !== timer);
          reject(signal.reason ?? new CancelledError());
        },
        { once: true },
      );
      this.schedule();
    });
  }
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.timers.length) return;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift()!;
      this.time = Math.max(this.time, next.at);
      next.resolve();
      if (this.timers.length) this.schedule();
    });
  }
}

/** How a service behaves once updated to a new revision. */
export type Behaviour = 'healthy' | 'crash';

interface FakeService {
  name: string;
  family: string;
  container: string;
  taskDefinition: string;
  previous?: string;
  updatedAt?: number;
  behaviour: Behaviour;
  deploymentSeq: number;
}

const ARN = (family: string, rev: number): string =>
  `arn:aws:ecs:us-east-1:000000000000:task-definition/${family}:${rev}`;

/** Several rolling services in cluster `apps`, each one container, 2 tasks; every call counted. */
export class ReleaseEcs {
  readonly calls: { op: string; at: number; input: unknown }[] = [];
  readonly services = new Map<string, FakeService>();
  private readonly revisions = new Map<string, Record<string, unknown>>();
  private readonly families = new Map<string, number>();
  /** ms after an update at which a healthy rollout completes. */
  rolloutMs = 6000;

  constructor(private readonly clock: Clock) {}

  /** Adds service `name` (family `name`, container `container`) running revision 1 with `image`. */
  add(name: string, container: string, behaviour: Behaviour = 'healthy', image = 'reg/x:v1'): void {
    const arn = this.register(name, container, image);
    this.services.set(name, {
      name,
      family: name,
      container,
      taskDefinition: arn,
      behaviour,
      deploymentSeq: 0,
    });
  }

  private register(family: string, container: string, image: string): string {
    const rev = (this.families.get(family) ?? 0) + 1;
    this.families.set(family, rev);
    const arn = ARN(family, rev);
    this.revisions.set(arn, {
      taskDefinitionArn: arn,
      family,
      revision: rev,
      containerDefinitions: [{ name: container, image }],
    });
    return arn;
  }

  count(op: string): number {
    return this.calls.filter((c) => op === '*' || c.op === op).length;
  }

  revisionCount(family: string): number {
    return this.families.get(family) ?? 0;
  }

  private describe(s: FakeService): Service {
    const ms = s.updatedAt === undefined ? Infinity : this.clock.now() - s.updatedAt;
    const dep = (
      td: string,
      status: string,
      state: Deployment['rolloutState'],
      running: number,
      failed = 0,
    ): Deployment => ({
      id: `ecs-svc/${s.name}-${td.split(':').pop()}`,
      status,
      taskDefinition: td,
      rolloutState: state,
      desiredCount: 2,
      runningCount: running,
      pendingCount: Math.max(0, 2 - running),
      failedTasks: failed,
    });
    let deployments: Deployment[];
    if (ms >= this.rolloutMs && s.behaviour === 'healthy')
      deployments = [dep(s.taskDefinition, 'PRIMARY', 'COMPLETED', 2)];
    else if (s.behaviour === 'crash' && s.updatedAt !== undefined && ms >= 2000)
      deployments = [
        dep(s.taskDefinition, 'PRIMARY', 'IN_PROGRESS', 0, Math.floor(ms / 2000)),
        dep(s.previous ?? s.taskDefinition, 'ACTIVE', 'COMPLETED', 2),
      ];
    else if (s.updatedAt !== undefined && ms < this.rolloutMs)
      deployments = [
        dep(s.taskDefinition, 'PRIMARY', 'IN_PROGRESS', 0),
        dep(s.previous ?? s.taskDefinition, 'ACTIVE', 'COMPLETED', 2),
      ];
    else deployments = [dep(s.taskDefinition, 'PRIMARY', 'COMPLETED', 2)];
    return {
      serviceName: s.name,
      serviceArn: `arn:aws:ecs:us-east-1:000000000000:service/apps/${s.name}`,
      status: 'ACTIVE',
      taskDefinition: s.taskDefinition,
      desiredCount: 2,
      runningCount: deployments.reduce((n, d) => n + (d.runningCount ?? 0), 0),
      pendingCount: deployments.reduce((n, d) => n + (d.pendingCount ?? 0), 0),
      deployments,
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: false, rollback: false } },
      deploymentController: { type: 'ECS' },
      events: [],
    };
  }

  private stopped(s: FakeService): Task[] {
    if (s.behaviour !== 'crash' || s.updatedAt === undefined) return [];
    const ms = this.clock.now() - s.updatedAt;
    if (ms < 2000) return [];
    return [
      {
        taskArn: `arn:aws:ecs:us-east-1:000000000000:task/apps/${s.name}-crash1`,
        taskDefinitionArn: s.taskDefinition,
        lastStatus: 'STOPPED',
        desiredStatus: 'STOPPED',
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
        stoppedAt: new Date(s.updatedAt + 1500),
        createdAt: new Date(s.updatedAt + 500),
        containers: [{ name: s.container, exitCode: 1, lastStatus: 'STOPPED' }],
      },
    ];
  }

  private async call<T>(op: string, input: unknown, answer: () => T): Promise<T> {
    this.calls.push({ op, at: this.clock.now(), input });
    await Promise.resolve();
    return answer();
  }

  get api(): EcsApi {
    const clientError = (): Error =>
      Object.assign(new Error('Unable to describe task definition.'), { name: 'ClientException' });
    const api: Partial<EcsApi> = {
      describeServices: (input) =>
        this.call('DescribeServices', input, () => ({
          services: (input.services ?? [])
            .map((n) => this.services.get(n))
            .filter((s): s is FakeService => !!s)
            .map((s) => this.describe(s)),
          failures: (input.services ?? [])
            .filter((n) => !this.services.has(n))
            .map((n) => ({
              arn: `arn:aws:ecs:us-east-1:000000000000:service/apps/${n}`,
              reason: 'MISSING',
            })),
          $metadata: {},
        })),
      describeServiceDeployments: (input) =>
        this.call('DescribeServiceDeployments', input, () => ({
          serviceDeployments: [],
          $metadata: {},
        })),
      listServiceDeployments: (input) =>
        this.call('ListServiceDeployments', input, () => ({
          serviceDeployments: [],
          $metadata: {},
        })),
      describeTaskDefinition: (input) =>
        this.call('DescribeTaskDefinition', input, () => {
          const td = this.revisions.get(String(input.taskDefinition));
          if (!td) throw clientError();
          return { taskDefinition: td, tags: [], $metadata: {} };
        }),
      registerTaskDefinition: (input) =>
        this.call('RegisterTaskDefinition', input, () => {
          const c = input.containerDefinitions?.[0];
          const arn = this.register(input.family ?? '', c?.name ?? '', c?.image ?? '');
          return { taskDefinition: this.revisions.get(arn), $metadata: {} };
        }),
      updateService: (input) =>
        this.call('UpdateService', input, () => {
          const s = this.services.get(String(input.service)) as FakeService;
          s.previous = s.taskDefinition;
          s.taskDefinition = String(input.taskDefinition);
          s.updatedAt = this.clock.now();
          // Going back to the revision of the setup (a rollback) is going back to healthy tasks.
          if (s.taskDefinition.endsWith(':1')) s.behaviour = 'healthy';
          return { service: this.describe(s), $metadata: {} };
        }),
      listTasks: (input) =>
        this.call('ListTasks', input, () => {
          const s = this.services.get(String(input.serviceName));
          return {
            taskArns: s ? this.stopped(s).map((t) => t.taskArn as string) : [],
            $metadata: {},
          };
        }),
      describeTasks: (input) =>
        this.call('DescribeTasks', input, () => ({
          tasks: [...this.services.values()]
            .flatMap((s) => this.stopped(s))
            .filter((t) => input.tasks?.includes(t.taskArn as string)),
          $metadata: {},
        })),
      tagResource: (input) => this.call('TagResource', input, () => ({ $metadata: {} })),
    };
    return api as EcsApi;
  }
}
