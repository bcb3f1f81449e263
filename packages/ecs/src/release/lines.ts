// Which service of a release each image or environment line goes to: a line may name its
// service (`api/web=…`); one that does not goes to the only service that has its container.
import { ConfigurationError } from '../../../kit/src/errors';

/** One `container-images` or `environment-variables` line of a release, split. */
export interface ReleaseLine {
  /** The line as written, for messages. */
  line: string;
  /** The service it names (`<service>/…`), when it names one. */
  service?: string;
  container: string;
  /** The variable name (environment lines only). */
  name?: string;
  value: string;
}

/** What one service of a release has: its containers, and whether it is deployed as it is. */
export interface ServiceContainers {
  service: string;
  containers: string[];
  /** A registered revision deployed as it is: no line may set anything in it. */
  asIs?: boolean;
}

/** What each service of a release gets from the lines. */
export interface AssignedLines {
  images: Map<string, string>;
  environment: Map<string, Map<string, string>>;
}

/**
 * A line cannot be placed: it names a service or a container the release does not have, or a
 * container several services have. The message states the fact; the action names the input.
 */
export class ReleaseLineError extends ConfigurationError {
  constructor(
    readonly option: 'images' | 'environment',
    readonly line: string,
    message: string,
  ) {
    super(message);
    this.name = 'ReleaseLineError';
  }
}

function list(names: string[]): string {
  return names.map((n) => `\`${n}\``).join(', ');
}

/**
 * Places every image and environment line on its service: a prefixed line on the service it
 * names, which must have the container; an unprefixed one on the only service that has the
 * container. Throws {@link ReleaseLineError} for the first line that cannot be placed.
 */
export function assignLines(
  services: ServiceContainers[],
  images: ReleaseLine[],
  environment: ReleaseLine[],
): Map<string, AssignedLines> {
  const result = new Map<string, AssignedLines>(
    services.map((s) => [s.service, { images: new Map(), environment: new Map() }]),
  );
  const place = (option: 'images' | 'environment', l: ReleaseLine): ServiceContainers => {
    let target: ServiceContainers | undefined;
    if (l.service !== undefined) {
      target = services.find((s) => s.service === l.service);
      if (!target)
        throw new ReleaseLineError(
          option,
          l.line,
          `service \`${l.service}\` is not one of the release's services (${list(services.map((s) => s.service))}).`,
        );
      if (!target.containers.includes(l.container))
        throw new ReleaseLineError(
          option,
          l.line,
          `service \`${l.service}\` has no container \`${l.container}\` (it has ${list(target.containers)}).`,
        );
    } else {
      const having = services.filter((s) => s.containers.includes(l.container));
      if (having.length === 0)
        throw new ReleaseLineError(
          option,
          l.line,
          `no service of the release has a container \`${l.container}\` (${services
            .map((s) => `${s.service} has ${list(s.containers)}`)
            .join('; ')}).`,
        );
      if (having.length > 1)
        throw new ReleaseLineError(
          option,
          l.line,
          `container \`${l.container}\` is in several services (${list(having.map((s) => s.service))}): start the line with the service, as \`${having[0].service}/${l.line}\`.`,
        );
      target = having[0];
    }
    if (target.asIs)
      throw new ReleaseLineError(
        option,
        l.line,
        `service \`${target.service}\` deploys a registered revision as it is: nothing can be set in it.`,
      );
    return target;
  };
  for (const l of images) {
    const assigned = result.get(place('images', l).service) as AssignedLines;
    if (assigned.images.has(l.container))
      throw new ReleaseLineError('images', l.line, `it sets container \`${l.container}\` again.`);
    assigned.images.set(l.container, l.value);
  }
  for (const l of environment) {
    const assigned = result.get(place('environment', l).service) as AssignedLines;
    const vars = assigned.environment.get(l.container) ?? new Map<string, string>();
    if (vars.has(l.name ?? ''))
      throw new ReleaseLineError(
        'environment',
        l.line,
        `it sets \`${l.container}.${l.name}\` again.`,
      );
    vars.set(l.name ?? '', l.value);
    assigned.environment.set(l.container, vars);
  }
  return result;
}
