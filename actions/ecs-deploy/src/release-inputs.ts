// The inputs of a release: `service` with several lines. Each service's task definition, and
// the image and environment lines with their optional `<service>/` prefix.
import { ConfigurationError } from '../../../packages/kit/src/errors';
import type { InputParser } from '../../../packages/kit/src/inputs';
import type { DeploySource } from '../../../packages/ecs/src/deploy';
import { parseImageRef } from '../../../packages/ecs/src/image-ref';
import type { ReleaseLine } from '../../../packages/ecs/src/release/lines';
import type { ReleaseService } from '../../../packages/ecs/src/release/release';

/** What a release reads from its inputs. */
export interface ReleaseInputs {
  services: ReleaseService[];
  images: ReleaseLine[];
  environment: ReleaseLine[];
}

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const IMAGE_KEY = /^(?:([A-Za-z0-9_-]{1,255})\/)?([A-Za-z0-9_-]{1,255})$/;
const ENV_KEY = /^(?:([A-Za-z0-9_-]{1,255})\/)?([A-Za-z0-9_-]{1,255})\.([^\s=]+)$/;

/** Inputs a release of several services does not take (yet), and why. */
const NOT_FOR_A_RELEASE: [string, string][] = [
  ['continue-deployment', 'it sends the go-ahead to one CodeDeploy deployment'],
  ['codedeploy-application', 'a release deploys services with ECS deployments only'],
  ['codedeploy-deployment-group', 'a release deploys services with ECS deployments only'],
  ['codedeploy-config', 'a release deploys services with ECS deployments only'],
  ['codedeploy-appspec', 'a release deploys services with ECS deployments only'],
];

/**
 * Reads the inputs of a release of `services` (several lines of `service`); `source` reads one
 * `task-definition` value (`current`, a registered revision or a file) as the single-service
 * form does. Throws ConfigurationError naming the input and the line.
 */
export function getReleaseInputs(
  p: InputParser,
  services: string[],
  source: (value: string) => DeploySource,
): ReleaseInputs {
  const seen = new Set<string>();
  for (const name of services) {
    if (!NAME.test(name))
      p.fail(
        'service',
        name,
        'one service name per line when it has several lines (letters, digits, `-` and `_`)',
      );
    if (seen.has(name))
      throw new ConfigurationError(`Input \`service\` names \`${name}\` more than once.`);
    seen.add(name);
  }
  for (const [input, why] of NOT_FOR_A_RELEASE)
    if (p.string(input) !== undefined)
      throw new ConfigurationError(
        `Input \`${input}\` does not apply to a release of several services: ${why}.`,
      );
  if (p.string('wait-until') === 'test-traffic')
    throw new ConfigurationError(
      'Input `wait-until` is `test-traffic`, which applies to one CodeDeploy service, not to a release of several services.',
    );

  const sources = new Map<string, DeploySource>(
    services.map((s) => [s, { kind: 'current' } as DeploySource]),
  );
  const tdText = p.string('task-definition') ?? 'current';
  if (tdText !== 'current') {
    const given = new Set<string>();
    for (const line of p.lines('task-definition')) {
      const at = line.indexOf('=');
      const service = at > 0 ? line.slice(0, at).trim() : '';
      const value = line.slice(at + 1).trim();
      if (!service || !value)
        p.fail(
          'task-definition',
          line,
          'one `<service>=<file|ARN|family:revision|current>` per line when `service` names several services',
        );
      if (!sources.has(service))
        throw new ConfigurationError(
          `Input \`task-definition\`, line \`${line}\`: \`${service}\` is not one of the services in \`service\`.`,
        );
      if (given.has(service))
        throw new ConfigurationError(
          `Input \`task-definition\` gives \`${service}\` more than once.`,
        );
      given.add(service);
      sources.set(service, source(value));
    }
  }

  const prefix = (input: string, line: string, service: string | undefined): void => {
    if (service !== undefined && !sources.has(service))
      throw new ConfigurationError(
        `Input \`${input}\`, line \`${line}\`: \`${service}\` is not one of the services in \`service\` (${services.map((s) => `\`${s}\``).join(', ')}).`,
      );
  };
  const images: ReleaseLine[] = [];
  for (const line of p.lines('container-images')) {
    const at = line.indexOf('=');
    const match = at > 0 ? IMAGE_KEY.exec(line.slice(0, at).trim()) : null;
    const value = line.slice(at + 1).trim();
    if (!match || !parseImageRef(value))
      p.fail(
        'container-images',
        line,
        'one `[<service>/]container=image` per line, each image a reference such as `registry/repo:tag` or `registry/repo@sha256:<64 hex>`',
      );
    prefix('container-images', line, match[1]);
    images.push({ line, service: match[1], container: match[2], value });
  }
  const environment: ReleaseLine[] = [];
  for (const line of p.lines('environment-variables')) {
    const at = line.indexOf('=');
    const match = at > 0 ? ENV_KEY.exec(line.slice(0, at).trim()) : null;
    if (!match)
      p.fail('environment-variables', line, 'one `[<service>/]container.NAME=value` per line');
    prefix('environment-variables', line, match[1]);
    environment.push({
      line,
      service: match[1],
      container: match[2],
      name: match[3],
      value: line.slice(at + 1).trim(),
    });
  }
  const fromFiles = [...sources.values()].some((s) => s.kind !== 'current');
  if (!images.length && !fromFiles)
    throw new ConfigurationError(
      'Input `container-images` is required: one `[<service>/]container=image` per line (or give `task-definition` per service).',
    );
  return {
    services: services.map((service) => ({
      service,
      source: sources.get(service) as DeploySource,
    })),
    images,
    environment,
  };
}
