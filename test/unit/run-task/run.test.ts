import type { Task } from '@aws-sdk/client-ecs';
import { runOneOffTask, type RunOneOffOptions } from '../../../packages/ecs/src/run-task/run';
import type { RunTarget } from '../../../packages/ecs/src/run-task/target';
import {
  CancelledError,
  FakeClock,
  FakeEcs,
  FakeLogs,
  recordingLog,
  stoppedWith,
  type Script,
} from './fakes';

const target: RunTarget = {
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/migrate:4',
  taskDefinition: 'migrate:4',
  container: 'job',
  essentialContainers: ['job'],
  registered: false,
  awslogs: { group: '/ecs/jobs', region: 'us-east-1', streamPrefix: 'jobs' },
  input: { cluster: 'jobs', taskDefinition: 'migrate:4', count: 1, startedBy: 'shipkit/7' },
};

function setup(scripts: Script[], extra: Partial<RunOneOffOptions> = {}) {
  const ecs = new FakeEcs(scripts);
  const logs = new FakeLogs();
  const clock = new FakeClock();
  const log = recordingLog();
  const opts: RunOneOffOptions = {
    ecs,
    logs: () => logs,
    clock,
    target: { ...target, input: { ...target.input, count: scripts.length } },
    timeoutMs: 60_000,
    log,
    stopReason: 'Stopped by shipkit run-task (acme/shop run 7)',
    ...extra,
  };
  const stream = (i: number) => `jobs/job/${ecs.arn(i).split('/').pop()}`;
  return { ecs, logs, clock, log, opts, stream };
}

test('a task that exits 0 succeeds, its log lines printed in order as they arrive, the last one after it stopped', async () => {
  const { ecs, logs, log, opts, stream } = setup([
    (n) => (n < 3 ? { lastStatus: 'RUNNING' } : stoppedWith(0)),
  ]);
  opts.clock = Object.assign(opts.clock, {
    onSleep: () => {
      const lines = logs.streams.get(stream(0)) ?? [];
      lines.push(`line ${lines.length + 1}`);
      logs.streams.set(stream(0), lines);
    },
  });
  const r = await runOneOffTask(opts);
  expect(r.status).toBe('succeeded');
  expect(r.exitCode).toBe(0);
  expect(log.lines).toEqual(['line 1', 'line 2', 'line 3']);
  expect(r.reason).toMatch(/^Task 0{32} of migrate:4 exited with code 0 after /);
  expect(ecs.stops).toEqual([]);
  expect(r.logStream).toEqual({ group: '/ecs/jobs', region: 'us-east-1', stream: stream(0) });
});

test('a non-zero exit fails with the exit code, the stopped reason and the last 10 lines', async () => {
  const { logs, opts, stream } = setup([
    (n) => (n < 2 ? { lastStatus: 'RUNNING' } : stoppedWith(3)),
  ]);
  logs.streams.set(
    stream(0),
    Array.from({ length: 12 }, (_, i) => `step ${i + 1}`).concat('::error::bad'),
  );
  const r = await runOneOffTask(opts);
  expect(r.status).toBe('failed');
  expect(r.exitCode).toBe(3);
  expect(r.reason).toContain(
    'essential container `job` exited with code 3; stopped: EssentialContainerExited: Essential container in task exited.',
  );
  expect(r.reason).toContain('  step 4\n');
  expect(r.reason).not.toContain('step 3\n');
  expect(r.reason).toContain('  : :error::bad');
  expect(r.tasks[0].lastLines).toHaveLength(10);
});

