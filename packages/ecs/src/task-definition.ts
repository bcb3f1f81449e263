import type {
  ContainerDefinition,
  KeyValuePair,
  RegisterTaskDefinitionCommandInput,
  Tag,
  TaskDefinition,
} from '@aws-sdk/client-ecs';
import { ConfigurationError } from '../../kit/src/errors';
import { redactUrl } from '../../kit/src/redact';
import { parseImageRef } from './image-ref';

/** Tag keys shipkit writes on the task definition revisions it registers. */
export const TAGS = {
  /** The commit the revision was deployed from. */
  gitSha: 'shipkit:git-sha',
  /** `owner/repo/actions/runs/<id>` of the workflow run that registered the revision. */
  workflowRun: 'shipkit:workflow-run',
  /** Prefix of one tag per container whose image shipkit set: the image digest or reference. */
  imagePrefix: 'shipkit:image:',
  /** When a shipkit rollback moved a service away from this revision (ISO time). */
  rolledBackAt: 'shipkit:rolled-back-at',
  /** The revision (`family:revision`) that rollback went to. */
  rolledBackTo: 'shipkit:rolled-back-to',
  /** The service deployment of that rollback: the mark holds unless ECS undid it. */
  rolledBackBy: 'shipkit:rolled-back-by',
} as const;

/** Fields DescribeTaskDefinition returns that RegisterTaskDefinition does not accept. */
export const READ_ONLY_FIELDS = [
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
  'deleteRequestedAt',
] as const;

