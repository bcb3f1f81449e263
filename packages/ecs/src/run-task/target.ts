import type {
  AssignPublicIp,
  CapacityProviderStrategyItem,
  ContainerDefinition,
  LaunchType,
  NetworkConfiguration,
  RunTaskCommandInput,
  TaskDefinition,
} from '@aws-sdk/client-ecs';
import { ConfigurationError, isAwsError } from '../../../kit/src/errors';
import { renderTaskDefinition, type SourceTaskDefinition } from '../task-definition';
import type { RunTaskEcs } from './api';

/** What a {@link RunTargetError} is about, so the action can name the input that set it. */
export type RunTargetField = 'service' | 'task-definition' | 'container' | 'network';

/** A mistake in what was asked to run, found while resolving it (before RunTask). */
export class RunTargetError extends ConfigurationError {
  constructor(
    readonly field: RunTargetField,
    message: string,
  ) {
    super(message);
    this.name = 'RunTargetError';
  }
}

/** Where the task definition to run comes from. */
export type TaskSource =
  | { kind: 'service'; service: string }
  /** `family`, `family:revision` or a task definition ARN. */
  | { kind: 'reference'; reference: string }
  /** A task definition file, rendered with `images` and registered as a new revision. */
  | { kind: 'file'; path: string; definition: SourceTaskDefinition; images: Map<string, string> };

/** Overrides of the awsvpc network configuration (each one replaces the service's value). */
export interface NetworkOverride {
  subnets?: string[];
  securityGroups?: string[];
  assignPublicIp?: boolean;
}

/** What to run, as the caller asked for it. */
export interface RunRequest {
  cluster?: string;
  source: TaskSource;
  /** The container the overrides apply to (and whose logs are followed); default the only or first essential one. */
  container?: string;
  command?: string[];
  environment: Map<string, string>;
  count: number;
  network?: NetworkOverride;
  startedBy: string;
  tags: Map<string, string>;
}

/** Where a container's `awslogs` driver writes. */
export interface AwslogsConfig {
  group: string;
  region: string;
  /** `awslogs-stream-prefix`; without it the stream is named after the Docker container id. */
  streamPrefix?: string;
}

/** What will run: the resolved task definition, container, logs, and the RunTask request. */
export interface RunTarget {
  taskDefinitionArn: string;
  /** `family:revision`. */
  taskDefinition: string;
  container: string;
  /** The containers whose exit ends the task (`essential`, the default). */
  essentialContainers: string[];
  /** The container's `awslogs` configuration; undefined when it logs elsewhere or nowhere. */
  awslogs?: AwslogsConfig;
  /** The log driver the container uses when it is not `awslogs`. */
  logDriver?: string;
  /** The service the definition and network came from. */
  service?: string;
  /** True when the revision was registered from a file for this run. */
  registered: boolean;
  input: RunTaskCommandInput;
}

/** The container overrides apply to: the named one, else the only one, else the first essential one. */
export function pickContainer(td: TaskDefinition, name: string | undefined): ContainerDefinition {
  const defs = td.containerDefinitions ?? [];
  const label = td.revision !== undefined ? `${td.family}:${td.revision}` : td.family;
  if (name) {
    const found = defs.find((c) => c.name === name);
    if (!found)
      throw new RunTargetError(
        'container',
        `Task definition \`${label}\` has no container \`${name}\` (it has ${defs.map((c) => `\`${c.name}\``).join(', ') || 'none'}).`,
      );
    return found;
  }
  const chosen = defs.length === 1 ? defs[0] : defs.find((c) => c.essential !== false);
  if (!chosen)
    throw new ConfigurationError(`Task definition \`${label}\` has no essential container.`);
  return chosen;
}

/** The `awslogs` configuration of a container, when it uses that driver. */
export function awslogsOf(
  def: ContainerDefinition,
  fallbackRegion: string,
): AwslogsConfig | undefined {
  const config = def.logConfiguration;
  if (config?.logDriver !== 'awslogs') return undefined;
  const options = config.options ?? {};
  if (!options['awslogs-group']) return undefined;
  return {
    group: options['awslogs-group'],
    region: options['awslogs-region'] || fallbackRegion,
    streamPrefix: options['awslogs-stream-prefix'] || undefined,
  };
}

/** The stream a task's container writes to: `<prefix>/<container>/<task id>`, as ECS names it. */
export function awslogsStreamName(
  awslogs: AwslogsConfig,
  container: string,
  taskArn: string,
): string | undefined {
  if (!awslogs.streamPrefix) return undefined;
  return `${awslogs.streamPrefix}/${container}/${taskId(taskArn)}`;
}

/** The id at the end of a task ARN. */
export function taskId(taskArn: string): string {
  return taskArn.split('/').pop() ?? taskArn;
}

function awsvpcWithoutSubnets(label: string): string {
  return `Task definition ${label} uses the awsvpc network mode, which needs subnets: none were given, and no service was named to take them from.`;
}

function mergeNetwork(
  base: NetworkConfiguration | undefined,
  override: NetworkOverride | undefined,
): NetworkConfiguration | undefined {
  const vpc = base?.awsvpcConfiguration;
  if (!vpc && !override?.subnets?.length) {
    if (override?.securityGroups?.length || override?.assignPublicIp !== undefined)
      throw new RunTargetError(
        'network',
        'Security groups and a public IP setting need subnets: none were given, and no service was named to take them from.',
      );
    return undefined;
  }
  const assign: AssignPublicIp | undefined =
    override?.assignPublicIp === undefined
      ? vpc?.assignPublicIp
      : override.assignPublicIp
        ? 'ENABLED'
        : 'DISABLED';
  return {
    awsvpcConfiguration: {
      subnets: override?.subnets?.length ? override.subnets : (vpc?.subnets ?? []),
      securityGroups: override?.securityGroups?.length
        ? override.securityGroups
        : vpc?.securityGroups,
      assignPublicIp: assign,
    },
  };
}

