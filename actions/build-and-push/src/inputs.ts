import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputParser } from '../../../packages/kit/src/inputs';
import {
  isPromotionLines,
  parseImageLines,
  parsePromotionLines,
  type ImageInput,
  type PromotionInput,
} from './images-input';
import type { BuilderChoice } from '../../../packages/image/src/build-and-publish';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import {
  parseEcrHost,
  parseImageRef,
  parseRepository,
  type ImageRef,
  type RepositoryRef,
} from '../../../packages/image/src/reference';
import {
  commitTag,
  defaultTagTemplates,
  parseTagTemplate,
  renderTags,
  TagTemplateError,
  type TagContext,
  type TagTemplate,
} from '../../../packages/image/src/tags';

/** Everything build-and-push reads from its inputs, validated. */
export interface Inputs {
  /**
   * The repository (with `images` or `promote-from` lines: the first line's, whose registry they
   * all share).
   */
  repository: RepositoryRef;
  /** The images of the `images` input; undefined for the single-image form. */
  images?: ImageInput[];
  /** The lines of `promote-from` in its one-image-per-line form; undefined otherwise. */
  promotions?: PromotionInput[];
  /**
   * Look for each image's content tag and tag the image that holds it instead of rebuilding
   * (`skip-unchanged`; on by default with `images`, never with `push: false`).
   */
  skipUnchanged: boolean;
  /** Absolute build context directory. */
  context: string;
  /** Absolute Dockerfile path, when set. */
  file?: string;
  target?: string;
  buildArgs: Map<string, string>;
  secrets: Map<string, string>;
  platforms: string[];
  /** Rendered tags, in order. */
  tags: string[];
  /** The tag made from the commit (`{{sha}}`/`{{short-sha}}`), when a template has one. */
  commitTag?: string;
  /** OCI labels (revision, source, created, version) plus the user's. */
  labels: Map<string, string>;
  builder: BuilderChoice;
  cache: boolean;
  /** The repository that keeps the layer cache (`<repository>-cache`), when `cache` is on. */
  cacheRepository?: string;
  skipIfExists: boolean;
  /** The image of the one-image `promote-from`. */
  promoteFrom?: ImageRef;
  createRepository: boolean;
  push: boolean;
  git: TagContext;
}

const BUILD_ARG = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_ID = /^[A-Za-z0-9_.-]+$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const DEFAULT_FILES: readonly string[] = ['Dockerfile', 'Containerfile'];
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;
/** A Dockerfile build stage name (`FROM … AS <name>`), as BuildKit accepts it. */
const STAGE = /^[A-Za-z][A-Za-z0-9_.-]*$/;
/** ECR's longest repository name. */
const MAX_REPOSITORY_NAME = 256;
/** The cache repository is named after the image's: `<repository>-cache`. */
const CACHE_SUFFIX = '-cache';
const REPOSITORY_FORM =
  'an ECR repository name such as `team/api` (2 to 256 lowercase letters and digits, separated by single `.`, `_`, `-` or `/`) or an ECR repository URI such as `123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api`, without a tag';
const IMAGE_FORM =
  'an image reference: a tag, a digest (`sha256:…`), `repository:tag`, `repository@sha256:…` or an ECR image URI with a tag or digest';

/**
 * `host[:port]` of the ECR endpoint set with the SDK's standard settings
 * (`AWS_ENDPOINT_URL_ECR`, else `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`
 * is `true`): the one registry other than `<account>.dkr.ecr.<region>.amazonaws.com` whose
 * repositories ECR's API manages.
 */
