// The AppSpec a CodeDeploy ECS deployment is created with: the user's file (hooks and extra
// settings), with the new task definition and the load-balanced container filled in.
import { ConfigurationError } from '../../../kit/src/errors';
import { AppSpecFileError } from './errors';

/** The AppSpec file is not one shipkit can fill in; the message states what is wrong. */
export class AppSpecError extends ConfigurationError {
  constructor(message: string) {
    super(message);
    this.name = 'AppSpecError';
  }
}

/** What shipkit fills in. */
export interface AppSpecFill {
  /** The revision registered for this deployment: always the one deployed. */
  taskDefinitionArn: string;
  /** The service's load-balanced container (its first load balancer), when it has one. */
  containerName?: string;
  containerPort?: number;
}

/** An AppSpec as an object, and what filling it did. */
export interface FilledAppSpec {
  appSpec: Record<string, unknown>;
  /** One sentence per value shipkit set or kept, for the log. */
  notes: string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Fills in an ECS AppSpec: `TaskDefinition` is always the registered revision (a different
 * value in the file is replaced and noted); `LoadBalancerInfo.ContainerName` and
 * `ContainerPort` come from the file when it sets them, else from the service's load balancer.
 * Everything else in the file (hooks, platform version, network configuration) is kept.
 * Throws {@link AppSpecError} for a file that is not an ECS AppSpec of one target service.
 */
export function fillAppSpec(file: unknown, fill: AppSpecFill): FilledAppSpec {
  const notes: string[] = [];
  const spec: Record<string, unknown> = file === undefined ? { version: 0.0 } : cloneObject(file);
  if (spec.version === undefined) spec.version = 0.0;
  const resources = spec.Resources ?? [{ TargetService: {} }];
  if (!Array.isArray(resources) || resources.length !== 1 || !isObject(resources[0]))
    throw new AppSpecError('`Resources` must list exactly one `TargetService`.');
  const target = resources[0].TargetService ?? {};
  if (!isObject(target)) throw new AppSpecError('`Resources[0].TargetService` must be an object.');
  if (target.Type !== undefined && target.Type !== 'AWS::ECS::Service')
    throw new AppSpecError(
      `\`TargetService.Type\` is \`${String(target.Type)}\`; an ECS deployment needs \`AWS::ECS::Service\`.`,
    );
  const properties = target.Properties ?? {};
  if (!isObject(properties))
    throw new AppSpecError('`TargetService.Properties` must be an object.');
  const lb = properties.LoadBalancerInfo ?? {};
  if (!isObject(lb))
    throw new AppSpecError('`TargetService.Properties.LoadBalancerInfo` must be an object.');

  const givenTd = properties.TaskDefinition;
  if (typeof givenTd === 'string' && givenTd !== '' && givenTd !== fill.taskDefinitionArn)
    notes.push(`TaskDefinition \`${givenTd}\` in the file is replaced by the registered revision.`);

  let containerName = lb.ContainerName;
  if (containerName === undefined || containerName === '') {
    if (!fill.containerName)
      throw new AppSpecError(
        'it sets no `LoadBalancerInfo.ContainerName` and the service has no load balancer to take it from.',
      );
    containerName = fill.containerName;
    notes.push(`ContainerName \`${fill.containerName}\` from the service's load balancer.`);
  } else if (typeof containerName !== 'string') {
    throw new AppSpecError('`LoadBalancerInfo.ContainerName` must be a string.');
  }
  let containerPort = lb.ContainerPort;
  if (containerPort === undefined || containerPort === '') {
    if (fill.containerPort === undefined)
      throw new AppSpecError(
        'it sets no `LoadBalancerInfo.ContainerPort` and the service has no load balancer to take it from.',
      );
    containerPort = fill.containerPort;
    notes.push(`ContainerPort ${fill.containerPort} from the service's load balancer.`);
  } else if (
    !Number.isInteger(Number(containerPort)) ||
    Number(containerPort) < 1 ||
    Number(containerPort) > 65535
  ) {
    throw new AppSpecError(
      `\`LoadBalancerInfo.ContainerPort\` is \`${String(containerPort)}\`; it must be a port number.`,
    );
  } else {
    containerPort = Number(containerPort);
  }

  spec.Resources = [
    {
      ...resources[0],
      TargetService: {
        ...target,
        Type: 'AWS::ECS::Service',
        Properties: {
          ...properties,
          TaskDefinition: fill.taskDefinitionArn,
          LoadBalancerInfo: { ...lb, ContainerName: containerName, ContainerPort: containerPort },
        },
      },
    },
  ];
  return { appSpec: spec, notes };
}

function cloneObject(file: unknown): Record<string, unknown> {
  if (!isObject(file))
    throw new AppSpecError('it must be an object with `version` and `Resources`.');
  return JSON.parse(JSON.stringify(file)) as Record<string, unknown>;
}

/** Where a parse error is in the text: `line L, column C`, counted from 1. */
function position(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `line ${line}, column ${offset - before.lastIndexOf('\n')}`;
}

/** Loads the YAML parser on first use: a JSON AppSpec never needs it. */
function yamlParse(text: string): unknown {
  // A synchronous load: inputs are read (and this file checked) before any AWS call.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parse } = require('yaml') as typeof import('yaml');
  return parse(text, { prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
}

/**
 * Parses the text of an AppSpec file, YAML or JSON as CodeDeploy accepts both, into the
 * mapping {@link fillAppSpec} fills in. JSON is read without loading the YAML parser. Throws
 * {@link AppSpecFileError} naming `fileName`: a syntax error with its line and column, a file
 * that is not a mapping with what it holds; never the text of the file.
 */
export function parseAppSpec(text: string, fileName: string): Record<string, unknown> {
  let doc: unknown;
  let parsed = false;
  if (/^\s*\{/.test(text)) {
    try {
      doc = JSON.parse(text);
      parsed = true;
    } catch {
      // Not strict JSON: YAML reads JSON too and says where a syntax error is.
    }
  }
  if (!parsed) {
    try {
      doc = yamlParse(text);
    } catch (error) {
      const e = error as { code?: string; pos?: [number, number] };
      const where: string[] = [];
      if (e.pos) where.push(position(text, e.pos[0]));
      if (e.code) where.push(e.code);
      throw new AppSpecFileError(
        fileName,
        `it is not valid YAML or JSON${where.length ? ` (${where.join(': ')})` : ''}.`,
      );
    }
  }
  if (!isObject(doc)) {
    const what =
      doc === null || doc === undefined
        ? 'nothing'
        : Array.isArray(doc)
          ? 'a list'
          : `a ${typeof doc}`;
    throw new AppSpecFileError(
      fileName,
      `it holds ${what}; an AppSpec is a mapping with \`version\` and \`Resources\`.`,
    );
  }
  return doc;
}
