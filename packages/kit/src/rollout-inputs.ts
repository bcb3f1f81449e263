// Inputs that actions which start and follow a rollout read alike (ecs-deploy, rollback).
import { ConfigurationError } from './errors';
import type { InputParser } from './inputs';

/** How far an action follows the rollout it starts. */
export type WaitUntil = 'stable' | 'traffic-shifted' | 'none';

/** Reads `wait-until` and `timeout` (1 s to 6 h; `defaultTimeout` when unset). */
export function getWaitInputs(
  p: InputParser,
  defaultTimeout: string,
): { waitUntil: WaitUntil; timeoutMs: number } {
  const waitUntil = p.choice(
    'wait-until',
    ['stable', 'traffic-shifted', 'none'] as const,
    'stable',
  ) as WaitUntil;
  const timeoutMs = p.duration('timeout', {
    default: defaultTimeout,
    min: 1000,
    max: 6 * 3_600_000,
  }) as number;
  return { waitUntil, timeoutMs };
}

/** CodeDeploy application, deployment group and deployment configuration names. */
const CODEDEPLOY_NAME = /^[A-Za-z0-9._+=,@-]{1,100}$/;

/** Reads a CodeDeploy name input (`codedeploy-application`, …): undefined when unset. */
export function codeDeployName(p: InputParser, input: string): string | undefined {
  const value = p.string(input);
  if (value !== undefined && !CODEDEPLOY_NAME.test(value))
    p.fail(input, value, 'a CodeDeploy name: 1 to 100 letters, digits and `._+=,@-`');
  return value;
}

/** Reads `github-token`, which recording a GitHub Deployment for `environment` needs. */
export function getGitHubToken(
  p: InputParser,
  environmentName: string | undefined,
): string | undefined {
  const githubToken = p.string('github-token', { secret: true });
  if (environmentName && !githubToken) {
    throw new ConfigurationError(
      'Input `github-token` is needed to record a GitHub Deployment for `environment`.',
    );
  }
  return githubToken;
}

/** Throws a ConfigurationError when the environment names no AWS region. */
export function requireAwsRegion(): void {
  if (!process.env.AWS_REGION && !process.env.AWS_DEFAULT_REGION) {
    throw new ConfigurationError(
      'No AWS region: set the AWS_REGION environment variable (aws-actions/configure-aws-credentials sets it).',
    );
  }
}
