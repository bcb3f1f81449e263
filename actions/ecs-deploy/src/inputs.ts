import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { DeploymentStrategy } from '@aws-sdk/client-ecs';
import { InputParser, splitLines } from '../../../packages/kit/src/inputs';
import { ReleaseLineError } from '../../../packages/ecs/src/release/lines';
import { getReleaseInputs, type ReleaseInputs } from './release-inputs';
import { ConfigurationError, describeAwsError, isAwsError } from '../../../packages/kit/src/errors';
import { parseImageRef } from '../../../packages/ecs/src/image-ref';
import { NoRunningRevisionError } from '../../../packages/ecs/src/service';
import type { DeploySource } from '../../../packages/ecs/src/deploy';
import {
  checkContainers,
  isRegisteredRevision,
  loadTaskDefinitionJson,
  UnknownContainerError,
  UnknownTaskDefinitionError,
} from '../../../packages/ecs/src/task-definition';
import {
  AppSpecFileError,
  NotForCodeDeployError,
  UnknownCodeDeployDeploymentError,
} from '../../../packages/ecs/src/codedeploy/errors';
import { parseAppSpec } from '../../../packages/ecs/src/codedeploy/appspec';
import {
  TestTrafficWaitError,
  UnknownCodeDeployTargetError,
} from '../../../packages/ecs/src/codedeploy/group';
import {
  codeDeployName,
  getGitHubToken,
  getWaitInputs,
  requireAwsRegion,
  type WaitUntil,
} from '../../../packages/kit/src/rollout-inputs';

/** Everything ecs-deploy reads from its inputs, validated. */

export interface Inputs {
  cluster?: string;
  service: string;
  taskDefinition: DeploySource;
  images: Map<string, string>;
  environment: Map<string, Map<string, string>>;
  strategy?: DeploymentStrategy;
  bakeTimeMinutes?: number;
  waitUntil: WaitUntil | 'test-traffic';
  timeoutMs: number;
  codeDeploy: {
    application?: string;
    deploymentGroup?: string;
    config?: string;
    appSpec?: { path: string; json: unknown };
  };
  /** A CodeDeploy deployment id to send the go-ahead to (instead of deploying a revision). */
  continueDeployment?: string;
  desiredCount?: number;
  environmentName?: string;
  environmentUrl?: string;
  githubToken?: string;
  dryRun: boolean;
  /** False: register the revision only (`deploy: false`). */
  deploy: boolean;
  /** Several services (`service` has several lines): the release's services and lines. */
  release?: ReleaseInputs;
}

const STRATEGIES: Record<string, DeploymentStrategy> = {
  rolling: 'ROLLING',
  'blue-green': 'BLUE_GREEN',
  linear: 'LINEAR',
  canary: 'CANARY',
};
const CONTAINER_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const ENV_KEY = /^[A-Za-z0-9_-]{1,255}\.[^\s=]+$/;

/** Reads the JSON file an input names, relative to the workspace. */
function readJsonFile(
  p: InputParser,
  input: string,
  value: string,
  what: string,
): { kind: 'file'; path: string; json: unknown } {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const full = isAbsolute(value) ? value : resolve(workspace, value);
  if (!existsSync(full) || !statSync(full).isFile()) {
    throw new ConfigurationError(
      `Input \`${input}\`: file \`${value}\` was not found in the workspace (give a path to ${what}).`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(full, 'utf8'));
  } catch (error) {
    return p.fail(input, value, `a JSON file; it does not parse (${(error as Error).message})`);
  }
  return { kind: 'file', path: value, json };
}

/** Reads the task definition file named by `task-definition`, relative to the workspace. */
function readTaskDefinitionFile(
  p: InputParser,
  value: string,
): { kind: 'file'; path: string; json: unknown } {
  return readJsonFile(p, 'task-definition', value, 'a task definition JSON, or `current`');
}

