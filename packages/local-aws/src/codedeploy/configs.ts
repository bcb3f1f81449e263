/**
 * Deployment configurations: the predefined ECS ones (all at once, linear, canary) and the
 * traffic plan a configuration gives a deployment.
 */
import { AwsError } from '../contracts';
import type { DeploymentConfig, TrafficRoutingConfig } from './model';

function predefined(
  id: string,
  name: string,
  trafficRoutingConfig: TrafficRoutingConfig,
): [string, DeploymentConfig] {
  return [
    name,
    {
      deploymentConfigId: id,
      deploymentConfigName: name,
      createTime: new Date(0),
      computePlatform: 'ECS',
      trafficRoutingConfig,
    },
  ];
}

const canary = (canaryPercentage: number, canaryInterval: number): TrafficRoutingConfig => ({
  type: 'TimeBasedCanary',
  timeBasedCanary: { canaryPercentage, canaryInterval },
});
const linear = (linearPercentage: number, linearInterval: number): TrafficRoutingConfig => ({
  type: 'TimeBasedLinear',
  timeBasedLinear: { linearPercentage, linearInterval },
});

/** The predefined configurations of the ECS compute platform, by name. */
export const PREDEFINED_CONFIGS: ReadonlyMap<string, DeploymentConfig> = new Map([
  predefined('00000000-0000-0000-0000-0000000000e1', 'CodeDeployDefault.ECSAllAtOnce', {
    type: 'AllAtOnce',
  }),
  predefined(
    '00000000-0000-0000-0000-0000000000e2',
    'CodeDeployDefault.ECSLinear10PercentEvery1Minutes',
    linear(10, 1),
  ),
  predefined(
    '00000000-0000-0000-0000-0000000000e3',
    'CodeDeployDefault.ECSLinear10PercentEvery3Minutes',
    linear(10, 3),
  ),
  predefined(
    '00000000-0000-0000-0000-0000000000e4',
    'CodeDeployDefault.ECSCanary10Percent5Minutes',
    canary(10, 5),
  ),
  predefined(
    '00000000-0000-0000-0000-0000000000e5',
    'CodeDeployDefault.ECSCanary10Percent15Minutes',
    canary(10, 15),
  ),
]);

/** `trafficRoutingConfig` of CreateDeploymentConfig, checked. */
export function trafficRoutingConfig(input: unknown): TrafficRoutingConfig {
  const t = (input ?? {}) as Partial<TrafficRoutingConfig> & Record<string, unknown>;
  const bad = (what: string): AwsError =>
    new AwsError('InvalidTrafficRoutingConfigurationException', what);
  const percent = (v: unknown): boolean =>
    Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 99;
  const minutes = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 1;
  if (t.type === 'AllAtOnce') return { type: 'AllAtOnce' };
  if (t.type === 'TimeBasedCanary') {
    const c = t.timeBasedCanary;
    if (!c || !percent(c.canaryPercentage) || !minutes(c.canaryInterval))
      throw bad(
        'A canary configuration needs a canaryPercentage from 1 to 99 and a canaryInterval in minutes.',
      );
    return {
      type: t.type,
      timeBasedCanary: { canaryPercentage: c.canaryPercentage, canaryInterval: c.canaryInterval },
    };
  }
  if (t.type === 'TimeBasedLinear') {
    const l = t.timeBasedLinear;
    if (!l || !percent(l.linearPercentage) || !minutes(l.linearInterval))
      throw bad(
        'A linear configuration needs a linearPercentage from 1 to 99 and a linearInterval in minutes.',
      );
    return {
      type: t.type,
      timeBasedLinear: { linearPercentage: l.linearPercentage, linearInterval: l.linearInterval },
    };
  }
  throw bad('The traffic routing type must be AllAtOnce, TimeBasedCanary or TimeBasedLinear.');
}

/** One step of a production traffic shift: the green share, then the bake before the next step. */
export interface TrafficStep {
  greenPercent: number;
  /** AWS milliseconds to wait after this step (0 after the last). */
  waitMs: number;
}

/** The production traffic steps of a configuration: all at once, canary then the rest, or linear. */
export function trafficSteps(config: TrafficRoutingConfig): TrafficStep[] {
  if (config.type === 'TimeBasedCanary' && config.timeBasedCanary) {
    const c = config.timeBasedCanary;
    return [
      { greenPercent: c.canaryPercentage, waitMs: c.canaryInterval * 60_000 },
      { greenPercent: 100, waitMs: 0 },
    ];
  }
  if (config.type === 'TimeBasedLinear' && config.timeBasedLinear) {
    const l = config.timeBasedLinear;
    const steps: TrafficStep[] = [];
    for (let p = l.linearPercentage; p < 100; p += l.linearPercentage)
      steps.push({ greenPercent: p, waitMs: l.linearInterval * 60_000 });
    steps.push({ greenPercent: 100, waitMs: 0 });
    return steps;
  }
  return [{ greenPercent: 100, waitMs: 0 }];
}
