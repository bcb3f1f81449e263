/** What the parts of local-aws ECS share: the options, the state and each other. */
import type { ImageStore } from '../contracts';
import type { Clock } from '../clock';
import type { CloudWatch } from '../cloudwatch';
import type { Elb } from '../elb';
import type { FaultInjector } from '../faults';
import type { BlueGreen } from './blue-green';
import type { FargateCapacity } from './capacity';
import type { Deployments } from './deployments';
import type { Scheduler } from './scheduler';
import type { EcsState } from './state';
import type { TaskRunner } from './task-runner';

/** Options for the ECS part of local-aws. */
export interface EcsOptions {
  clock: Clock;
  elb: Elb;
  cloudwatch: CloudWatch;
  images: ImageStore;
  faults: FaultInjector;
  dataDir: string;
  accountId: string;
  log?: (message: string) => void;
}

/** The parts of ECS, wired together once by `index.ts`. */
export interface EcsContext {
  readonly opts: EcsOptions;
  readonly state: EcsState;
  readonly runner: TaskRunner;
  readonly scheduler: Scheduler;
  readonly deployments: Deployments;
  readonly blueGreen: BlueGreen;
  /** Fargate capacity: RunTask answers with `failures` while a test withholds it. */
  readonly capacity: FargateCapacity;
}
