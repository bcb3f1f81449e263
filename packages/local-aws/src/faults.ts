/**
 * Fault injection: throttle or fail a share of an operation's calls, add latency, fail image
 * pulls, stop tasks, withhold Fargate capacity. Shares are deterministic (rate 0.5 fails every second matching call).
 */
import { AwsError } from './contracts';

/** A rule that applies to API calls. */
export interface CallFault {
  kind: 'throttle' | 'server-error' | 'latency';
  /** Operation name (`DescribeServices`); all operations when absent. */
  operation?: string;
  /** Service (`ecs`, `ecr`, `elasticloadbalancing`, `monitoring`, `rds`); all when absent. */
  service?: string;
  /** Share of matching calls affected, 0..1 (default 1). */
  rate?: number;
  /** For `latency`: delay in real milliseconds. */
  latencyMs?: number;
  /** Stop applying after this many affected calls. */
  count?: number;
}

/** A rule that makes image pulls fail. */
export interface ImagePullFault {
  kind: 'fail-image-pull';
  /** The fault applies to images whose reference contains this text. */
  image: string;
  message?: string;
  count?: number;
}

/** A one-off action: stop a running task as if its host failed. */
export interface StopTaskFault {
  kind: 'stop-task';
  taskArn: string;
  reason?: string;
}

/**
 * A one-off action: the next `runTasks` RunTask calls (default 1) find no Fargate capacity and
 * answer with a `failures` entry per task instead of starting any.
 */
export interface NoFargateCapacityFault {
  kind: 'no-fargate-capacity';
  runTasks?: number;
  reason?: string;
}

/** Any fault accepted at start-up or by `POST /_local/faults`. */
export type Fault = CallFault | ImagePullFault | StopTaskFault | NoFargateCapacityFault;

/** What the one-off faults act on. */
export interface FaultActions {
  stopTask(taskArn: string, reason: string): void;
  withholdFargateCapacity(opts: { runTasks?: number; reason?: string }): void;
  /** The outages still to come, for `list()`. */
  withheldFargateCapacity(): { runTasks: number; reason: string }[];
  restoreFargateCapacity(): void;
}

interface ActiveCallFault extends CallFault {
  seen: number;
  applied: number;
}

/** Holds the active faults and decides, per call, which one applies. */
export class FaultInjector {
  private calls: ActiveCallFault[] = [];
  private pulls: (ImagePullFault & { applied: number })[] = [];

  constructor(private readonly act: FaultActions) {}

  /** Validates and activates a fault (`stop-task` and `no-fargate-capacity` act at once). */
  add(fault: Fault): void {
    switch (fault?.kind) {
      case 'throttle':
      case 'server-error':
      case 'latency': {
        const rate = fault.rate ?? 1;
        if (!(rate >= 0 && rate <= 1))
          throw new Error(`\`rate\` must be between 0 and 1, got ${fault.rate}`);
        if (fault.kind === 'latency' && !(Number(fault.latencyMs) >= 0)) {
          throw new Error('`latencyMs` is required for a latency fault');
        }
        this.calls.push({ ...fault, rate, seen: 0, applied: 0 });
        return;
      }
      case 'fail-image-pull':
        if (!fault.image) throw new Error('`image` is required for a fail-image-pull fault');
        this.pulls.push({ ...fault, applied: 0 });
        return;
      case 'stop-task':
        if (!fault.taskArn) throw new Error('`taskArn` is required for a stop-task fault');
        this.act.stopTask(fault.taskArn, fault.reason ?? 'Task stopped by fault injection');
        return;
      case 'no-fargate-capacity':
        this.act.withholdFargateCapacity({ runTasks: fault.runTasks, reason: fault.reason });
        return;
      default:
        throw new Error(
          `unknown fault kind \`${String((fault as { kind?: unknown })?.kind)}\`; use throttle, server-error, latency, fail-image-pull, stop-task or no-fargate-capacity`,
        );
    }
  }

  /** Removes every fault, withheld Fargate capacity included. */
  clear(): void {
    this.calls = [];
    this.pulls = [];
    this.act.restoreFargateCapacity();
  }

  /** The active faults; a capacity outage shows the RunTask calls it still refuses. */
  list(): Fault[] {
    return [
      ...this.calls.map(({ seen: _s, applied: _a, ...f }) => f),
      ...this.pulls.map(({ applied: _a, ...f }) => f),
      ...this.act
        .withheldFargateCapacity()
        .map((o): NoFargateCapacityFault => ({ kind: 'no-fargate-capacity', ...o })),
    ];
  }

  /** Applies latency and returns the error to send instead of the real answer, if any. */
  async beforeCall(service: string, operation: string): Promise<AwsError | undefined> {
    let error: AwsError | undefined;
    for (const f of this.calls) {
      if (f.operation && f.operation !== operation) continue;
      if (f.service && f.service !== service) continue;
      if (f.count !== undefined && f.applied >= f.count) continue;
      const rate = f.rate ?? 1;
      const hit = Math.floor((f.seen + 1) * rate) > Math.floor(f.seen * rate);
      f.seen++;
      if (!hit) continue;
      f.applied++;
      if (f.kind === 'latency') await new Promise((r) => setTimeout(r, f.latencyMs));
      else if (!error && f.kind === 'throttle')
        error = new AwsError('ThrottlingException', 'Rate exceeded', 400);
      else if (!error)
        error = new AwsError('InternalFailure', 'Injected server error', 500, 'Receiver');
    }
    return error;
  }

  /** The failure message for pulling `image`, if a fault applies. */
  imagePullFailure(image: string): string | undefined {
    for (const f of this.pulls) {
      if (!image.includes(f.image)) continue;
      if (f.count !== undefined && f.applied >= f.count) continue;
      f.applied++;
      return (
        f.message ??
        `CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref ${image}: not found`
      );
    }
    return undefined;
  }
}
