import type { OutputLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import type {
  RegisterTaskDefinitionCommandInput,
  RegisterTaskDefinitionCommandOutput,
  RunTaskCommandInput,
  StopTaskCommandInput,
  Task,
} from '@aws-sdk/client-ecs';
import { CancelledError } from '../../../packages/kit/src/errors';
import type { Clock } from '../../../packages/kit/src/poll';
import type { LogsReader, RunTaskEcs } from '../../../packages/ecs/src/run-task/api';
import type { RunTaskLog } from '../../../packages/ecs/src/run-task/run';

/** A clock whose sleeps advance time at once (and honour the abort signal). */
export class FakeClock implements Clock {
  t = 1_000_000;
  onSleep?: (ms: number) => void;
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    this.t += ms;
    this.onSleep?.(ms);
    if (signal?.aborted) throw signal.reason;
  }
}

/** What each DescribeTasks answers, per task, as a function of the number of describes so far. */
export type Script = (describeCount: number, stopped: boolean) => Partial<Task>;

/** A fake ECS: RunTask starts `scripts.length` tasks, each following its script. */
export class FakeEcs implements RunTaskEcs {
  calls: string[] = [];
  runInput?: RunTaskCommandInput;
  stops: StopTaskCommandInput[] = [];
  describes = 0;
  failures: { arn?: string; reason?: string }[] = [];
  describeError?: Error;
  /** Thrown by RunTask after the tasks have started (an answer cut short). */
  runError?: Error;
  private started = false;
  taskDefinitionArn = 'arn:aws:ecs:us-east-1:000000000000:task-definition/migrate:4';
  service: Record<string, unknown> = {};
  taskDefinition: Record<string, unknown> = {};
  constructor(private readonly scripts: Script[]) {}
  arn(i: number): string {
    return `arn:aws:ecs:us-east-1:000000000000:task/jobs/${String(i).repeat(32).slice(0, 32)}`;
  }
  async runTask(input: RunTaskCommandInput) {
    this.calls.push('RunTask');
    this.runInput = input;
    this.started = true;
    if (this.runError) throw this.runError;
    return {
      tasks: this.scripts.map((_, i) => ({ taskArn: this.arn(i), lastStatus: 'PROVISIONING' })),
      failures: this.failures,
      $metadata: {},
    };
  }
  async describeTasks() {
    this.calls.push('DescribeTasks');
    if (this.describeError) throw this.describeError;
    this.describes++;
    return {
      tasks: this.scripts.map((s, i) => {
        const stopped = this.stops.some((x) => x.task === this.arn(i));
        return {
          taskArn: this.arn(i),
          taskDefinitionArn: this.taskDefinitionArn,
          ...s(this.describes, stopped),
        };
      }),
      $metadata: {},
    };
  }
  async stopTask(input: StopTaskCommandInput) {
    this.calls.push('StopTask');
    this.stops.push(input);
    return { $metadata: {} };
  }
  async listTasks(input: { startedBy?: string }) {
    this.calls.push(`ListTasks ${input.startedBy}`);
    const running = this.scripts
      .map((_, i) => this.arn(i))
      .filter((arn) => this.started && !this.stops.some((x) => x.task === arn));
    return { taskArns: running, $metadata: {} };
  }
  registered: RegisterTaskDefinitionCommandInput[] = [];
  async registerTaskDefinition(input: RegisterTaskDefinitionCommandInput) {
    this.calls.push('RegisterTaskDefinition');
    this.registered.push(input);
    const revision = this.registered.length;
    return {
      taskDefinition: {
        ...input,
        taskDefinitionArn: `arn:aws:ecs:us-east-1:000000000000:task-definition/${input.family}:${revision}`,
        revision,
      },
      $metadata: {},
    } as RegisterTaskDefinitionCommandOutput;
  }
  async describeServices() {
    this.calls.push('DescribeServices');
    return { services: [this.service], $metadata: {} };
  }
  async describeTaskDefinition() {
    this.calls.push('DescribeTaskDefinition');
    return { taskDefinition: this.taskDefinition, $metadata: {} };
  }
}

/** A stopped task whose container `job` exited with `code`. */
export function stoppedWith(
  code: number,
  reason = 'Essential container in task exited',
): Partial<Task> {
  return {
    lastStatus: 'STOPPED',
    stopCode: 'EssentialContainerExited',
    stoppedReason: reason,
    containers: [{ name: 'job', exitCode: code }],
  };
}

/** A fake CloudWatch Logs reader over streams whose lines can be added while a run goes on. */
export class FakeLogs implements LogsReader {
  streams = new Map<string, string[]>();
  error?: Error;
  calls = 0;
  async getLogEvents(input: { logStreamName?: string; nextToken?: string }) {
    this.calls++;
    if (this.error) throw this.error;
    const lines = this.streams.get(input.logStreamName!);
    if (!lines)
      throw Object.assign(new Error('The specified log stream does not exist.'), {
        name: 'ResourceNotFoundException',
        $metadata: {},
      });
    const from = input.nextToken ? Number(input.nextToken.slice(2)) : 0;
    const events: OutputLogEvent[] = lines.slice(from, from + 3).map((message) => ({ message }));
    return {
      events,
      nextForwardToken: `f/${from + events.length}`,
      nextBackwardToken: `b/${from}`,
      $metadata: {},
    };
  }
}

/** A log that records what a user would read. */
export function recordingLog(): RunTaskLog & {
  lines: string[];
  infos: string[];
  warnings: string[];
} {
  const lines: string[] = [];
  const infos: string[] = [];
  const warnings: string[] = [];
  return {
    lines,
    infos,
    warnings,
    info: (m) => infos.push(m),
    warning: (m) => warnings.push(m),
    debug: () => undefined,
    taskLine: (task, line) => lines.push(task ? `[${task.slice(0, 4)}] ${line}` : line),
  };
}

export { CancelledError };