const ENDINGS: [string, Partial<Task>, string][] = [
  [
    'stopped by someone else',
    { ...stoppedWith(0), stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' },
    'stopped: UserInitiated: Task stopped by user',
  ],
  [
    'failed to start',
    {
      lastStatus: 'STOPPED',
      stopCode: 'TaskFailedToStart',
      stoppedReason: 'CannotPullContainerError: not found',
      containers: [{ name: 'job' }],
    },
    'essential container `job` did not run; stopped: TaskFailedToStart: CannotPullContainerError: not found',
  ],
];

test.each(ENDINGS)(
  'a task %s fails with its stop code and reason',
  async (_name, stopped, expected) => {
    const { opts } = setup([() => stopped]);
    const r = await runOneOffTask(opts);
    expect(r.status).toBe('failed');
    expect(r.reason).toContain(expected);
  },
);

test('past the timeout it stops the task, waits for it to stop and reports timed-out', async () => {
  const { ecs, opts } = setup(
    [
      (_n, stopped) =>
        stopped ? stoppedWith(143, 'Stopped by shipkit') : { lastStatus: 'RUNNING' },
    ],
    {
      timeoutMs: 10_000,
    },
  );
  const r = await runOneOffTask(opts);
  expect(r.status).toBe('timed-out');
  expect(ecs.stops).toEqual([
    {
      cluster: 'jobs',
      task: ecs.arn(0),
      reason: 'Stopped by shipkit run-task (acme/shop run 7): timed out after 10s',
    },
  ]);
  expect(r.stoppedByRun).toEqual([ecs.arn(0)]);
  expect(r.reason).toMatch(/did not stop within 10s: stopped 0{32} \(StopTask\)\./);
});

test('a cancel stops the tasks it started and returns cancelled', async () => {
  const controller = new AbortController();
  const { ecs, clock, opts } = setup(
    [() => ({ lastStatus: 'RUNNING' }), () => ({ lastStatus: 'RUNNING' })],
    {
      signal: controller.signal,
    },
  );
  clock.onSleep = () =>
    controller.abort(new CancelledError('the workflow was cancelled (SIGTERM)'));
  const r = await runOneOffTask(opts);
  expect(r.status).toBe('cancelled');
  expect(ecs.stops.map((s) => s.task)).toEqual([ecs.arn(0), ecs.arn(1)]);
  expect(ecs.stops[0].reason).toBe(
    'Stopped by shipkit run-task (acme/shop run 7): the workflow run was cancelled',
  );
});

test('RunTask failures are reported before any wait; tasks it did start are stopped', async () => {
  const { ecs, opts } = setup([
    () => ({ lastStatus: 'RUNNING' }),
    () => ({ lastStatus: 'RUNNING' }),
  ]);
  ecs.failures = [
    { arn: 'arn:aws:ecs:us-east-1:000000000000:container-instance/x', reason: 'RESOURCE:MEMORY' },
  ];
  const r = await runOneOffTask(opts);
  expect(r.status).toBe('not-started');
  expect(r.reason).toContain('RESOURCE:MEMORY');
  expect(ecs.calls).not.toContain('DescribeTasks');
  expect(ecs.stops.map((s) => s.task)).toEqual([ecs.arn(0), ecs.arn(1)]);
});

const CAPACITY =
  'Capacity is unavailable at this time. Please try again later or in a different availability zone';

test.each<[string, { arn?: string; reason?: string }[], string]>([
  [
    'the same failure for every task is said once, with how many tasks it hit',
    [{ reason: CAPACITY }, { reason: CAPACITY }, { reason: CAPACITY }],
    `RunTask started 0 of 3 task(s): ${CAPACITY} (3 tasks).`,
  ],
  [
    'different failures are each said once',
    [{ reason: CAPACITY }, { reason: 'RESOURCE:MEMORY' }, { reason: CAPACITY }],
    `RunTask started 0 of 3 task(s): ${CAPACITY} (2 tasks); RESOURCE:MEMORY.`,
  ],
])('RunTask placing no task: %s', async (_what, failures, reason) => {
  const { ecs, opts } = setup([], {
    target: { ...target, input: { ...target.input, count: 3 } },
  });
  ecs.failures = failures;
  const r = await runOneOffTask(opts);
  expect(r.status).toBe('not-started');
  expect(r.reason).toBe(reason);
  expect(ecs.calls).toEqual(['RunTask']);
});

test('an error while following stops the tasks, then is thrown', async () => {
  const { ecs, opts } = setup([() => ({ lastStatus: 'RUNNING' })]);
  ecs.describeError = Object.assign(new Error('not allowed'), {
    name: 'AccessDeniedException',
    $metadata: { httpStatusCode: 400 },
  });
  await expect(runOneOffTask(opts)).rejects.toThrow('not allowed');
  expect(ecs.stops.map((s) => s.task)).toEqual([ecs.arn(0)]);
});

test('a transient error while following is retried until the task stops', async () => {
  const { ecs, clock, opts } = setup([(n) => (n < 2 ? { lastStatus: 'RUNNING' } : stoppedWith(0))]);
  let failed = false;
  clock.onSleep = () => {
    ecs.describeError = failed
      ? undefined
      : Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: {} });
    failed = true;
  };
  const r = await runOneOffTask(opts);
  expect(r.status).toBe('succeeded');
  expect(ecs.stops).toEqual([]);
});

