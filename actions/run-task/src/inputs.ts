import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { InputParser } from '../../../packages/kit/src/inputs';
import { parseImageRef } from '../../../packages/ecs/src/image-ref';
import {
  checkContainers,
  loadTaskDefinitionJson,
  UnknownContainerError,
} from '../../../packages/ecs/src/task-definition';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import type {
  NetworkOverride,
  RunRequest,
  TaskSource,
} from '../../../packages/ecs/src/run-task/target';
import { parseCommand } from './command';

/** Everything run-task reads from its inputs, validated: what to run, and how long to wait where. */

export interface Inputs extends RunRequest {
  timeoutMs: number;
  region: string;
}

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const SERVICE =
  /^([A-Za-z0-9_-]{1,255}|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service\/[A-Za-z0-9_/-]+)$/;
const TASK_DEFINITION =
  /^([A-Za-z0-9_-]{1,255}(:\d+)?|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}:\d+)$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const STARTED_BY = /^[A-Za-z0-9_/-]{1,128}$/;

function getNetwork(p: InputParser): NetworkOverride | undefined {
  const entries = p.map('network-configuration', {
    keyPattern: /^(subnets|security-groups|assign-public-ip)$/,
    keyForm: 'subnets|security-groups|assign-public-ip',
  });
  if (!entries.size) return undefined;
  const ids = (key: string, prefix: string): string[] | undefined => {
    const value = entries.get(key);
    if (value === undefined) return undefined;
    const list = value.split(/[\s,]+/).filter(Boolean);
    const bad = list.find((id) => !new RegExp(`^${prefix}-[A-Za-z0-9]+$`).test(id));
    if (!list.length || bad !== undefined)
      p.fail(
        'network-configuration',
        `${key}=${value}`,
        `\`${key}=\` followed by comma-separated \`${prefix}-…\` ids`,
      );
    return list;
  };
  const publicIp = entries.get('assign-public-ip');
  if (publicIp !== undefined && publicIp !== 'true' && publicIp !== 'false')
    p.fail(
      'network-configuration',
      `assign-public-ip=${publicIp}`,
      '`assign-public-ip=true` or `assign-public-ip=false`',
    );
  return {
    subnets: ids('subnets', 'subnet'),
    securityGroups: ids('security-groups', 'sg'),
    assignPublicIp: publicIp === undefined ? undefined : publicIp === 'true',
  };
}

/** A task definition file (`….json`, relative to the workspace) with the images to render into it. */
function getTaskDefinitionFile(p: InputParser, path: string): TaskSource {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const full = isAbsolute(path) ? path : resolve(workspace, path);
  if (!existsSync(full) || !statSync(full).isFile())
    throw new ConfigurationError(
      `Input \`task-definition\`: file \`${path}\` was not found in the workspace (give a path to a task definition JSON, a family, \`family:revision\` or an ARN).`,
    );
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(full, 'utf8'));
  } catch (error) {
    return p.fail(
      'task-definition',
      path,
      `a JSON file; it does not parse (${(error as Error).message})`,
    );
  }
  const definition = loadTaskDefinitionJson(json, `Task definition file \`${path}\``);
  const images = p.map('container-images', { keyPattern: NAME, keyForm: 'container' });
  for (const [container, image] of images)
    if (!parseImageRef(image))
      p.fail(
        'container-images',
        `${container}=${image}`,
        'one `container=image` per line, each image a reference such as `registry/repo:tag` or `registry/repo@sha256:<64 hex>`',
      );
  try {
    checkContainers(definition.definition, images, new Map(), `task definition file \`${path}\``);
  } catch (error) {
    if (!(error instanceof UnknownContainerError)) throw error;
    throw new ConfigurationError(
      `Input \`container-images\` names container \`${error.container}\`, which ${error.source} does not have (it has ${error.have.map((n) => `\`${n}\``).join(', ')}).`,
    );
  }
  return { kind: 'file', path, definition, images };
}

function getTags(p: InputParser): Map<string, string> {
  const tags = p.map('tags', { keyPattern: /^[^\s=]{1,128}$/, keyForm: 'key' });
  if (tags.size > 50)
    throw new ConfigurationError('Input `tags` has more than 50 tags, the most ECS accepts.');
  for (const [key, value] of tags) {
    if (/^aws:/i.test(key))
      p.fail('tags', key, 'tags whose keys do not start with `aws:` (reserved for AWS)');
    if (value.length > 256)
      p.fail('tags', `${key}=${value}`, 'tags whose values have at most 256 characters');
  }
  return tags;
}

/** Reads and validates every input; throws ConfigurationError naming the first bad one. */
export function getInputs(p = new InputParser()): Inputs {
  const cluster = p.string('cluster');
  if (
    cluster &&
    !/^([A-Za-z0-9_-]{1,255}|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255})$/.test(
      cluster,
    )
  )
    p.fail('cluster', cluster, 'a cluster name or ARN');
  const service = p.string('service');
  const taskDefinition = p.string('task-definition');
  if (service && taskDefinition)
    throw new ConfigurationError(
      'Inputs `service` and `task-definition` are exclusive: give `service` to run its current task definition with its network, or `task-definition`.',
    );
  if (!service && !taskDefinition)
    throw new ConfigurationError(
      'Input `task-definition` (a family, `family:revision`, an ARN or a `.json` file) or `service` is required.',
    );
  let source: TaskSource;
  if (service) {
    if (!SERVICE.test(service)) p.fail('service', service, 'a service name or ARN');
    source = { kind: 'service', service };
  } else if (taskDefinition!.endsWith('.json')) {
    source = getTaskDefinitionFile(p, taskDefinition!);
  } else {
    if (!TASK_DEFINITION.test(taskDefinition!))
      p.fail(
        'task-definition',
        taskDefinition!,
        'a task definition family, `family:revision` or ARN',
      );
    source = { kind: 'reference', reference: taskDefinition! };
  }
  if (source.kind !== 'file' && p.string('container-images'))
    throw new ConfigurationError(
      'Input `container-images` applies to a task definition file (`task-definition: ….json`) only.',
    );
  const container = p.string('container');
  if (container && !NAME.test(container)) p.fail('container', container, 'a container name');

  const commandText = p.string('command');
  let command: string[] | undefined;
  if (commandText !== undefined) {
    const parsed = parseCommand(commandText);
    if ('error' in parsed) p.fail('command', commandText, parsed.error);
    else command = parsed.argv;
  }
  const environment = p.map('environment-variables', { keyPattern: ENV_NAME, keyForm: 'NAME' });
  const count = p.int('count', { default: 1, min: 1, max: 10 }) as number;
  p.warnBareSeconds('timeout', 'm', 'minutes');
  const timeoutMs = p.duration('timeout', {
    default: '30m',
    min: 1000,
    max: 6 * 3_600_000,
  }) as number;
  const network = getNetwork(p);
  const runId = process.env.GITHUB_RUN_ID;
  const startedBy = p.string('started-by') ?? `shipkit/${runId || 'local'}`;
  if (!STARTED_BY.test(startedBy))
    p.fail('started-by', startedBy, 'at most 128 letters, digits, `-`, `_` and `/`');
  const tags = getTags(p);

  const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  if (!region)
    throw new ConfigurationError(
      'No AWS region: set the AWS_REGION environment variable (aws-actions/configure-aws-credentials sets it).',
    );
  return {
    cluster,
    source,
    container,
    command,
    environment,
    count,
    timeoutMs,
    network,
    startedBy,
    tags,
    region,
  };
}