/** A task definition as read from a file or from ECS, ready to render. */
export interface SourceTaskDefinition {
  /** The registrable part (read-only fields removed). */
  definition: RegisterTaskDefinitionCommandInput;
  /** Tags that came with it (a file's `tags`, or the live revision's tags). */
  tags: Tag[];
  /** Read-only fields that were present and dropped. */
  readOnlyDropped: string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Accepts a task definition JSON the way users keep them: the RegisterTaskDefinition shape, or
 * the output of `aws ecs describe-task-definition` (`{ taskDefinition, tags }`). Drops read-only
 * fields and checks the minimum shape. `source` names the file or revision in errors.
 */
export function loadTaskDefinitionJson(json: unknown, source: string): SourceTaskDefinition {
  let body: unknown = json;
  let tags: Tag[] = [];
  if (isObject(json) && isObject(json.taskDefinition) && json.family === undefined) {
    body = json.taskDefinition;
    if (Array.isArray(json.tags)) tags = json.tags as Tag[];
  }
  if (!isObject(body)) {
    throw new ConfigurationError(`${source} must hold a JSON object (a task definition).`);
  }
  const copy: Record<string, unknown> = { ...body };
  const readOnlyDropped: string[] = [];
  for (const field of READ_ONLY_FIELDS) {
    if (field in copy) {
      readOnlyDropped.push(field);
      delete copy[field];
    }
  }
  if (Array.isArray(copy.tags)) {
    tags = [...tags, ...(copy.tags as Tag[])];
  }
  delete copy.tags;
  if (typeof copy.family !== 'string' || !copy.family) {
    throw new ConfigurationError(`${source} has no \`family\`.`);
  }
  const containers = copy.containerDefinitions;
  if (!Array.isArray(containers) || containers.length === 0) {
    throw new ConfigurationError(`${source} has no \`containerDefinitions\`.`);
  }
  containers.forEach((c, i) => {
    if (!isObject(c) || typeof c.name !== 'string' || !c.name) {
      throw new ConfigurationError(`${source}: container definition ${i + 1} has no \`name\`.`);
    }
  });
  return {
    definition: copy as unknown as RegisterTaskDefinitionCommandInput,
    tags,
    readOnlyDropped,
  };
}

/** The registrable part of a described task definition, with its tags. */
export function fromDescribed(td: TaskDefinition, tags: Tag[] = []): SourceTaskDefinition {
  return loadTaskDefinitionJson(
    { taskDefinition: td, tags },
    `task definition ${td.taskDefinitionArn ?? td.family}`,
  );
}

/** What to change while rendering. */
export interface RenderOptions {
  /** Container name → image. */
  images: Map<string, string>;
  /** Container name → variable name → value. */
  environment: Map<string, Map<string, string>>;
  /** Tags to set on the new revision, overriding those that came with the source. */
  tags: Tag[];
  /** Names the task definition in errors (`task-definition.json`, `the running revision`). */
  source: string;
}

/** Names of the containers of a task definition. */
export function containerNames(def: { containerDefinitions?: ContainerDefinition[] }): string[] {
  return (def.containerDefinitions ?? []).map((c) => c.name ?? '');
}

/**
 * A container named for an image or environment variables is not in the task definition. The
 * message states the facts; the action says which input named the container.
 */
export class UnknownContainerError extends ConfigurationError {
  constructor(
    /** Which option named it: the images, or the environment variables. */
    readonly option: 'images' | 'environment',
    readonly container: string,
    /** Describes the task definition (`task definition file \`td.json\``). */
    readonly source: string,
    /** The containers the task definition has. */
    readonly have: string[],
  ) {
    super(
      `container \`${container}\` is not in ${source} (it has ${have.map((n) => `\`${n}\``).join(', ')}).`,
    );
    this.name = 'UnknownContainerError';
  }
}

/**
 * Checks that every container named by `images` and `environment` exists in `def`; throws an
 * {@link UnknownContainerError} with the containers that do exist.
 */
export function checkContainers(
  def: { containerDefinitions?: ContainerDefinition[] },
  images: Map<string, string>,
  environment: Map<string, Map<string, string>>,
  source: string,
): void {
  const names = containerNames(def);
  for (const [option, keys] of [
    ['images', [...images.keys()]],
    ['environment', [...environment.keys()]],
  ] as const) {
    for (const name of keys) {
      if (!names.includes(name)) throw new UnknownContainerError(option, name, source, names);
    }
  }
}

/** Merges tag lists: later lists win by key; AWS-reserved tags and stale rollback marks are dropped. */
export function mergeTags(...lists: Tag[][]): Tag[] {
  const byKey = new Map<string, string>();
  for (const list of lists) {
    for (const tag of list) {
      if (!tag.key || tag.key.startsWith('aws:')) continue;
      byKey.set(tag.key, tag.value ?? '');
    }
  }
  byKey.delete(TAGS.rolledBackAt);
  byKey.delete(TAGS.rolledBackTo);
  return [...byKey].map(([key, value]) => ({ key, value }));
}

/**
 * Renders the revision to register: the source with its images and environment variables set
 * and its tags merged. Never mutates the source. Throws {@link UnknownContainerError} for unknown
 * containers.
 */
export function renderTaskDefinition(
  source: SourceTaskDefinition,
  opts: RenderOptions,
): RegisterTaskDefinitionCommandInput {
  const def = structuredClone(source.definition);
  checkContainers(def, opts.images, opts.environment, opts.source);
  for (const container of def.containerDefinitions ?? []) {
    const name = container.name ?? '';
    const image = opts.images.get(name);
    if (image) container.image = image;
    const vars = opts.environment.get(name);
    if (vars?.size) {
      const env: KeyValuePair[] = [...(container.environment ?? [])];
      for (const [key, value] of vars) {
        const existing = env.find((e) => e.name === key);
        if (existing) existing.value = value;
        else env.push({ name: key, value });
      }
      container.environment = env;
    }
  }
  const tags = mergeTags(source.tags, opts.tags);
  if (tags.length > 50) {
    throw new ConfigurationError(
      `${opts.source} would carry ${tags.length} tags; ECS allows 50 per task definition.`,
    );
  }
  def.tags = tags.length ? tags : undefined;
  return def;
}

/** The tags ecs-deploy writes so a revision can be traced back (and rolled back to) later. */
export function provenanceTags(info: {
  gitSha?: string;
  workflowRun?: string;
  images: Map<string, string>;
}): Tag[] {
  const tags: Tag[] = [];
  if (info.gitSha) tags.push({ key: TAGS.gitSha, value: info.gitSha });
  if (info.workflowRun) tags.push({ key: TAGS.workflowRun, value: info.workflowRun.slice(0, 256) });
  for (const [container, image] of info.images) {
    const ref = parseImageRef(image);
    const value = ref?.digest ?? image;
    tags.push({ key: `${TAGS.imagePrefix}${container}`.slice(0, 128), value: value.slice(0, 256) });
  }
  return tags;
}

/** Reads one tag's value. */
export function tagValue(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.key === key)?.value;
}

const CONTAINER_DEFAULTS: Record<string, unknown> = { essential: true, cpu: 0 };

function canonical(value: unknown, key?: string, parent?: Record<string, unknown>): unknown {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    const items = value.map((v) => canonical(v)).filter((v) => v !== undefined);
    if (!items.length) return undefined;
    if (key === 'environment' || key === 'secrets') {
      return [...items].sort((a, b) =>
        String((a as { name?: string }).name).localeCompare(String((b as { name?: string }).name)),
      );
    }
    return items;
  }
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = canonical(value[k], k, value);
      if (v === undefined) continue;
      if (k === 'protocol' && v === 'tcp') continue;
      if (k === 'hostPort' && v === value.containerPort) continue;
      out[k] = v;
    }
    return Object.keys(out).length ? out : undefined;
  }
  void parent;
  return value;
}

function canonicalDefinition(def: RegisterTaskDefinitionCommandInput | TaskDefinition): string {
  const copy: Record<string, unknown> = { ...(def as Record<string, unknown>) };
  for (const field of [...READ_ONLY_FIELDS, 'tags']) delete copy[field];
  copy.containerDefinitions = (def.containerDefinitions ?? []).map((c) => {
    const container: Record<string, unknown> = { ...c };
    for (const [k, v] of Object.entries(CONTAINER_DEFAULTS))
      if (container[k] === v) delete container[k];
    return container;
  });
  return JSON.stringify(canonical(copy));
}

/**
 * True when registering `next` would give the same task as `running` (tags aside): equal after
 * dropping read-only fields, empty values and the defaults ECS fills in.
 */
export function sameTaskDefinition(
  next: RegisterTaskDefinitionCommandInput,
  running: TaskDefinition | RegisterTaskDefinitionCommandInput,
): boolean {
  return canonicalDefinition(next) === canonicalDefinition(running);
}

/** One difference between two revisions, for logs and the summary. */
export interface DefinitionChange {
  kind: 'family' | 'image' | 'environment' | 'cpu' | 'memory' | 'container' | 'other';
  container?: string;
  name?: string;
  from?: string;
  to?: string;
}

function envMap(c: ContainerDefinition | undefined): Map<string, string> {
  return new Map((c?.environment ?? []).map((e) => [e.name ?? '', e.value ?? '']));
}

/**
 * What changed from `previous` to `next`: the family, images, environment variables and
 * cpu/memory per container and for the task, containers added or removed, and (as `other`) any
 * other field.
 */
export function diffTaskDefinitions(
  previous: TaskDefinition | RegisterTaskDefinitionCommandInput | undefined,
  next: RegisterTaskDefinitionCommandInput,
): DefinitionChange[] {
  const changes: DefinitionChange[] = [];
  if (previous?.family && next.family && previous.family !== next.family)
    changes.push({ kind: 'family', from: previous.family, to: next.family });
  const prevContainers = new Map(
    (previous?.containerDefinitions ?? []).map((c) => [c.name ?? '', c]),
  );
  const nextContainers = new Map((next.containerDefinitions ?? []).map((c) => [c.name ?? '', c]));
  for (const [field, kind] of [
    ['cpu', 'cpu'],
    ['memory', 'memory'],
  ] as const) {
    const from = previous?.[field];
    const to = next[field];
    if (String(from ?? '') !== String(to ?? ''))
      changes.push({ kind, from: from ?? undefined, to: to ?? undefined });
  }
  for (const [name, c] of nextContainers) {
    const p = prevContainers.get(name);
    if (!p) {
      changes.push({ kind: 'container', container: name, to: c.image });
      continue;
    }
    if (p.image !== c.image)
      changes.push({ kind: 'image', container: name, from: p.image, to: c.image });
    for (const [field, kind] of [
      ['cpu', 'cpu'],
      ['memory', 'memory'],
    ] as const) {
      const from = p[field];
      const to = c[field];
      if ((from ?? 0) !== (to ?? 0)) {
        changes.push({
          kind,
          container: name,
          from: from === undefined ? undefined : String(from),
          to: to === undefined ? undefined : String(to),
        });
      }
    }
    const before = envMap(p);
    const after = envMap(c);
    for (const [key, value] of after) {
      if (before.get(key) !== value) {
        changes.push({
          kind: 'environment',
          container: name,
          name: key,
          from: before.get(key),
          to: value,
        });
      }
    }
    for (const [key, value] of before) {
      if (!after.has(key))
        changes.push({ kind: 'environment', container: name, name: key, from: value });
    }
  }
  for (const [name, c] of prevContainers) {
    if (!nextContainers.has(name))
      changes.push({ kind: 'container', container: name, from: c.image });
  }
  if (previous && !changes.length && !sameTaskDefinition(next, previous)) {
    changes.push({ kind: 'other' });
  }
  return changes;
}

/** Names of environment variables whose values are credentials: the change list hides them. */
const CREDENTIAL_NAME =
  /token|secret|password|passwd|pwd|key|signature|auth|credential|private|cookie/i;

/**
 * An environment value as the log may show it: a URL without its user name, password and
 * credential query parameters (which are also registered as secrets), anything else as it is.
 */
function shownValue(value: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrl(value) : value;
}

/**
 * One line per change, e.g. `web image: repo:v1 → repo:v2`, `web env LOG_LEVEL: info → debug`.
 * Environment values of credential-like names are hidden and URLs lose their credentials: a
 * literal value in a task definition file is not masked by the runner.
 */
export function describeChange(change: DefinitionChange): string {
  const short = (v?: string): string =>
    v === undefined ? '(none)' : v.length > 80 ? `${v.slice(0, 77)}…` : v;
  const where = change.container ? `${change.container} ` : 'task ';
  switch (change.kind) {
    case 'family':
      return `task family: ${short(change.from)} → ${short(change.to)} (a revision of another family)`;
    case 'image':
      return `${where}image: ${short(change.from)} → ${short(change.to)}`;
    case 'environment': {
      const name = change.name ?? '';
      if (change.to === undefined) return `${where}env ${name}: removed`;
      if (CREDENTIAL_NAME.test(name))
        return `${where}env ${name}: ${change.from === undefined ? 'added (value hidden)' : 'changed (values hidden)'}`;
      const to = short(shownValue(change.to));
      if (change.from === undefined) return `${where}env ${name}: added (${to})`;
      return `${where}env ${name}: ${short(shownValue(change.from))} → ${to}`;
    }
    case 'cpu':
    case 'memory':
      return `${where}${change.kind}: ${short(change.from)} → ${short(change.to)}`;
    case 'container':
      return change.from === undefined
        ? `container ${change.container} added (${short(change.to)})`
        : `container ${change.container} removed`;
    default:
      return 'other settings changed (see the registered revision)';
  }
}

/** `family:revision` from a task definition ARN (or the text itself when it is not an ARN). */
export function shortTaskDefinition(arn: string | undefined): string {
  if (!arn) return '(none)';
  const at = arn.lastIndexOf('task-definition/');
  return at >= 0 ? arn.slice(at + 'task-definition/'.length) : arn;
}

const REGISTERED_REVISION =
  /^(?:arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}:\d+|[A-Za-z0-9_-]{1,255}:\d+)$/;

/**
 * True when `text` names a registered revision: a task definition ARN with its revision
 * (`arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>`) or `family:revision`.
 */
export function isRegisteredRevision(text: string): boolean {
  return REGISTERED_REVISION.test(text);
}

/**
 * A registered revision that was asked for does not exist (DescribeTaskDefinition refused it).
 * The message states the fact; the action says which input named it.
 */
export class UnknownTaskDefinitionError extends ConfigurationError {
  constructor(readonly reference: string) {
    super(`task definition \`${reference}\` was not found (DescribeTaskDefinition refused it).`);
    this.name = 'UnknownTaskDefinitionError';
  }
}
