import { InputParser } from '../../../packages/kit/src/inputs';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import { parseTargetSpec, type TargetSpec } from '../../../packages/ecs/src/rollback-target';

/** Everything rollback reads from its inputs, validated. */
export interface Inputs {
  cluster?: string;
  service: string;
  to: TargetSpec;
  reason?: string;
  waitUntil: 'stable' | 'traffic-shifted' | 'none';
  timeoutMs: number;
  environmentName?: string;
  githubToken?: string;
}

/** Reads and validates every input; throws ConfigurationError naming the first bad one. */
export function getInputs(p = new InputParser()): Inputs {
  const cluster = p.string('cluster');
  const service = p.required('service');
  const toText = p.string('to') ?? 'previous';
  const to = parseTargetSpec(toText);
  if (!to) {
    p.fail(
      'to',
      toText,
      '`previous`, a task definition ARN, `family:revision`, a commit SHA (7 to 40 hex digits), an image tag or an image digest (`sha256:` and 64 hex digits)',
    );
  }
  const reason = p.string('reason');
  if (reason && reason.length > 500)
    p.fail('reason', `${reason.slice(0, 40)}…`, 'at most 500 characters');
  const waitUntil = p.choice(
    'wait-until',
    ['stable', 'traffic-shifted', 'none'] as const,
    'stable',
  ) as Inputs['waitUntil'];
  const timeoutMs = p.duration('timeout', {
    default: '15m',
    min: 1000,
    max: 6 * 3_600_000,
  }) as number;
  const environmentName = p.string('environment');
  const githubToken = p.string('github-token', { secret: true });
  if (environmentName && !githubToken) {
    throw new ConfigurationError(
      'Input `github-token` is needed to record a GitHub Deployment for `environment`.',
    );
  }
  if (!process.env.AWS_REGION && !process.env.AWS_DEFAULT_REGION) {
    throw new ConfigurationError(
      'No AWS region: set the AWS_REGION environment variable (aws-actions/configure-aws-credentials sets it).',
    );
  }
  return {
    cluster,
    service,
    to: to as TargetSpec,
    reason,
    waitUntil,
    timeoutMs,
    environmentName,
    githubToken,
  };
}
