import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  loginWithPasswordStdin,
  parseBuildkitFailure,
  writeSecretFiles,
  type BuildOutcome,
  type BuildRequest,
  type Builder,
} from './builder';
import { BuilderError } from './errors';
import { DIGEST_PATTERN } from './reference';
import { runCommand, type Run } from './exec';

/** True when a Docker engine answers and has buildx. */
export async function dockerEngineAnswers(
  env: NodeJS.ProcessEnv,
  run: Run = runCommand,
  signal?: AbortSignal,
): Promise<boolean> {
  try {
    const server = await run('docker', ['version', '--format', '{{.Server.Version}}'], {
      env,
      timeoutMs: 10_000,
      signal,
    });
    if (server.code !== 0 || !server.stdout.trim()) return false;
    const buildx = await run('docker', ['buildx', 'version'], { env, timeoutMs: 10_000, signal });
    return buildx.code === 0;
  } catch (error) {
    if (signal?.aborted) throw error;
    return false;
  }
}

/** The `docker buildx build` arguments for a request (exported for tests). */
export function buildxArgs(
  req: BuildRequest,
  metadataFile: string,
  secretFiles: Map<string, string>,
): string[] {
  const args = [
    'buildx',
    'build',
    '--progress',
    'plain',
    '--provenance',
    'false',
    '--metadata-file',
    metadataFile,
  ];
  if (req.file) args.push('--file', req.file);
  if (req.target) args.push('--target', req.target);
  for (const [k, v] of req.buildArgs) args.push('--build-arg', `${k}=${v}`);
  for (const [k, v] of req.labels) args.push('--label', `${k}=${v}`);
  for (const [id, path] of secretFiles) args.push('--secret', `id=${id},src=${path}`);
  if (req.platforms.length) args.push('--platform', req.platforms.join(','));
  const insecure = req.insecure ? ',registry.insecure=true' : '';
  if (req.cacheRef) {
    const ref = `${req.cacheRef}:buildcache`;
    args.push('--cache-from', `type=registry,ref=${ref}${insecure}`);
    // With `push: false` nothing is written to the registry, the layer cache included.
    if (req.push) {
      args.push(
        '--cache-to',
        `type=registry,ref=${ref},mode=max,image-manifest=true,oci-mediatypes=true${insecure}`,
      );
    }
  }
  // Pushed by digest, without a tag: tags are put on afterwards with ECR's own API, so an
  // immutable tag conflict is found before anything is half-tagged.
  args.push(
    '--output',
    `type=image,name=${req.destination},push-by-digest=true,name-canonical=true,oci-mediatypes=true,push=${req.push}${insecure}`,
  );
  args.push(req.context);
  return args;
}

/**
 * Builds with `docker buildx` where a Docker engine answers; the image is pushed by digest by
 * BuildKit itself. Login goes to a Docker config private to the job (`DOCKER_CONFIG` in `env`).
 */
export class BuildxBuilder implements Builder {
  readonly name = 'buildx' as const;

  constructor(private readonly run: Run = runCommand) {}

  async login(
    host: string,
    username: string,
    password: string,
    req: Pick<BuildRequest, 'env' | 'signal'>,
  ): Promise<void> {
    await loginWithPasswordStdin(
      this.run,
      'docker',
      ['login', '--username', username, '--password-stdin', host],
      host,
      password,
      req,
    );
  }

  async build(req: BuildRequest): Promise<BuildOutcome> {
    const metadataFile = join(req.workDir, 'buildx-metadata.json');
    const secretsDir = join(req.workDir, 'secrets');
    try {
      const secretFiles = await writeSecretFiles(secretsDir, req.secrets);
      const result = await this.run('docker', buildxArgs(req, metadataFile, secretFiles), {
        env: req.env,
        signal: req.signal,
        onLine: req.onLine,
      });
      if (result.code !== 0) throw parseBuildkitFailure(result.lines);
      const metadata = JSON.parse(await readFile(metadataFile, 'utf8')) as Record<string, unknown>;
      const digest = metadata['containerimage.digest'];
      if (typeof digest !== 'string' || !DIGEST_PATTERN.test(digest)) {
        throw new BuilderError('docker buildx reported no image digest');
      }
      const steps = result.lines.filter((l) => /^#\d+ \[.*\] /.test(l));
      const cached = result.lines.filter((l) => /^#\d+ CACHED/.test(l)).length;
      return {
        digest,
        pushed: req.push,
        cacheHits: cached,
        steps: new Set(steps.map((l) => l.split(' ')[0])).size,
      };
    } finally {
      await rm(secretsDir, { recursive: true, force: true });
    }
  }
}
