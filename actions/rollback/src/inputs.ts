import { ConfigurationError } from '../../../packages/kit/src/errors';
import { InputParser } from '../../../packages/kit/src/inputs';
import {
  nearMissOfPrevious,
  parseTargetSpec,
  type TargetSpec,
} from '../../../packages/ecs/src/rollback-target';
import {
  codeDeployName,
  getGitHubToken,
  getWaitInputs,
  requireAwsRegion,
  type WaitUntil,
} from '../../../packages/kit/src/rollout-inputs';

/** Everything rollback reads from its inputs, validated. */

export interface Inputs {
  cluster?: string;
  /** The first (or only) service. */
  service: string;
  /** Every service, one per line of `service`, in the order given. */
  services: string[];
  to: TargetSpec;
  reason?: string;
  waitUntil: WaitUntil;
  timeoutMs: number;
  environmentName?: string;
  githubToken?: string;
  /** CodeDeploy names, for a service with the CODE_DEPLOY controller (unset: the console's defaults). */
  codeDeploy: { application?: string; deploymentGroup?: string };
}

const ACCEPTED_TO =
  '`previous` (in lower case), a task definition ARN, `family:revision`, a commit SHA (7 to 40 hex digits), an image tag or an image digest (`sha256:` and 64 hex digits)';

/** Reads and validates every input; throws ConfigurationError naming the first bad one. */
export function getInputs(p = new InputParser()): Inputs {
  const cluster = p.string('cluster');
  p.required('service');
  const services = p.lines('service');
  const seen = new Set<string>();
  for (const s of services) {
    if (seen.has(s)) p.fail('service', s, 'one service per line, each named once');
    seen.add(s);
  }
  const service = services[0];
  const toText = p.string('to') ?? 'previous';
  const to = parseTargetSpec(toText);
  if (!to) p.fail('to', toText, ACCEPTED_TO);
  if (nearMissOfPrevious(toText)) {
    throw new ConfigurationError(
      `Input \`to\`: \`${toText.trim()}\` looks like a misspelling of \`previous\`, so it is not taken for an image tag. Give ${ACCEPTED_TO}.`,
    );
  }
  if (services.length > 1 && to && (to.kind === 'arn' || to.kind === 'revision'))
    throw new ConfigurationError(
      `Input \`to\`: \`${toText.trim()}\` is a revision of one task definition family; with several services, give \`previous\` (each service goes back to its own previous revision), or a commit SHA or an image tag or digest that every service has.`,
    );
  const reason = p.string('reason');
  if (reason && reason.length > 500)
    p.fail('reason', `${reason.slice(0, 40)}…`, 'at most 500 characters');
  p.warnBareSeconds('timeout', 'm', 'minutes');
  const { waitUntil, timeoutMs } = getWaitInputs(p, '15m');
  const codeDeploy = {
    application: codeDeployName(p, 'codedeploy-application'),
    deploymentGroup: codeDeployName(p, 'codedeploy-deployment-group'),
  };
  for (const [input, value] of [
    ['codedeploy-application', codeDeploy.application],
    ['codedeploy-deployment-group', codeDeploy.deploymentGroup],
  ] as const)
    if (value !== undefined && services.length > 1)
      throw new ConfigurationError(
        `Input \`${input}\` names one service's CodeDeploy ${input === 'codedeploy-application' ? 'application' : 'deployment group'}; with several services it does not apply: each CodeDeploy service uses its default names (\`AppECS-<cluster>-<service>\`, \`DgpECS-<cluster>-<service>\`). Roll back a service with other names in a step of its own.`,
      );
  const environmentName = p.string('environment');
  const githubToken = getGitHubToken(p, environmentName);
  requireAwsRegion();
  return {
    cluster,
    service,
    services,
    to: to as TargetSpec,
    reason,
    waitUntil,
    timeoutMs,
    environmentName,
    githubToken,
    codeDeploy,
  };
}
