/**
 * Runs ECS tasks as local processes: pulls (materialises) each container's image, starts its
 * entrypoint + command with the host's interpreters inside the unpacked rootfs, gives each
 * port mapping a free host port (the first one is also passed as `PORT`), runs container
 * health checks, and stops processes with SIGTERM then SIGKILL after the stop timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, isAbsolute, join } from 'node:path';
import type { ImageStore, MaterializedImage } from '../contracts';
import type { Clock } from '../clock';
import type { FaultInjector } from '../faults';
import { hexId } from '../ids';
import type { Container, ContainerDefinition, Task, TaskDefinition } from './model';

/** Interpreters and shells that run from the host even when an image names its own copy. */
const HOST_PROGRAMS = new Set([
  'node',
  'nodejs',
  'python',
  'python3',
  'sh',
  'bash',
  'ruby',
  'perl',
  'java',
  'deno',
  'bun',
  'npm',
  'npx',
  'env',
]);

/** What the runner tells ECS. */
export interface TaskRunnerEvents {
  /** Every container runs. */
  running(task: Task): void;
  /** The task could not start; `reason` reads like an ECS stoppedReason. */
  failedToStart(task: Task, reason: string, stopCode: string): void;
  /** A container's process ended (on its own, not because the task was stopped). */
  containerExited(task: Task, container: Container, essential: boolean): void;
  /** The task's health status changed. */
  healthChanged(task: Task): void;
}

/** Where the output of containers using the `awslogs` log driver goes (CloudWatch Logs). */
export interface AwslogsSink {
  /**
   * Opens (creates when missing) a log stream, and the group too when `createGroup`. Returns
   * the error the log driver reports when it cannot, or undefined.
   */
  openStream(
    region: string,
    group: string,
    stream: string,
    createGroup: boolean,
  ): string | undefined;
  /** Appends events to an opened stream. */
  put(
    region: string,
    group: string,
    stream: string,
    events: { timestamp: number; message: string }[],
  ): void;
}

/** Where one container's `awslogs` output goes. */
interface AwslogsTarget {
  region: string;
  group: string;
  stream: string;
}

/**
 * The `awslogs` destination of a container, or undefined for another driver. The stream is
 * `<awslogs-stream-prefix>/<container name>/<task id>` as on ECS; without a prefix (allowed on
 * EC2 only) ECS names it after the Docker container id, here `<task id>-<container name>`.
 */
export function awslogsTarget(def: ContainerDefinition, taskId: string): AwslogsTarget | undefined {
  const config = def.logConfiguration as
    { logDriver?: string; options?: Record<string, string> } | undefined;
  if (config?.logDriver !== 'awslogs') return undefined;
  const options = config.options ?? {};
  const prefix = options['awslogs-stream-prefix'];
  return {
    region: options['awslogs-region'] ?? 'us-east-1',
    group: options['awslogs-group'] ?? '',
    stream: prefix ? `${prefix}/${def.name}/${taskId}` : `${taskId}-${def.name}`,
  };
}

interface Running {
  processes: Map<string, ChildProcess>;
  healthTimers: NodeJS.Timeout[];
  stopping: boolean;
  /**
   * Settles once the container process being spawned is registered (or failed to start): a
   * stop that arrives meanwhile waits for it, so the new process is stopped with the others.
   */
  spawning?: Promise<void>;
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function isExecutableFile(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Maps a container argv onto the host: interpreters from PATH, image paths into the rootfs. */
export function resolveArgv(argv: string[], rootfs: string): string[] {
  return argv.map((arg, i) => {
    if (i === 0) {
      const name = basename(arg);
      if (HOST_PROGRAMS.has(name)) return name;
      if (isAbsolute(arg)) {
        const inside = join(rootfs, arg);
        return isExecutableFile(inside) ? inside : name;
      }
      return arg;
    }
    if (isAbsolute(arg) && existsSync(join(rootfs, arg))) return join(rootfs, arg);
    return arg;
  });
}

function containerEnv(
  image: MaterializedImage,
  def: ContainerDefinition,
  port: number | undefined,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: process.env.LANG ?? 'C.UTF-8',
  };
  for (const kv of image.config.env ?? []) {
    const eq = kv.indexOf('=');
    const key = eq < 0 ? kv : kv.slice(0, eq);
    if (key === 'PATH' || key === 'HOME') continue;
    env[key] = eq < 0 ? '' : kv.slice(eq + 1);
  }
  for (const e of def.environment ?? []) env[e.name] = e.value;
  if (port !== undefined) env.PORT = String(port);
  env.HOSTNAME = 'localhost';
  return env;
}

/**
 * A health check addresses the container's own ports (`localhost:3000`), as on Fargate where a
 * task has a network namespace of its own. Tasks here share the host's network and listen on a
 * host port each, so loopback addresses with a mapped container port are pointed at its host
 * port. Returns the command and what was rewritten (`localhost:3000 → localhost:41234`).
 */
export function toHostPorts(
  command: string[],
  hostPorts: Map<number, number>,
): { command: string[]; rewritten: string[] } {
  const rewritten: string[] = [];
  const out = command.map((arg) =>
    arg.replace(
      /\b(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]):(\d{1,5})\b/g,
      (whole, host: string, port: string) => {
        const hostPort = hostPorts.get(Number(port));
        if (hostPort === undefined || hostPort === Number(port)) return whole;
        rewritten.push(`${whole} → ${host}:${hostPort}`);
        return `${host}:${hostPort}`;
      },
    ),
  );
  return { command: out, rewritten };
}