/** Reads and parses the AppSpec file (YAML or JSON) named by `codedeploy-appspec`. */
function readAppSpecFile(value: string): { path: string; json: unknown } {
  const full = resolve(process.env.GITHUB_WORKSPACE || process.cwd(), value);
  if (!existsSync(full) || !statSync(full).isFile())
    throw new ConfigurationError(
      `Input \`codedeploy-appspec\`: file \`${value}\` was not found in the workspace (give a path to an ECS AppSpec in YAML or JSON).`,
    );
  try {
    return { path: value, json: parseAppSpec(readFileSync(full, 'utf8'), value) };
  } catch (error) {
    throw phrased(error);
  }
}

const NOT_FOR_CODEDEPLOY = {
  strategy: 'strategy',
  bakeTimeMinutes: 'bake-time',
  desiredCount: 'desired-count',
} as const;

const INPUT_OF = { images: 'container-images', environment: 'environment-variables' } as const;

/**
 * Phrases what the deploy found wrong in the configuration (it states facts) with the inputs
 * that asked for it; any other error is returned as it is.
 */
export function phrased(error: unknown, cluster?: string): unknown {
  if (isAwsError(error) && error.name === 'ClusterNotFoundException')
    return new ConfigurationError(
      `Input \`cluster\`: cluster \`${cluster ?? 'default'}\` was not found (${describeAwsError(error)}).`,
    );
  if (error instanceof UnknownContainerError) {
    return new ConfigurationError(
      `Input \`${INPUT_OF[error.option]}\` names container \`${error.container}\`, which ${error.source} does not have (it has ${error.have.map((n) => `\`${n}\``).join(', ')}).`,
    );
  }
  if (error instanceof ReleaseLineError)
    return new ConfigurationError(
      `Input \`${INPUT_OF[error.option]}\`, line \`${error.line}\`: ${error.message}`,
    );
  if (error instanceof UnknownTaskDefinitionError)
    return new ConfigurationError(`Input \`task-definition\`: ${error.message}`);
  if (error instanceof NoRunningRevisionError)
    return new ConfigurationError(`Input \`task-definition\` is \`current\`, but ${error.message}`);
  if (error instanceof NotForCodeDeployError)
    return new ConfigurationError(
      `Input \`${NOT_FOR_CODEDEPLOY[error.option]}\` does not apply: ${error.message}`,
    );
  if (error instanceof UnknownCodeDeployTargetError) {
    const input =
      error.which === 'application' ? 'codedeploy-application' : 'codedeploy-deployment-group';
    return new ConfigurationError(
      `Input \`${input}\` (\`${error.resourceName}\`${error.defaulted ? ', the default name' : ''}): ${error.message}`,
    );
  }
  if (error instanceof AppSpecFileError)
    return new ConfigurationError(
      error.source
        ? `Input \`codedeploy-appspec\`: file \`${error.source}\`: ${error.message}`
        : `Input \`codedeploy-appspec\` is needed: ${error.message}.`,
    );
  if (error instanceof UnknownCodeDeployDeploymentError)
    return new ConfigurationError(`Input \`continue-deployment\`: ${error.message}`);
  if (error instanceof TestTrafficWaitError)
    return new ConfigurationError(`Input \`wait-until\` is \`test-traffic\`, but ${error.message}`);
  return error;
}

/** `task-definition` for one service: `current`, a registered revision, or a file. */
function taskDefinitionSource(p: InputParser, value: string): DeploySource {
  if (value === 'current') return { kind: 'current' };
  if (isRegisteredRevision(value)) return { kind: 'registered', reference: value };
  return readTaskDefinitionFile(p, value);
}

