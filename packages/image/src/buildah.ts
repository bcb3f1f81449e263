import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  loginWithPasswordStdin,
  parseBuildahFailure,
  writeSecretFiles,
  type BuildOutcome,
  type BuildRequest,
  type Builder,
} from './builder';
import { OciLayoutSource } from './copy';
import { BuilderError } from './errors';
import { runCommand, type CommandResult, type Run } from './exec';

/** Settings buildah needs on this machine, found by {@link detectBuildahSettings}. */
export interface BuildahSettings {
  /** Global `--storage-driver`, when the default one does not work here. */
  storageDriver?: string;
  /** `--isolation`, when the default (`oci`) cannot work here; undefined keeps buildah's choice. */
  isolation?: 'chroot';
  /** Why each setting was picked, for the log. */
  notes: string[];
}

/** What the machine looks like, for {@link detectBuildahSettings}; tests pass their own. */
export interface HostFacts {
  /** `BUILDAH_ISOLATION` from the environment. */
  isolationFromEnv?: string;
  /** True inside a container (`/.dockerenv`, `/run/.containerenv`). */
  inContainer: boolean;
}

/** The facts of the machine this process runs on. */
export function hostFacts(env: NodeJS.ProcessEnv = process.env): HostFacts {
  return {
    isolationFromEnv: env.BUILDAH_ISOLATION || undefined,
    inContainer: existsSync('/.dockerenv') || existsSync('/run/.containerenv'),
  };
}

/**
 * Finds settings under which buildah works here, without the user configuring it: asks
 * `buildah info` (falling back to the `vfs` storage driver when the default driver cannot
 * start, as on overlay-on-overlay), and chooses `chroot` isolation where an OCI runtime cannot
 * create build containers (cgroups v1 or hybrid, or inside a container), unless
 * `BUILDAH_ISOLATION` says otherwise.
 */
export async function detectBuildahSettings(
  env: NodeJS.ProcessEnv,
  facts: HostFacts = hostFacts(env),
  run: Run = runCommand,
  signal?: AbortSignal,
): Promise<BuildahSettings> {
  const notes: string[] = [];
  let storageDriver: string | undefined;
  let info = await run('buildah', ['info'], { env, timeoutMs: 60_000, signal });
  if (info.code !== 0) {
    const first = info.lines.find((l) => l.trim()) ?? `exit code ${info.code}`;
    info = await run('buildah', ['--storage-driver', 'vfs', 'info'], {
      env,
      timeoutMs: 60_000,
      signal,
    });
    if (info.code !== 0) {
      throw new BuilderError(`buildah does not work on this machine: ${first}`);
    }
    storageDriver = 'vfs';
    notes.push(`storage driver vfs (the default one failed: ${first})`);
  }
  let parsed: {
    host?: { CgroupVersion?: string; rootless?: boolean };
    store?: { GraphDriverName?: string };
  } = {};
  try {
    parsed = JSON.parse(info.stdout) as typeof parsed;
  } catch {
    // older buildah printed something else; keep the defaults
  }
  if (!storageDriver && parsed.store?.GraphDriverName) {
    notes.push(`storage driver ${parsed.store.GraphDriverName}`);
  }
  let isolation: 'chroot' | undefined;
  if (facts.isolationFromEnv) {
    notes.push(`isolation ${facts.isolationFromEnv} (from BUILDAH_ISOLATION)`);
  } else if (parsed.host?.CgroupVersion === 'v1') {
    isolation = 'chroot';
    notes.push(
      'isolation chroot (cgroups v1/hybrid: the OCI runtime cannot create build containers)',
    );
  } else if (facts.inContainer) {
    isolation = 'chroot';
    notes.push('isolation chroot (running inside a container)');
  } else {
    notes.push('isolation oci');
  }
  return { storageDriver, isolation, notes };
}

/** True when buildah's error says the OCI runtime could not create a container. */
export function isRuntimeFailure(lines: string[]): boolean {
  return lines.some((l) =>
    /cgroups in hybrid mode|creating container for|OCI runtime|did not get container create message/.test(
      l,
    ),
  );
}

function countSteps(lines: string[]): { steps: number; cacheHits: number } {
  const steps = lines.filter((l) => /^STEP \d+\/\d+: (?!FROM )/i.test(l)).length;
  const cacheHits = lines.filter((l) => /^--> Using cache /.test(l)).length;
  return { steps, cacheHits };
}

/** Builds with buildah, then writes the image to a local OCI layout for the caller to push. */
export class BuildahBuilder implements Builder {
  readonly name = 'buildah' as const;
  private settings?: BuildahSettings;

  constructor(private readonly run: Run = runCommand) {}

  private global(): string[] {
    return this.settings?.storageDriver ? ['--storage-driver', this.settings.storageDriver] : [];
  }

