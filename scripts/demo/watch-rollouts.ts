/**
 * Watches one service's ECS service deployments from outside the pipeline while the demo runs,
 * and records every lifecycle stage it sees with the time it first saw it. ecs-deploy returns
 * once production traffic has shifted (`wait-until: traffic-shifted`), so its own summary
 * cannot show the bake and the clean-up; the page shows the whole blue/green deployment from
 * this record.
 */
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
} from '@aws-sdk/client-ecs';

/** ECS's lifecycle stages of a blue/green service deployment, in the order they happen. */
export const BLUE_GREEN_STAGES = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
  'BAKE_TIME',
  'CLEAN_UP',
] as const;

/** A lifecycle stage as seen from outside: from the first look that saw it. */
export interface SeenStage {
  stage: string;
  /** Epoch ms of the first look that saw the stage. */
  seenAt: number;
}

/** One service deployment as the watcher saw it. */
export interface WatchedRollout {
  /** Name of the environment the service belongs to. */
  environment: string;
  serviceDeploymentArn: string;
  /** Task definition family:revision the deployment rolls out (from its service revision). */
  target?: string;
  strategy?: string;
  bakeTimeInMinutes?: number;
  /** Epoch ms: when ECS created the deployment. */
  createdAt: number;
  /** Epoch ms: when ECS finished it (absent while it runs). */
  finishedAt?: number;
  /** Last status seen (`IN_PROGRESS`, `SUCCESSFUL`, `ROLLBACK_SUCCESSFUL`, …). */
  status: string;
  stages: SeenStage[];
  /** Milliseconds between two looks. */
  intervalMs: number;
}

/** What to watch. */
export interface WatchTarget {
  endpoint: string;
  environment: string;
  cluster: string;
  service: string;
}

// ECS's final statuses of a service deployment: nothing changes after them.
const FINISHED = new Set(['SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED']);

/**
 * Starts looking at the service's deployments every `intervalMs` (those created from now on);
 * `stop()` ends the looks and returns what was seen, oldest deployment first.
 */
export function watchRollouts(
  target: WatchTarget,
  intervalMs = 100,
): { stop: () => Promise<WatchedRollout[]> } {
  const ecs = new ECSClient({
    endpoint: target.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const since = new Date();
  const rollouts = new Map<string, WatchedRollout>();
  let stopped = false;
  let wake: (() => void) | undefined;

  const revisionOf = async (arn: string | undefined): Promise<string | undefined> => {
    if (!arn) return undefined;
    const out = await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [arn] }));
    return out.serviceRevisions?.[0]?.taskDefinition?.split('/').pop();
  };

  const look = async (): Promise<void> => {
    const listed = await ecs.send(
      new ListServiceDeploymentsCommand({
        cluster: target.cluster,
        service: target.service,
        createdAt: { after: since },
      }),
    );
    const open = (listed.serviceDeployments ?? [])
      .map((d) => d.serviceDeploymentArn!)
      .filter((arn) => !FINISHED.has(rollouts.get(arn)?.status ?? ''));
    if (!open.length) return;
    const described = await ecs.send(
      new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: open }),
    );
    const now = Date.now();
    for (const d of described.serviceDeployments ?? []) {
      const arn = d.serviceDeploymentArn!;
      let r = rollouts.get(arn);
      if (!r) {
        r = {
          environment: target.environment,
          serviceDeploymentArn: arn,
          target: await revisionOf(d.targetServiceRevision?.arn),
          strategy: d.deploymentConfiguration?.strategy,
          bakeTimeInMinutes: d.deploymentConfiguration?.bakeTimeInMinutes,
          createdAt: d.createdAt?.getTime() ?? now,
          status: d.status ?? 'UNKNOWN',
          stages: [],
          intervalMs,
        };
        rollouts.set(arn, r);
      }
      r.status = d.status ?? r.status;
      r.finishedAt = d.finishedAt?.getTime();
      const stage = d.lifecycleStage;
      if (stage && r.stages[r.stages.length - 1]?.stage !== stage)
        r.stages.push({ stage, seenAt: now });
    }
  };

  const loop = (async (): Promise<void> => {
    while (!stopped) {
      // A look that fails (local-aws busy or stopping) is one look missed, not the demo's end.
      await look().catch(() => undefined);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, intervalMs);
      });
    }
  })();

  return {
    stop: async () => {
      stopped = true;
      wake?.();
      await loop;
      // One last look, so a deployment that finished since the previous one says so.
      await look().catch(() => undefined);
      ecs.destroy();
      return [...rollouts.values()].sort((a, b) => a.createdAt - b.createdAt);
    },
  };
}
