import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { DeploymentStrategy } from '@aws-sdk/client-ecs';
import { InputParser } from '../../../packages/kit/src/inputs';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import { parseImageRef } from '../../../packages/ecs/src/image-ref';
import { NoRunningRevisionError } from '../../../packages/ecs/src/service';
import {
  checkContainers,
  loadTaskDefinitionJson,
  UnknownContainerError,
} from '../../../packages/ecs/src/task-definition';
import {
  getGitHubToken,
  getWaitInputs,
  requireAwsRegion,
  type WaitUntil,
} from '../../../packages/kit/src/rollout-inputs';

/** Everything ecs-deploy reads from its inputs, validated. */
export interface Inputs {
  cluster?: string;
  service: string;
  taskDefinition: { kind: 'current' } | { kind: 'file'; path: string; json: unknown };
  images: Map<string, string>;
  environment: Map<string, Map<string, string>>;
  strategy?: DeploymentStrategy;
  bakeTimeMinutes?: number;
  waitUntil: WaitUntil;
  timeoutMs: number;
  desiredCount?: number;
  environmentName?: string;
  environmentUrl?: string;
  githubToken?: string;
  dryRun: boolean;
  /** False: register the revision only (`deploy: false`). */
  deploy: boolean;
}

const STRATEGIES: Record<string, DeploymentStrategy> = {
  rolling: 'ROLLING',
  'blue-green': 'BLUE_GREEN',
  linear: 'LINEAR',
  canary: 'CANARY',
};
const CONTAINER_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const ENV_KEY = /^[A-Za-z0-9_-]{1,255}\.[^\s=]+$/;

/** Reads the task definition file named by `task-definition`, relative to the workspace. */
function readTaskDefinitionFile(
  p: InputParser,
  value: string,
): { kind: 'file'; path: string; json: unknown } {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const full = isAbsolute(value) ? value : resolve(workspace, value);
  if (!existsSync(full) || !statSync(full).isFile()) {
    throw new ConfigurationError(
      `Input \`task-definition\`: file \`${value}\` was not found in the workspace (give a path to a task definition JSON, or \`current\`).`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(full, 'utf8'));
  } catch (error) {
    return p.fail(
      'task-definition',
      value,
      `a JSON file; it does not parse (${(error as Error).message})`,
    );
  }
  return { kind: 'file', path: value, json };
}

const INPUT_OF = { images: 'container-images', environment: 'environment-variables' } as const;

/**
 * Phrases what the deploy found wrong in the configuration (it states facts) with the inputs
 * that asked for it; any other error is returned as it is.
 */
export function phrased(error: unknown): unknown {
  if (error instanceof UnknownContainerError) {
    return new ConfigurationError(
      `Input \`${INPUT_OF[error.option]}\` names container \`${error.container}\`, which ${error.source} does not have (it has ${error.have.map((n) => `\`${n}\``).join(', ')}).`,
    );
  }
  if (error instanceof NoRunningRevisionError)
    return new ConfigurationError(`Input \`task-definition\` is \`current\`, but ${error.message}`);
  return error;
}

/** Reads and validates every input; throws ConfigurationError naming the first bad one. */
export function getInputs(p = new InputParser()): Inputs {
  const cluster = p.string('cluster');
  const service = p.required('service');
  const tdText = p.string('task-definition') ?? 'current';
  const taskDefinition =
    tdText === 'current' ? ({ kind: 'current' } as const) : readTaskDefinitionFile(p, tdText);

  const images = p.map('container-images', { keyPattern: CONTAINER_NAME, keyForm: 'container' });
  if (!images.size)
    throw new ConfigurationError(
      'Input `container-images` is required: one `container=image` per line.',
    );
  for (const [container, image] of images) {
    if (!parseImageRef(image)) {
      p.fail(
        'container-images',
        `${container}=${image}`,
        'one `container=image` per line, each image a reference such as `registry/repo:tag` or `registry/repo@sha256:<64 hex>`',
      );
    }
  }
  const environment = new Map<string, Map<string, string>>();
  for (const [key, value] of p.map('environment-variables', {
    keyPattern: ENV_KEY,
    keyForm: 'container.NAME',
  })) {
    const dot = key.indexOf('.');
    const container = key.slice(0, dot);
    const vars = environment.get(container) ?? new Map<string, string>();
    vars.set(key.slice(dot + 1), value);
    environment.set(container, vars);
  }
  if (taskDefinition.kind === 'file') {
    const source = loadTaskDefinitionJson(
      taskDefinition.json,
      `Task definition file \`${taskDefinition.path}\``,
    );
    try {
      checkContainers(
        source.definition,
        images,
        environment,
        `task definition file \`${taskDefinition.path}\``,
      );
    } catch (error) {
      throw phrased(error);
    }
  }

  const strategyText = p.choice('strategy', Object.keys(STRATEGIES));
  const strategy = strategyText ? STRATEGIES[strategyText] : undefined;
  const bakeMs = p.duration('bake-time', { max: 1440 * 60_000 });
  let bakeTimeMinutes: number | undefined;
  if (bakeMs !== undefined) {
    if (bakeMs % 60_000 !== 0)
      p.fail('bake-time', p.string('bake-time') ?? '', 'whole minutes such as `0m`, `5m` or `1h`');
    if (strategy === 'ROLLING') {
      throw new ConfigurationError(
        'Input `bake-time` applies to `blue-green`, `linear` and `canary` deployments, not to `strategy: rolling`.',
      );
    }
    bakeTimeMinutes = bakeMs / 60_000;
  }
  const { waitUntil, timeoutMs } = getWaitInputs(p, '30m');
  const desiredCount = p.int('desired-count', { min: 0, max: 5000 });

  const environmentName = p.string('environment');
  if (environmentName && !/^[^\s].{0,254}$/.test(environmentName)) {
    p.fail('environment', environmentName, 'a GitHub environment name of at most 255 characters');
  }
  const environmentUrl = p.string('environment-url');
  if (environmentUrl) {
    let ok: boolean;
    try {
      ok = ['http:', 'https:'].includes(new URL(environmentUrl).protocol);
    } catch {
      ok = false;
    }
    if (!ok) p.fail('environment-url', environmentUrl, 'an http:// or https:// URL');
    if (!environmentName)
      throw new ConfigurationError(
        'Input `environment-url` needs `environment` (the GitHub environment to record a deployment for).',
      );
  }
  const githubToken = getGitHubToken(p, environmentName);
  const dryRun = p.bool('dry-run', false);
  const deploy = p.bool('deploy', true);

  requireAwsRegion();

  return {
    cluster,
    service,
    taskDefinition,
    images,
    environment,
    strategy,
    bakeTimeMinutes,
    waitUntil,
    timeoutMs,
    desiredCount,
    environmentName,
    environmentUrl,
    githubToken,
    dryRun,
    deploy,
  };
}