test('unreadable logs are reported once and the run goes on', async () => {
  const { logs, log, opts } = setup([(n) => (n < 3 ? { lastStatus: 'RUNNING' } : stoppedWith(0))]);
  logs.error = Object.assign(new Error('User is not authorized to perform: logs:GetLogEvents'), {
    name: 'AccessDeniedException',
    $metadata: { httpStatusCode: 400 },
  });
  const r = await runOneOffTask(opts);
  expect(r.status).toBe('succeeded');
  expect(log.warnings.filter((w) => w.includes('logs:GetLogEvents'))).toHaveLength(1);
  expect(logs.calls).toBe(1);
});

test('several tasks: lines carry the task, and the failing task is named', async () => {
  const { ecs, logs, log, opts, stream } = setup([
    () => stoppedWith(0),
    () => stoppedWith(5),
    () => stoppedWith(0),
  ]);
  for (let i = 0; i < 3; i++) logs.streams.set(stream(i), [`worker ${i}`]);
  const r = await runOneOffTask(opts);
  expect(r.status).toBe('failed');
  expect(r.exitCode).toBe(5);
  expect(r.reason).toMatch(
    /^1 of 3 tasks failed\. Task 1{32} essential container `job` exited with code 5/,
  );
  expect(log.lines).toEqual(['[0000] worker 0', '[1111] worker 1', '[2222] worker 2']);
  expect(r.logStream?.stream).toBe(stream(1));
  expect(ecs.stops).toEqual([]);
});

test('without awslogs it says so once and reports the exit code', async () => {
  const { log, opts } = setup([() => stoppedWith(0)], {});
  opts.target = { ...opts.target, awslogs: undefined, logDriver: 'json-file' };
  const r = await runOneOffTask(opts);
  expect(r.status).toBe('succeeded');
  expect(
    log.infos.filter((m) => m.includes('has no awslogs log configuration (it uses `json-file`)')),
  ).toHaveLength(1);
  expect(r.logStream).toBeUndefined();
});

test('a cancel while RunTask is in flight finds the tasks it started and stops them', async () => {
  const controller = new AbortController();
  const { ecs, opts } = setup([() => ({ lastStatus: 'PROVISIONING' })], {
    signal: controller.signal,
  });
  const cancel = new CancelledError('the workflow was cancelled (SIGTERM)');
  controller.abort(cancel);
  ecs.runError = cancel;
  const r = await runOneOffTask(opts);
  expect(r.status).toBe('cancelled');
  expect(ecs.calls).toContain('ListTasks shipkit/7');
  expect(ecs.stops.map((s) => s.task)).toEqual([ecs.arn(0)]);
  expect(r.reason).toBe(
    `Cancelled while RunTask was in flight; stopped task ${'0'.repeat(32)} (StopTask).`,
  );
});

test('another RunTask error is thrown without looking for tasks', async () => {
  const { ecs, opts } = setup([() => ({ lastStatus: 'RUNNING' })]);
  ecs.runError = Object.assign(new Error('TaskDefinition is inactive'), {
    name: 'ClientException',
    $metadata: { httpStatusCode: 400 },
  });
  await expect(runOneOffTask(opts)).rejects.toThrow('TaskDefinition is inactive');
  expect(ecs.calls).toEqual(['RunTask']);
});
