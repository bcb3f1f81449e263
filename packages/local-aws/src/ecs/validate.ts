/** Checks of ECS request members that AWS refuses with ClientException/InvalidParameterException. */
import { AwsError } from '../contracts';
import type { Elb } from '../elb';
import type {
  ContainerDefinition,
  DeploymentConfiguration,
  LoadBalancerRef,
  TaskDefinition,
} from './model';
import { clone, requireString, type Input } from './util';

/** The `family` and `containerDefinitions` of RegisterTaskDefinition; returns the family. */
export function validateTaskDefinition(input: Input): string {
  const family = requireString(input, 'family');
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(family)) {
    throw new AwsError('ClientException', `Family contains invalid characters: \`${family}\`.`);
  }
  const defs = input.containerDefinitions;
  if (!Array.isArray(defs) || !defs.length)
    throw new AwsError('ClientException', 'Container list cannot be empty.');
  const names = new Set<string>();
  for (const c of defs as ContainerDefinition[]) {
    if (!c?.name || !c.image)
      throw new AwsError('ClientException', 'Container definitions need a `name` and an `image`.');
    if (names.has(c.name))
      throw new AwsError('ClientException', `Duplicate container name \`${c.name}\`.`);
    names.add(c.name);
  }
  if (!(defs as ContainerDefinition[]).some((c) => c.essential !== false)) {
    throw new AwsError('ClientException', 'Task definition does not have any essential container.');
  }
  return family;
}

/** `loadBalancers` of Create/UpdateService: target groups, listener rules and roles exist. */
export function validateLoadBalancers(input: unknown, elb: Elb): LoadBalancerRef[] {
  if (input === undefined) return [];
  if (!Array.isArray(input))
    throw new AwsError('InvalidParameterException', '`loadBalancers` must be a list.');
  return (input as LoadBalancerRef[]).map((lb) => {
    if (!lb.targetGroupArn)
      throw new AwsError(
        'InvalidParameterException',
        'Each load balancer needs a `targetGroupArn`.',
      );
    if (!elb.targetGroup(lb.targetGroupArn)) {
      throw new AwsError(
        'InvalidParameterException',
        `The target group with targetGroupArn ${lb.targetGroupArn} does not have an associated load balancer.`,
      );
    }
    const adv = lb.advancedConfiguration;
    if (adv) {
      if (!adv.alternateTargetGroupArn || !elb.targetGroup(adv.alternateTargetGroupArn)) {
        throw new AwsError(
          'InvalidParameterException',
          `The alternate target group \`${adv.alternateTargetGroupArn ?? ''}\` does not exist.`,
        );
      }
      if (!adv.productionListenerRule || !elb.ruleExists(adv.productionListenerRule)) {
        throw new AwsError(
          'InvalidParameterException',
          `The production listener rule \`${adv.productionListenerRule ?? ''}\` does not exist.`,
        );
      }
      if (adv.testListenerRule && !elb.ruleExists(adv.testListenerRule)) {
        throw new AwsError(
          'InvalidParameterException',
          `The test listener rule \`${adv.testListenerRule}\` does not exist.`,
        );
      }
    }
    return clone(lb);
  });
}

/**
 * `deploymentConfiguration` of Create/UpdateService merged over `base`, checked, with ECS's
 * defaults filled in (200/100 percent, circuit breaker off, ROLLING).
 */
export function deploymentConfiguration(
  input: unknown,
  base: DeploymentConfiguration,
  strategyRequiresAdvanced: LoadBalancerRef[],
): DeploymentConfiguration {
  const cfg: DeploymentConfiguration = {
    ...clone(base),
    ...clone((input ?? {}) as DeploymentConfiguration),
  };
  if (cfg.maximumPercent !== undefined && !(cfg.maximumPercent >= 100))
    throw new AwsError('InvalidParameterException', '`maximumPercent` must be at least 100.');
  if (
    cfg.minimumHealthyPercent !== undefined &&
    !(cfg.minimumHealthyPercent >= 0 && cfg.minimumHealthyPercent <= 100)
  ) {
    throw new AwsError(
      'InvalidParameterException',
      '`minimumHealthyPercent` must be between 0 and 100.',
    );
  }
  if (cfg.strategy && !['ROLLING', 'BLUE_GREEN', 'LINEAR', 'CANARY'].includes(cfg.strategy)) {
    throw new AwsError(
      'InvalidParameterException',
      `\`strategy\` must be ROLLING, BLUE_GREEN, LINEAR or CANARY, got \`${cfg.strategy}\`.`,
    );
  }
  if (
    cfg.strategy &&
    cfg.strategy !== 'ROLLING' &&
    strategyRequiresAdvanced.length &&
    !strategyRequiresAdvanced.some((l) => l.advancedConfiguration)
  ) {
    throw new AwsError(
      'InvalidParameterException',
      `The ${cfg.strategy} deployment strategy needs \`loadBalancers[].advancedConfiguration\`.`,
    );
  }
  if (cfg.alarms && cfg.alarms.enable) {
    if (!Array.isArray(cfg.alarms.alarmNames) || !cfg.alarms.alarmNames.length)
      throw new AwsError('InvalidParameterException', '`alarms.alarmNames` must not be empty.');
  }
  if (cfg.maximumPercent === undefined) cfg.maximumPercent = 200;
  if (cfg.minimumHealthyPercent === undefined) cfg.minimumHealthyPercent = 100;
  if (!cfg.deploymentCircuitBreaker)
    cfg.deploymentCircuitBreaker = { enable: false, rollback: false };
  if (!cfg.strategy) cfg.strategy = 'ROLLING';
  return cfg;
}

/**
 * An `awsvpc` task definition needs the service's (or RunTask's) `networkConfiguration`, as ECS
 * requires; the message is ECS's own.
 */
export function requireNetworkConfiguration(
  td: TaskDefinition,
  networkConfiguration: unknown,
): void {
  if (td.networkMode !== 'awsvpc') return;
  const vpc = (networkConfiguration as { awsvpcConfiguration?: unknown } | undefined)
    ?.awsvpcConfiguration;
  if (!vpc || typeof vpc !== 'object')
    throw new AwsError(
      'InvalidParameterException',
      "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
    );
}