  /** Detects the settings once (see {@link detectBuildahSettings}). */
  async prepare(env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<BuildahSettings> {
    this.settings ??= await detectBuildahSettings(env, hostFacts(env), this.run, signal);
    return this.settings;
  }

  async login(
    host: string,
    username: string,
    password: string,
    req: Pick<BuildRequest, 'authFile' | 'env' | 'insecure' | 'signal'>,
  ): Promise<void> {
    const args = ['login', '--authfile', req.authFile, '--username', username, '--password-stdin'];
    if (req.insecure) args.push('--tls-verify=false');
    await loginWithPasswordStdin(this.run, 'buildah', [...args, host], host, password, req);
  }

  async build(req: BuildRequest): Promise<BuildOutcome> {
    const settings = await this.prepare(req.env, req.signal);
    const secretsDir = join(req.workDir, 'secrets');
    // --force-rm: a failed step's working container is removed too, not left behind.
    const multi = req.platforms.length > 1;
    // Layer caching is not platform-aware in buildah 1.28: with several platforms, one platform's
    // cached steps answer for the others and the manifest list ends up with a single image.
    const layers = !multi;
    if (multi) {
      req.onNote?.(
        `Building ${req.platforms.length} platforms without layer caching (buildah's layer cache would mix the platforms up)${req.cacheRef ? '; the registry cache is not used' : ''}.`,
      );
    }
    const args = [
      'build',
      ...(layers ? ['--layers'] : ['--no-cache']),
      '--force-rm',
      '--authfile',
      req.authFile,
    ];
    if (req.file) args.push('--file', req.file);
    if (req.target) args.push('--target', req.target);
    for (const [k, v] of req.buildArgs) args.push('--build-arg', `${k}=${v}`);
    for (const [k, v] of req.labels) args.push('--label', `${k}=${v}`);
    for (const [id, path] of await writeSecretFiles(secretsDir, req.secrets)) {
      args.push('--secret', `id=${id},src=${path}`);
    }
    if (req.insecure) args.push('--tls-verify=false');
    // With `push: false` nothing is written to the registry, the layer cache included.
    if (req.cacheRef && layers) {
      args.push('--cache-from', req.cacheRef);
      if (req.push) args.push('--cache-to', req.cacheRef);
    }
    const name = `localhost/shipkit-build-${process.pid}-${randomBytes(6).toString('hex')}`;
    if (req.platforms.length) args.push('--platform', req.platforms.join(','));
    if (multi) args.push('--manifest', name);
    else args.push('--tag', name);
    args.push(req.context);
    try {
      const attempt = async (isolation?: string): Promise<CommandResult> =>
        this.run(
          'buildah',
          [
            ...this.global(),
            ...args.slice(0, 1),
            ...(isolation ? ['--isolation', isolation] : []),
            ...args.slice(1),
          ],
          {
            env: req.env,
            signal: req.signal,
            onLine: req.onLine,
          },
        );
      let result = await attempt(settings.isolation);
      if (result.code !== 0 && !settings.isolation && isRuntimeFailure(result.lines)) {
        req.onNote?.(
          'The OCI runtime cannot create build containers here: building again with isolation chroot.',
        );
        settings.isolation = 'chroot';
        settings.notes.push('isolation chroot (the OCI runtime failed)');
        result = await attempt('chroot');
      }
      if (result.code !== 0) throw parseBuildahFailure(result.lines);
      const counts = countSteps(result.lines);

      const layoutDir = join(req.workDir, 'oci');
      await rm(layoutDir, { recursive: true, force: true });
      const digestFile = join(req.workDir, 'digest');
      const pushArgs = multi
        ? [
            'manifest',
            'push',
            '--all',
            '--format',
            'oci',
            '--digestfile',
            digestFile,
            name,
            `oci:${layoutDir}`,
          ]
        : ['push', '--format', 'oci', '--digestfile', digestFile, name, `oci:${layoutDir}`];
      const pushed = await this.run('buildah', [...this.global(), ...pushArgs], {
        env: req.env,
        signal: req.signal,
      });
      if (pushed.code !== 0) {
        throw new BuilderError(
          `buildah could not export the image: ${pushed.lines.filter(Boolean).slice(-3).join(' ')}`,
        );
      }
      const layout = new OciLayoutSource(layoutDir);
      const root = await layout.root();
      const fromFile = (await readFile(digestFile, 'utf8').catch(() => '')).trim();
      if (fromFile && fromFile !== root.digest) {
        throw new BuilderError(
          `buildah reported digest ${fromFile} but the exported image is ${root.digest}`,
        );
      }
      return { digest: root.digest, layout, pushed: false, ...counts };
    } finally {
      await rm(secretsDir, { recursive: true, force: true });
      const cleanup = multi ? ['manifest', 'rm', name] : ['rmi', name];
      // Not tied to the run's signal: after a cancel the build's image is still removed.
      await this.run('buildah', [...this.global(), ...cleanup], {
        env: req.env,
        timeoutMs: 30_000,
      }).catch(() => undefined);
    }
  }
}