/**
 * Resolves what to run: the task definition (the service's current one, or the reference), the
 * container, its logs, and the RunTask request with the overrides, the network (the service's,
 * with the overrides) and the launch type or capacity providers (the service's, else FARGATE for
 * a FARGATE-only definition).
 */
export async function resolveRunTarget(
  ecs: RunTaskEcs,
  req: RunRequest,
  region: string,
): Promise<RunTarget> {
  let reference: string;
  let network: NetworkConfiguration | undefined;
  let launchType: LaunchType | undefined;
  let capacityProviderStrategy: CapacityProviderStrategyItem[] | undefined;
  let platformVersion: string | undefined;
  let service: string | undefined;
  if (req.source.kind === 'service') {
    const out = await ecs.describeServices({
      cluster: req.cluster,
      services: [req.source.service],
    });
    const svc = out.services?.find((s) => s.status !== 'INACTIVE');
    if (!svc?.taskDefinition)
      throw new RunTargetError(
        'service',
        `Service \`${req.source.service}\` was not found in cluster \`${req.cluster ?? 'default'}\`${out.failures?.[0]?.reason ? ` (${out.failures[0].reason})` : ''}.`,
      );
    service = svc.serviceName;
    reference = svc.taskDefinition;
    network = svc.networkConfiguration;
    launchType = svc.capacityProviderStrategy?.length ? undefined : svc.launchType;
    capacityProviderStrategy = svc.capacityProviderStrategy?.length
      ? svc.capacityProviderStrategy
      : undefined;
    platformVersion =
      svc.platformVersion && svc.platformVersion !== 'LATEST' ? svc.platformVersion : undefined;
  } else if (req.source.kind === 'reference') reference = req.source.reference;
  else reference = '';

  let td: TaskDefinition | undefined;
  if (req.source.kind === 'file') {
    const rendered = renderTaskDefinition(req.source.definition, {
      images: req.source.images,
      environment: new Map(),
      tags: [],
      source: `task definition file \`${req.source.path}\``,
    });
    // A mistake in the file registers nothing: check the container and the network first.
    const draft = rendered as TaskDefinition;
    pickContainer(draft, req.container);
    if (draft.networkMode === 'awsvpc' && !mergeNetwork(network, req.network))
      throw new RunTargetError('network', awsvpcWithoutSubnets(`\`${req.source.path}\``));
    td = (await ecs.registerTaskDefinition(rendered)).taskDefinition;
  } else
    td = (
      await ecs.describeTaskDefinition({ taskDefinition: reference }).catch((error: unknown) => {
        // ECS answers an unknown family or revision with a ClientException.
        if (isAwsError(error) && error.name === 'ClientException' && req.source.kind !== 'service')
          throw new RunTargetError(
            'task-definition',
            `\`${reference}\` is not a registered task definition (ECS: ${error.message ?? 'ClientException'}).`,
          );
        throw error;
      })
    ).taskDefinition;
  if (!td?.taskDefinitionArn)
    throw new RunTargetError('task-definition', `Task definition \`${reference}\` was not found.`);
  const container = pickContainer(td, req.container);
  if (!launchType && !capacityProviderStrategy) {
    const compat = td.requiresCompatibilities ?? [];
    if (compat.length === 1 && compat[0] === 'FARGATE') launchType = 'FARGATE';
  }
  const networkConfiguration = mergeNetwork(network, req.network);
  if (td.networkMode === 'awsvpc' && !networkConfiguration)
    throw new RunTargetError('network', awsvpcWithoutSubnets(`\`${td.family}:${td.revision}\``));
  const overrideEnv = [...req.environment].map(([name, value]) => ({ name, value }));
  const hasOverride = req.command !== undefined || overrideEnv.length > 0;
  const input: RunTaskCommandInput = {
    cluster: req.cluster,
    taskDefinition: td.taskDefinitionArn,
    count: req.count,
    startedBy: req.startedBy,
    launchType,
    capacityProviderStrategy,
    platformVersion,
    networkConfiguration,
    overrides: hasOverride
      ? {
          containerOverrides: [
            {
              name: container.name,
              ...(req.command !== undefined ? { command: req.command } : {}),
              ...(overrideEnv.length ? { environment: overrideEnv } : {}),
            },
          ],
        }
      : undefined,
    tags: req.tags.size ? [...req.tags].map(([key, value]) => ({ key, value })) : undefined,
  };
  const awslogs = awslogsOf(container, region);
  return {
    taskDefinitionArn: td.taskDefinitionArn,
    taskDefinition: `${td.family}:${td.revision}`,
    container: container.name!,
    essentialContainers: (td.containerDefinitions ?? [])
      .filter((c) => c.essential !== false)
      .map((c) => c.name!),
    awslogs,
    logDriver: awslogs ? undefined : container.logConfiguration?.logDriver,
    service,
    registered: req.source.kind === 'file',
    input,
  };
}

/** The AWS console's address of a log stream (the console encodes names twice, `%` as `$`). */
export function logStreamConsoleUrl(region: string, group: string, stream: string): string {
  const enc = (s: string): string => encodeURIComponent(encodeURIComponent(s)).replace(/%/g, '$');
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${enc(group)}/log-events/${enc(stream)}`;
}
