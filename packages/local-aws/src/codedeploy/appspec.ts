/** Reads the AppSpec of an ECS deployment (YAML or JSON content) into what the rollout needs. */
import { parse } from 'yaml';
import { AwsError } from '../contracts';
import type { AppSpec } from './model';

/** The lifecycle events an ECS AppSpec may name a hook for. */
export const HOOK_EVENTS = [
  'BeforeInstall',
  'AfterInstall',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
] as const;

const invalid = (message: string): AwsError =>
  new AwsError('InvalidRevisionException', `The AppSpec is not valid: ${message}`);

/** The AppSpec's `NetworkConfiguration` (PascalCase) as ECS takes it (camelCase). */
function networkConfiguration(v: unknown): unknown {
  const vpc = (v as { AwsvpcConfiguration?: Record<string, unknown> } | undefined)
    ?.AwsvpcConfiguration;
  if (!vpc) return undefined;
  return {
    awsvpcConfiguration: {
      subnets: vpc.Subnets,
      securityGroups: vpc.SecurityGroups,
      assignPublicIp: vpc.AssignPublicIp,
    },
  };
}

/**
 * Parses AppSpec content (JSON is YAML too): `Resources[0].TargetService` of type
 * `AWS::ECS::Service` with `Properties.TaskDefinition` and `LoadBalancerInfo.ContainerName` /
 * `ContainerPort`, and optional `Hooks` (a list of `{ <event>: <Lambda function> }`).
 */
export function parseAppSpec(content: unknown): AppSpec {
  if (typeof content !== 'string' || !content.trim())
    throw new AwsError('RevisionRequiredException', 'The revision must include AppSpec content.');
  let doc: unknown;
  try {
    doc = parse(content);
  } catch (error) {
    throw invalid(`it is neither YAML nor JSON (${(error as Error).message.split('\n')[0]}).`);
  }
  const root = (doc ?? {}) as Record<string, unknown>;
  const resources = root.Resources;
  if (!Array.isArray(resources) || !resources.length)
    throw invalid('`Resources` must list the target service.');
  const entry = Object.values((resources[0] ?? {}) as Record<string, unknown>)[0] as
    { Type?: unknown; Properties?: Record<string, unknown> } | undefined;
  if (!entry || entry.Type !== 'AWS::ECS::Service')
    throw invalid('the resource must be of `Type: AWS::ECS::Service`.');
  const props = entry.Properties ?? {};
  const taskDefinition = props.TaskDefinition;
  if (typeof taskDefinition !== 'string' || !taskDefinition)
    throw invalid('`Properties.TaskDefinition` must name the task definition.');
  const lb = (props.LoadBalancerInfo ?? {}) as Record<string, unknown>;
  const containerName = lb.ContainerName;
  const containerPort = Number(lb.ContainerPort);
  if (typeof containerName !== 'string' || !containerName)
    throw invalid('`Properties.LoadBalancerInfo.ContainerName` must be set.');
  if (!Number.isInteger(containerPort) || containerPort < 1 || containerPort > 65535)
    throw invalid('`Properties.LoadBalancerInfo.ContainerPort` must be a port number.');
  const hooks: Record<string, string> = {};
  if (root.Hooks !== undefined && root.Hooks !== null) {
    if (!Array.isArray(root.Hooks)) throw invalid('`Hooks` must be a list.');
    for (const h of root.Hooks as Record<string, unknown>[]) {
      for (const [event, fn] of Object.entries(h ?? {})) {
        if (!(HOOK_EVENTS as readonly string[]).includes(event))
          throw invalid(`\`${event}\` is not a hook event of an ECS deployment.`);
        if (typeof fn !== 'string' || !fn)
          throw invalid(`the \`${event}\` hook must name a Lambda function.`);
        hooks[event] = fn;
      }
    }
  }
  return {
    taskDefinition,
    containerName,
    containerPort,
    platformVersion: typeof props.PlatformVersion === 'string' ? props.PlatformVersion : undefined,
    networkConfiguration: networkConfiguration(props.NetworkConfiguration),
    hooks,
  };
}