export function configuredEcrHost(env: NodeJS.ProcessEnv): string | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true') return undefined;
  const url = env.AWS_ENDPOINT_URL_ECR || env.AWS_ENDPOINT_URL;
  if (!url) return undefined;
  try {
    return new URL(url).host.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why a registry cannot be used, as a phrase (`names the registry …, which is not an ECR
 * registry …`): ECR's API does not manage it. Undefined for ECR's registries, the configured ECR
 * endpoint, and when no registry is named.
 */
function registryProblem(registry: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (!registry || parseEcrHost(registry)) return undefined;
  const endpoint = configuredEcrHost(env);
  if (registry === endpoint) return undefined;
  const also = endpoint ? ` nor the configured ECR endpoint \`${endpoint}\`` : '';
  return `names the registry \`${registry}\`, which is not an ECR registry (\`<account>.dkr.ecr.<region>.amazonaws.com\`)${also}`;
}

/**
 * Refuses a registry that ECR's API does not manage, before anything is called: an input that
 * names `registry.example.com` must not create an ECR repository in the caller's account first.
 */
function checkRegistry(
  name: string,
  text: string,
  registry: string | undefined,
  form: string,
  env: NodeJS.ProcessEnv,
): void {
  const problem = registryProblem(registry, env);
  if (problem) {
    throw new ConfigurationError(
      `Input \`${name}\` ${problem}: it must be ${form}; got \`${text}\`.`,
    );
  }
}

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

/**
 * The commit, branch and default branch from the runner's environment (`GITHUB_SHA`,
 * `GITHUB_HEAD_REF`/`GITHUB_REF`, the event payload's `repository.default_branch`), falling back
 * to the git checkout in `cwd`.
 */
export function gitContext(env: NodeJS.ProcessEnv, cwd: string, now: Date): TagContext {
  const sha = env.GITHUB_SHA || git(['rev-parse', 'HEAD'], cwd);
  // GITHUB_HEAD_REF is set only for pull requests: their head branch, not the branch built on.
  const pullRequest = !!env.GITHUB_HEAD_REF;
  let branch = env.GITHUB_HEAD_REF || undefined;
  if (!branch && env.GITHUB_REF?.startsWith('refs/heads/')) branch = env.GITHUB_REF.slice(11);
  if (!branch && !env.GITHUB_REF) {
    const local = git(['rev-parse', '--abbrev-ref', 'HEAD'], cwd);
    branch = local && local !== 'HEAD' ? local : undefined;
  }
  let defaultBranch: string | undefined;
  if (env.GITHUB_EVENT_PATH && existsSync(env.GITHUB_EVENT_PATH)) {
    try {
      const event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as {
        repository?: { default_branch?: string };
      };
      defaultBranch = event.repository?.default_branch;
    } catch {
      defaultBranch = undefined;
    }
  }
  if (!defaultBranch && !env.GITHUB_EVENT_PATH) {
    defaultBranch = git(['symbolic-ref', '--short', 'refs/remotes/origin/HEAD'], cwd)?.replace(
      /^origin\//,
      '',
    );
  }
  return {
    sha: sha && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined,
    branch,
    defaultBranch,
    pullRequest,
    now,
  };
}

/** Reads and validates every input; throws ConfigurationError naming the first bad one. */
export function getInputs(
  p = new InputParser(),
  env: NodeJS.ProcessEnv = process.env,
  now = new Date(),
): Inputs {
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  const imageLines = p.lines('images');
  const promoteLines = p.lines('promote-from');
  let images: ImageInput[] | undefined;
  let promotions: PromotionInput[] | undefined;
  let repository: RepositoryRef;
  if (imageLines.length) {
    const both = [
      ['repository', !!p.string('repository')],
      // `.` is the default the runner passes: only another value is a conflict.
      ['context', (p.string('context') ?? '.') !== '.'],
      ['file', !!p.string('file')],
      ['promote-from', !!p.string('promote-from')],
    ].find(([, set]) => set);
    if (both) {
      throw new ConfigurationError(
        `Inputs \`images\` and \`${both[0]}\` cannot be used together: each line of \`images\` names its repository, context and Dockerfile${both[0] === 'promote-from' ? ', and `images` builds (to promote several images, give `promote-from` one `<repository>=<image reference>` per line, without `images`)' : ''}.`,
      );
    }
    images = parseImageLines(imageLines, {
      workspace,
      repositoryForm: REPOSITORY_FORM,
      defaultFiles: DEFAULT_FILES,
      registryProblem: (registry) => registryProblem(registry, env),
    });
    repository = images[0].repository;
  } else if (isPromotionLines(promoteLines)) {
    if (p.string('repository')) {
      throw new ConfigurationError(
        'Inputs `promote-from` (one `<repository>=<image reference>` per line) and `repository` cannot be used together: each line names the repository it promotes into.',
      );
    }
    promotions = parsePromotionLines(promoteLines, {
      repositoryForm: REPOSITORY_FORM,
      imageForm: IMAGE_FORM,
      registryProblem: (registry) => registryProblem(registry, env),
    });
    repository = promotions[0].repository;
  } else {
    const repositoryText = p.required('repository');
    repository =
      parseRepository(repositoryText) ?? p.fail('repository', repositoryText, REPOSITORY_FORM);
    checkRegistry('repository', repositoryText, repository.registry, REPOSITORY_FORM, env);
  }

  const promoteText = promotions ? undefined : p.string('promote-from');
  let promoteFrom: ImageRef | undefined;
  if (promoteText) {
    promoteFrom = parseImageRef(promoteText) ?? p.fail('promote-from', promoteText, IMAGE_FORM);
    checkRegistry('promote-from', promoteText, promoteFrom.registry, IMAGE_FORM, env);
  }

  const contextText = p.string('context', { default: '.' }) as string;
  const context = resolve(workspace, contextText);
  const fileText = p.string('file');
  const file = fileText ? resolve(workspace, fileText) : undefined;
  const target = p.string('target');
  if (target && !STAGE.test(target)) {
    p.fail(
      'target',
      target,
      'a build stage name (`FROM … AS <name>`): a letter, then letters, digits, `_`, `.` or `-`',
    );
  }
  const buildArgs = p.map('build-args', { keyPattern: BUILD_ARG, keyForm: 'NAME' });
  const secrets = p.map('secrets', { secret: true, keyPattern: SECRET_ID, keyForm: 'id' });
  const platforms = p.list('platforms');
  for (const platform of platforms) {
    if (!PLATFORM.test(platform)) {
      p.fail(
        'platforms',
        platform,
        'platforms such as `linux/amd64` or `linux/arm64/v8`, comma- or newline-separated',
      );
    }
  }
  const userLabels = p.map('labels', { keyPattern: LABEL_KEY, keyForm: 'key' });
  const builder = p.choice(
    'builder',
    ['auto', 'buildx', 'buildah'] as const,
    'auto',
  ) as BuilderChoice;
  const cache = p.bool('cache', false);
  const cacheName = `${repository.repository}${CACHE_SUFFIX}`;
  // With `promote-from` lines, `cache` is refused below: it builds nothing.
  const cached = promotions
    ? []
    : (images?.map((i) => i.repository.repository) ?? [repository.repository]);
  for (const name of cached) {
    if (cache && `${name}${CACHE_SUFFIX}`.length > MAX_REPOSITORY_NAME) {
      throw new ConfigurationError(
        `Input \`cache\` keeps the layer cache in \`${name}${CACHE_SUFFIX}\`, which is longer than ECR's ${MAX_REPOSITORY_NAME} characters: shorten \`${images ? 'images' : 'repository'}\` to at most ${MAX_REPOSITORY_NAME - CACHE_SUFFIX.length} characters or set \`cache: false\`.`,
      );
    }
  }
  const skipIfExists = p.bool('skip-if-exists', false);
  const skipUnchangedSet = !!p.string('skip-unchanged');
  let skipUnchanged = p.bool('skip-unchanged', !!images);
  const createRepository = p.bool('create-repository', false);
  const push = p.bool('push', true);

  const git = gitContext(env, workspace, now);
  let templates: TagTemplate[];
  let tags: string[];
  let commit: string | undefined;
  try {
    const lines = p.list('tags');
    templates = lines.length ? lines.map(parseTagTemplate) : defaultTagTemplates(git);
    tags = renderTags(templates, git);
    commit = commitTag(templates, git);
  } catch (error) {
    if (error instanceof TagTemplateError) {
      throw new ConfigurationError(`Input \`tags\`: ${error.message}.`);
    }
    throw error;
  }
  if (!tags.length) throw new ConfigurationError('Input `tags` must name at least one tag.');

  if (promoteFrom || promotions) {
    const buildOnly: [string, boolean][] = [
      ['file', !!file],
      ['target', !!target],
      ['build-args', buildArgs.size > 0],
      ['secrets', secrets.size > 0],
      ['platforms', platforms.length > 0],
      ['labels', userLabels.size > 0],
      ['cache', cache],
      ['skip-if-exists', skipIfExists],
      ['skip-unchanged', skipUnchanged],
    ];
    const set = buildOnly.filter(([, on]) => on).map(([name]) => `\`${name}\``);
    if (set.length) {
      throw new ConfigurationError(
        `Input \`promote-from\` puts an existing image under new tags without building, so ${set.join(', ')} cannot be used with it.`,
      );
    }
    if (!push) {
      throw new ConfigurationError(
        'Input `promote-from` writes tags to the registry, so `push` cannot be `false`.',
      );
    }
  } else if (!images) {
    if (!existsSync(context) || !statSync(context).isDirectory()) {
      p.fail('context', contextText, 'a directory (the build context), relative to the workspace');
    }
    if (file && (!existsSync(file) || !statSync(file).isFile())) {
      p.fail('file', fileText as string, 'the path of a Dockerfile, relative to the workspace');
    }
    // The names come from a list so that the bundler does not mistake them for assets to ship.
    if (!file && !DEFAULT_FILES.some((name) => existsSync(resolve(context, name)))) {
      throw new ConfigurationError(
        `No Dockerfile in the build context \`${contextText}\`: add one or set input \`file\`.`,
      );
    }
  }
  if (skipIfExists) {
    if (!commit) {
      throw new ConfigurationError(
        'Input `skip-if-exists` looks for the tag made from the commit, but no template in `tags` uses `{{sha}}` or `{{short-sha}}`.',
      );
    }
    if (!push) {
      throw new ConfigurationError(
        'Input `skip-if-exists` looks in the registry, so `push` cannot be `false`.',
      );
    }
  }

  if (skipUnchanged && !push) {
    if (skipUnchangedSet) {
      throw new ConfigurationError(
        'Input `skip-unchanged` looks in the registry for the image of the same build inputs, so `push` cannot be `false`.',
      );
    }
    skipUnchanged = false;
  }

  const labels = new Map<string, string>();
  if (git.sha) labels.set('org.opencontainers.image.revision', git.sha);
  if (env.GITHUB_REPOSITORY) {
    labels.set(
      'org.opencontainers.image.source',
      `${env.GITHUB_SERVER_URL || 'https://github.com'}/${env.GITHUB_REPOSITORY}`,
    );
  }
  labels.set('org.opencontainers.image.created', now.toISOString());
  labels.set('org.opencontainers.image.version', commit ?? tags[0]);
  for (const [k, v] of userLabels) labels.set(k, v);

  return {
    repository,
    images,
    promotions,
    skipUnchanged,
    context,
    file,
    target,
    buildArgs,
    secrets,
    platforms,
    tags,
    commitTag: commit,
    labels,
    builder,
    cache,
    cacheRepository: cache ? cacheName : undefined,
    skipIfExists,
    promoteFrom,
    createRepository,
    push,
    git,
  };
}
