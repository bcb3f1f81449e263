import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageSource } from './copy';
import { logSafe } from '../../kit/src/log-text';
import { BuilderError, ImageError } from './errors';
import type { Run } from './exec';

/** Which builder runs the build. */
export type BuilderName = 'buildah' | 'buildx';

/** Everything a builder needs for one build. */
export interface BuildRequest {
  /** Build context directory. */
  context: string;
  /** Dockerfile path; undefined for the builder's default (`<context>/Dockerfile`). */
  file?: string;
  target?: string;
  buildArgs: Map<string, string>;
  /** Build secrets by id; written to private files, never to layers or logs. */
  secrets: Map<string, string>;
  labels: Map<string, string>;
  /** `linux/amd64` and the like; empty for the host's platform. */
  platforms: string[];
  /** The repository the image is for (`host/name`). */
  destination: string;
  /** True when the registry speaks plain HTTP. */
  insecure: boolean;
  /**
   * buildx pushes by itself (by digest); buildah leaves pushing to the caller. When false,
   * neither writes the registry cache (`cacheRef` is only read).
   */
  push: boolean;
  /** Registry repository (`host/name`) that keeps the layer cache, when the cache is on. */
  cacheRef?: string;
  /** A directory private to this run, removed by the caller. */
  workDir: string;
  /** Registry login written by the builder's login command. */
  authFile: string;
  /** Environment for the builder commands (DOCKER_CONFIG, REGISTRY_AUTH_FILE …). */
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Every output line of the build, as it comes. */
  onLine?: (line: string) => void;
  /** Notes about settings the builder picked, for the log. */
  onNote?: (note: string) => void;
}

/** What a build produced. */
export interface BuildOutcome {
  /** Manifest digest of the image (or index). */
  digest: string;
  /** buildah: the image in a local OCI layout for the caller to push. */
  layout?: ImageSource;
  /** buildx: true when the builder already pushed the image by digest. */
  pushed: boolean;
  /** Steps answered from the cache, out of all steps. */
  cacheHits: number;
  steps: number;
}

/** One way of building images. */
export interface Builder {
  readonly name: BuilderName;
  /**
   * Finds the settings this builder needs on this machine, once, before login; returns notes on
   * what it picked, for the log. Builders with nothing to detect leave it out.
   */
  prepare?(env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<{ notes: string[] }>;
  /** Logs in to `host` with the password on standard input. */
  login(
    host: string,
    username: string,
    password: string,
    req: Pick<BuildRequest, 'authFile' | 'env' | 'insecure' | 'signal'>,
  ): Promise<void>;
  build(req: BuildRequest): Promise<BuildOutcome>;
}

/**
 * A failed build: the failing step first, then its output. The step, reason and each output line
 * are the builder's text, each made one safe line (no control characters, no runner command).
 */
export class BuildFailure extends ImageError {
  constructor(
    readonly step: string | undefined,
    readonly output: string[],
    readonly reason: string,
  ) {
    const head = step ? `Build failed at ${logSafe(step)}` : 'Build failed';
    const body = output.length ? `\n${output.map((line) => logSafe(line)).join('\n')}` : '';
    super(`${head}: ${logSafe(reason)}${body}`);
    this.name = 'BuildFailure';
  }
}

/** Lines of a step's output kept in the error (the end of it, where the failure is). */
export const FAILURE_TAIL = 30;

/** Turns buildah's output into the failing step, its output and the reason. */
export function parseBuildahFailure(lines: string[]): BuildFailure {
  let stepAt = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^STEP \d+\/\d+: /.test(lines[i])) {
      stepAt = i;
      break;
    }
  }
  const errorLine = [...lines].reverse().find((l) => /^Error: /.test(l));
  const reason = errorLine?.replace(/^Error: /, '') ?? 'the builder exited with an error';
  const step = stepAt >= 0 ? lines[stepAt] : undefined;
  const output = lines
    .slice(stepAt + 1)
    .filter((l) => l.trim() && l !== errorLine && !/^time="[^"]*" level=(debug|info)/.test(l))
    .slice(-FAILURE_TAIL);
  return new BuildFailure(step, output, reason);
}

/** Turns BuildKit's plain progress output (`#7 [2/3] RUN …`) into the failing step and its output. */
export function parseBuildkitFailure(lines: string[]): BuildFailure {
  let failing: string | undefined;
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^#(\d+) ERROR/.exec(lines[i]);
    if (m) {
      failing = m[1];
      break;
    }
  }
  const errorLine = [...lines].reverse().find((l) => /^(ERROR|error): /.test(l));
  const reason = errorLine?.replace(/^(ERROR|error): /, '') ?? 'the builder exited with an error';
  if (!failing)
    return new BuildFailure(undefined, lines.filter((l) => l.trim()).slice(-FAILURE_TAIL), reason);
  const own = lines.filter((l) => l.startsWith(`#${failing} `));
  const title = own.find((l) => /^#\d+ \[/.test(l))?.replace(/^#\d+ /, '');
  const output = own
    .filter((l) => !/^#\d+ \[/.test(l) && !/^#\d+ (DONE|CACHED)/.test(l))
    .map((l) => l.replace(/^#\d+ (\d+\.\d+ )?/, ''))
    .slice(-FAILURE_TAIL);
  return new BuildFailure(title ? `step ${title}` : undefined, output, reason);
}

/**
 * Logs in to `host` by running `command` with `args` (`login … --password-stdin`) and the password
 * on standard input; a failure names the last output lines, the password masked.
 */
export async function loginWithPasswordStdin(
  run: Run,
  command: string,
  args: string[],
  host: string,
  password: string,
  req: Pick<BuildRequest, 'env' | 'signal'>,
): Promise<void> {
  const result = await run(command, args, {
    env: req.env,
    stdin: password,
    signal: req.signal,
    timeoutMs: 120_000,
  });
  if (result.code !== 0) {
    const why = result.lines
      .filter((l) => l.trim())
      .slice(-3)
      .join(' ');
    throw new BuilderError(
      `${command} login to ${host} failed: ${why.split(password).join('***')}`,
    );
  }
}

/**
 * Writes each build secret to a file of its own (mode 600) in `dir` (mode 700, created when there
 * is a secret); returns each secret id's file. The caller removes `dir`.
 */
export async function writeSecretFiles(
  dir: string,
  secrets: Map<string, string>,
): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  if (!secrets.size) return files;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [id, value] of secrets) {
    const path = join(dir, id.replace(/[^A-Za-z0-9_.-]/g, '_'));
    await writeFile(path, value, { mode: 0o600 });
    files.set(id, path);
  }
  return files;
}