/** The task definition, images and environment of one service (`service` with one line). */
function singleServiceInputs(
  p: InputParser,
): Pick<Inputs, 'taskDefinition' | 'continueDeployment' | 'images' | 'environment'> {
  const tdText = p.string('task-definition') ?? 'current';
  const taskDefinition = taskDefinitionSource(p, tdText);

  const continueDeployment = p.string('continue-deployment');
  if (continueDeployment !== undefined && !/^d-[A-Z0-9]{9}$/.test(continueDeployment))
    p.fail(
      'continue-deployment',
      continueDeployment,
      'a CodeDeploy deployment id such as `d-A1B2C3D4E`',
    );
  const images = p.map('container-images', { keyPattern: CONTAINER_NAME, keyForm: 'container' });
  if (continueDeployment !== undefined) {
    for (const input of [
      'container-images',
      'environment-variables',
      'codedeploy-appspec',
      'strategy',
      'bake-time',
      'desired-count',
    ])
      if (p.string(input) !== undefined)
        throw new ConfigurationError(
          `Input \`${input}\` does not apply with \`continue-deployment\`, which sends the go-ahead to a deployment already created.`,
        );
    if (taskDefinition.kind !== 'current')
      throw new ConfigurationError(
        'Input `task-definition` does not apply with `continue-deployment`, which sends the go-ahead to a deployment already created.',
      );
  } else if (taskDefinition.kind === 'registered') {
    for (const input of ['container-images', 'environment-variables'])
      if (p.string(input) !== undefined)
        throw new ConfigurationError(
          `Inputs \`task-definition\` and \`${input}\` are exclusive: \`task-definition\` names a registered revision (\`${tdText}\`), which is deployed as it is.`,
        );
  } else if (!images.size)
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
  return { taskDefinition, continueDeployment, images, environment };
}

/** Reads and validates every input; throws ConfigurationError naming the first bad one. */
export function getInputs(p = new InputParser()): Inputs {
  const cluster = p.string('cluster');
  const service = p.required('service');
  const serviceLines = splitLines(service);
  const release =
    serviceLines.length > 1
      ? getReleaseInputs(p, serviceLines, (value) => taskDefinitionSource(p, value))
      : undefined;
  const { taskDefinition, continueDeployment, images, environment } = release
    ? {
        taskDefinition: { kind: 'current' } as DeploySource,
        continueDeployment: undefined,
        images: new Map<string, string>(),
        environment: new Map<string, Map<string, string>>(),
      }
    : singleServiceInputs(p);

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
  // `test-traffic` is ecs-deploy's own (CodeDeploy); the other values are read as every rollout
  // reads them. A wrong value is refused listing all four.
  const testTraffic =
    p.choice('wait-until', ['stable', 'traffic-shifted', 'none', 'test-traffic'] as const) ===
    'test-traffic';
  const waited = testTraffic
    ? {
        waitUntil: 'test-traffic' as const,
        timeoutMs: p.duration('timeout', {
          default: '30m',
          min: 1000,
          max: 6 * 3_600_000,
        }) as number,
      }
    : getWaitInputs(p, '30m');
  const { waitUntil, timeoutMs } = waited;
  p.warnBareSeconds('timeout', 'm', 'minutes');
  if (continueDeployment !== undefined && waitUntil === 'test-traffic')
    throw new ConfigurationError(
      'Input `wait-until` is `test-traffic`, but `continue-deployment` sends the go-ahead past the test-traffic stop: use `stable`, `traffic-shifted` or `none`.',
    );
  const appSpecPath = p.string('codedeploy-appspec');
  const codeDeploy = {
    application: codeDeployName(p, 'codedeploy-application'),
    deploymentGroup: codeDeployName(p, 'codedeploy-deployment-group'),
    config: codeDeployName(p, 'codedeploy-config'),
    appSpec: appSpecPath ? readAppSpecFile(appSpecPath) : undefined,
  };
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
  if (!deploy && taskDefinition.kind === 'registered')
    throw new ConfigurationError(
      'Input `deploy` is `false`, but `task-definition` names a revision already registered: there is nothing to register.',
    );
  if (dryRun && continueDeployment !== undefined)
    throw new ConfigurationError(
      'Input `dry-run` does not apply with `continue-deployment`: the go-ahead is the only change it makes.',
    );

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
    codeDeploy,
    continueDeployment,
    desiredCount,
    environmentName,
    environmentUrl,
    githubToken,
    dryRun,
    deploy,
    release,
  };
}