/** Starts and stops the processes of tasks. */
export class TaskRunner {
  private readonly running = new Map<string, Running>();
  private readonly exits = new Map<ChildProcess, Promise<void>>();
  private awslogs?: AwslogsSink;

  constructor(
    private readonly clock: Clock,
    private readonly images: ImageStore,
    private readonly faults: FaultInjector,
    private readonly logDir: string,
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  /** Sends the output of `awslogs` containers to CloudWatch Logs from now on. */
  setAwslogsSink(sink: AwslogsSink): void {
    this.awslogs = sink;
  }

  /**
   * Forwards a child's stdout and stderr, line by line with the time each line arrived, to its
   * `awslogs` stream and to the container's log file. Resolves when both pipes have closed.
   */
  private forwardOutput(child: ChildProcess, target: AwslogsTarget, file: string): Promise<void> {
    const sink = this.awslogs!;
    const pipe = (stream: NodeJS.ReadableStream | null): Promise<void> =>
      new Promise((resolve) => {
        if (!stream) return resolve();
        let partial = '';
        const emit = (lines: string[]): void => {
          const timestamp = this.clock.now().getTime();
          sink.put(
            target.region,
            target.group,
            target.stream,
            lines.map((message) => ({ timestamp, message })),
          );
        };
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          appendFileSync(file, chunk);
          const lines = (partial + chunk).split('\n');
          partial = lines.pop() ?? '';
          if (lines.length) emit(lines.map((l) => l.replace(/\r$/, '')));
        });
        stream.once('close', () => {
          if (partial) emit([partial]);
          resolve();
        });
      });
    return Promise.all([pipe(child.stdout), pipe(child.stderr)]).then(() => undefined);
  }

  /** Path of a container's combined stdout/stderr log. */
  logPath(taskId: string, container: string): string {
    return join(this.logDir, `${taskId}-${container.replace(/[^A-Za-z0-9_.-]/g, '_')}.log`);
  }

  /** Pulls and starts a task (its containers are already described in `task.containers`). */
  async launch(task: Task, td: TaskDefinition, events: TaskRunnerEvents): Promise<void> {
    const run: Running = { processes: new Map(), healthTimers: [], stopping: false };
    this.running.set(task.taskArn, run);
    const taskId = task.taskArn.split('/').pop() ?? hexId(16);
    task.lastStatus = 'PENDING';
    task.pullStartedAt = this.clock.now();
    const images = new Map<string, MaterializedImage>();
    for (const def of td.containerDefinitions) {
      const injected = this.faults.imagePullFailure(def.image);
      try {
        if (injected) throw new Error(injected);
        images.set(def.name, await this.images.materialize(def.image));
      } catch (error) {
        let message = (error as Error).message;
        if (!message.startsWith('CannotPullContainerError'))
          message = `CannotPullContainerError: ${message}`;
        const c = task.containers.find((x) => x.name === def.name);
        if (c) c.reason = message;
        task.pullStoppedAt = this.clock.now();
        this.running.delete(task.taskArn);
        events.failedToStart(task, message, 'TaskFailedToStart');
        return;
      }
      if (run.stopping) return;
    }
    task.pullStoppedAt = this.clock.now();
    if (run.stopping || task.desiredStatus === 'STOPPED') return;
    // Every container's ports first: a health check may address a port of another container.
    for (const def of td.containerDefinitions) {
      const c = task.containers.find((x) => x.name === def.name)!;
      c.networkBindings = [];
      for (const pm of def.portMappings ?? []) {
        const hostPort = await freePort();
        c.networkBindings.push({
          bindIP: '0.0.0.0',
          containerPort: pm.containerPort ?? hostPort,
          hostPort,
          protocol: pm.protocol ?? 'tcp',
        });
      }
    }
    if (run.stopping || task.desiredStatus === 'STOPPED') return;
    const hostPorts = new Map(
      task.containers.flatMap((c) => c.networkBindings.map((b) => [b.containerPort, b.hostPort])),
    );
    for (const def of td.containerDefinitions) {
      // A stop that came while the previous container was being spawned: start no more.
      if (run.stopping) return;
      const c = task.containers.find((x) => x.name === def.name)!;
      const image = images.get(def.name)!;
      c.imageDigest = image.digest;
      const argv = [
        ...(def.entryPoint ?? image.config.entrypoint ?? []),
        ...(def.command ?? (def.entryPoint ? [] : (image.config.cmd ?? []))),
      ];
      if (!argv.length) {
        return this.abortStart(
          task,
          run,
          events,
          c,
          'CannotStartContainerError: Error response from daemon: no command specified',
        );
      }
      const cwd = join(image.rootfs, def.workingDirectory ?? image.config.workingDir ?? '/');
      const env = containerEnv(image, def, c.networkBindings[0]?.hostPort);
      const resolved = resolveArgv(argv, image.rootfs);
      const awslogs = this.awslogs ? awslogsTarget(def, taskId) : undefined;
      if (awslogs) {
        const refused = this.awslogs!.openStream(
          awslogs.region,
          awslogs.group,
          awslogs.stream,
          (def.logConfiguration as { options?: Record<string, string> }).options?.[
            'awslogs-create-group'
          ] === 'true',
        );
        if (refused)
          return this.abortStart(
            task,
            run,
            events,
            c,
            `ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: ${refused} : exit status 1`,
          );
      }
      let spawned!: () => void;
      run.spawning = new Promise<void>((resolve) => (spawned = resolve));
      const log = openSync(this.logPath(taskId, def.name), 'a');
      let child: ChildProcess;
      try {
        child = spawn(resolved[0], resolved.slice(1), {
          cwd: existsSync(cwd) ? cwd : image.rootfs,
          env,
          detached: true,
          stdio: awslogs ? ['ignore', 'pipe', 'pipe'] : ['ignore', log, log],
        });
      } catch (error) {
        closeSync(log);
        spawned();
        return this.abortStart(
          task,
          run,
          events,
          c,
          `CannotStartContainerError: ${(error as Error).message}`,
        );
      }
      closeSync(log);
      const startError = await new Promise<Error | undefined>((resolve) => {
        child.once('spawn', () => resolve(undefined));
        child.once('error', (e) => resolve(e));
      });
      if (startError) {
        spawned();
        return this.abortStart(
          task,
          run,
          events,
          c,
          `CannotStartContainerError: failed to create task for container: exec: "${argv[0]}": ${(startError as NodeJS.ErrnoException).code === 'ENOENT' ? 'executable file not found in $PATH' : startError.message}`,
        );
      }
      c.runtimeId = `${taskId}-${child.pid}`;
      c.lastStatus = 'RUNNING';
      run.processes.set(def.name, child);
      // With awslogs, a container has exited once its output is in the stream too (a process
      // left behind holding the pipes is not waited for past a second).
      const drained = awslogs
        ? this.forwardOutput(child, awslogs, this.logPath(taskId, def.name))
        : Promise.resolve();
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.once('exit', (code, signal) => resolve([code, signal])),
      ).then(async (result) => {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([drained, new Promise((r) => (timer = setTimeout(r, 1000)))]);
        clearTimeout(timer);
        return result;
      });
      this.exits.set(
        child,
        exited.then(() => undefined),
      );
      spawned();
      void exited.then(([code, signal]) => {
        run.processes.delete(def.name);
        c.lastStatus = 'STOPPED';
        c.exitCode = code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : undefined);
        if (!run.stopping) events.containerExited(task, c, def.essential !== false);
      });
      if (def.healthCheck?.command?.length)
        this.startHealthCheck(task, run, def, c, image, env, events, hostPorts);
    }
    if (run.stopping) return;
    task.lastStatus = 'RUNNING';
    task.startedAt = this.clock.now();
    task.connectivity = 'CONNECTED';
    task.connectivityAt = task.startedAt;
    events.running(task);
  }

  private abortStart(
    task: Task,
    run: Running,
    events: TaskRunnerEvents,
    c: Container,
    reason: string,
  ): void {
    c.reason = reason;
    c.lastStatus = 'STOPPED';
    run.stopping = true;
    void this.kill(task, 0).then(() => events.failedToStart(task, reason, 'TaskFailedToStart'));
  }

  private startHealthCheck(
    task: Task,
    run: Running,
    def: ContainerDefinition,
    c: Container,
    image: MaterializedImage,
    env: NodeJS.ProcessEnv,
    events: TaskRunnerEvents,
    hostPorts: Map<number, number>,
  ): void {
    const hc = def.healthCheck!;
    const interval = (hc.interval ?? 30) * 1000;
    const timeout = Math.max(1000, this.clock.real((hc.timeout ?? 5) * 1000));
    const retries = hc.retries ?? 3;
    const startPeriodEnds = Date.now() + this.clock.real((hc.startPeriod ?? 0) * 1000);
    let failures = 0;
    const { command, rewritten } = toHostPorts(hc.command, hostPorts);
    if (rewritten.length) {
      const taskId = task.taskArn.split('/').pop() ?? '';
      appendFileSync(
        this.logPath(taskId, def.name),
        `local-aws: tasks share the host's network here, so the health check runs against ${rewritten.join(', ')}\n`,
      );
    }
    const [kind, ...rest] = command;
    const argv =
      kind === 'CMD-SHELL'
        ? ['sh', '-c', rest.join(' ')]
        : kind === 'CMD'
          ? resolveArgv(rest, image.rootfs)
          : resolveArgv(command, image.rootfs);
    const cwd = join(image.rootfs, def.workingDirectory ?? image.config.workingDir ?? '/');
    const check = (): void => {
      if (run.stopping) return;
      const child = spawn(argv[0], argv.slice(1), {
        cwd: existsSync(cwd) ? cwd : image.rootfs,
        env,
        stdio: 'ignore',
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        if (run.stopping) return;
        const before = c.healthStatus;
        if (ok) {
          failures = 0;
          c.healthStatus = 'HEALTHY';
        } else if (Date.now() >= startPeriodEnds || c.healthStatus === 'HEALTHY') {
          failures++;
          if (failures >= retries) c.healthStatus = 'UNHEALTHY';
        }
        if (before !== c.healthStatus) {
          this.updateTaskHealth(task);
          events.healthChanged(task);
        }
        run.healthTimers.push(this.clock.setTimeout(check, interval));
      };
      child.once('error', () => done(false));
      child.once('exit', (code) => done(code === 0));
    };
    run.healthTimers.push(this.clock.setTimeout(check, Math.min(interval, 1000)));
  }

  private updateTaskHealth(task: Task): void {
    const statuses = task.containers.map((c) => c.healthStatus);
    task.healthStatus = statuses.includes('UNHEALTHY')
      ? 'UNHEALTHY'
      : statuses.length && statuses.every((s) => s === 'HEALTHY')
        ? 'HEALTHY'
        : 'UNKNOWN';
  }

  /**
   * Stops a task's processes: SIGTERM to each process group, SIGKILL after `stopTimeoutMs` (AWS
   * time). Resolves when every process has exited.
   */
  async kill(task: Task, stopTimeoutMs: number): Promise<void> {
    const run = this.running.get(task.taskArn);
    if (!run) return;
    run.stopping = true;
    // A process being spawned right now is not in `run.processes` yet: wait until it is.
    await run.spawning;
    for (const t of run.healthTimers) this.clock.clear(t);
    const children = [...run.processes.values()];
    const exits = children.map((c) => this.exits.get(c) ?? Promise.resolve());
    const signal = (sig: NodeJS.Signals): void => {
      for (const c of children) {
        if (c.exitCode !== null || c.signalCode !== null || !c.pid) continue;
        try {
          process.kill(-c.pid, sig);
        } catch {
          try {
            c.kill(sig);
          } catch {
            // already gone
          }
        }
      }
    };
    signal('SIGTERM');
    const killTimer = setTimeout(() => signal('SIGKILL'), this.clock.real(stopTimeoutMs));
    await Promise.all(exits);
    clearTimeout(killTimer);
    for (const c of children) this.exits.delete(c);
    this.running.delete(task.taskArn);
  }

  /** Stops every task at once (server shutdown). */
  async killAll(): Promise<void> {
    const tasks = [...this.running.keys()];
    await Promise.all(tasks.map((arn) => this.kill({ taskArn: arn } as Task, 2000)));
  }
}
