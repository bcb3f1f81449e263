// One status reader per rollout kind: how one look at a rollout is made and read. The follow
// loop (follow.ts) calls a reader; it never knows which ECS calls a kind needs.
import type { ServiceEvent } from '@aws-sdk/client-ecs';
import type { EcsApi } from './api';
import { interpretRollout, type RolloutSnapshot, type RolloutState } from './rollout';

/** Reads a rollout once per call and says where it stands. */
export interface StatusReader {
  /** One look at the rollout (`attempt` counts from 1): usually one ECS call, two when it moves. */
  read(attempt: number): Promise<RolloutState>;
  /** What the reads saw so far (the latest service and service deployment). */
  snapshot(): RolloutSnapshot;
  /** Every service event reported so far, oldest first. */
  events(): ServiceEvent[];
}

/** Options every status reader takes. */
export interface StatusReaderOptions {
  api: EcsApi;
  cluster?: string;
  service: string;
  /** The service deployment to follow; without it only the service is read. */
  serviceDeploymentArn?: string;
  /** The revision being rolled out (or rolled back to). */
  taskDefinitionArn: string;
  /** Service events created before this (epoch ms) are not reported. */
  eventsSince: number;
  /** Called once per new service event. */
  onEvent?: (event: ServiceEvent) => void;
  /** Service-deployment kinds: the service (events, counts) is read every this many looks (default 5) and whenever the deployment moves. */
  serviceEvery?: number;
}

/** The shared part of the readers: the service and service deployment reads, and the events seen. */
class Looks {
  snapshot: RolloutSnapshot = {};
  readonly events: ServiceEvent[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly opts: StatusReaderOptions) {}

  async readService(): Promise<void> {
    const out = await this.opts.api.describeServices({
      cluster: this.opts.cluster,
      services: [this.opts.service],
    });
    const service = out.services?.[0];
    if (!service) return;
    this.snapshot = { ...this.snapshot, service };
    const fresh = (service.events ?? [])
      .filter(
        (e) =>
          e.id &&
          !this.seen.has(e.id) &&
          (e.createdAt?.getTime() ?? 0) >= this.opts.eventsSince - 1000,
      )
      .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
    for (const e of fresh) {
      this.seen.add(e.id as string);
      this.events.push(e);
      this.opts.onEvent?.(e);
    }
  }

  async readDeployment(): Promise<void> {
    if (!this.opts.serviceDeploymentArn) return;
    const out = await this.opts.api.describeServiceDeployments({
      serviceDeploymentArns: [this.opts.serviceDeploymentArn],
    });
    const deployment = out.serviceDeployments?.[0];
    if (deployment) this.snapshot = { ...this.snapshot, deployment };
  }

  interpret(snapshot: RolloutSnapshot = this.snapshot): RolloutState {
    return interpretRollout(snapshot, this.opts.taskDefinitionArn);
  }
}

function progressKey(s: RolloutState): string {
  return JSON.stringify([s.phase, s.status, s.stage, s.counts]);
}

/**
 * A rolling deployment, read on the service alone (rolloutState, counts and events in one
 * call); the service deployment is read to confirm a failure or rollback (its status and
 * reason) and every eighth look.
 */
export function rollingStatusReader(opts: StatusReaderOptions): StatusReader {
  const looks = new Looks(opts);
  let lastDeploymentCheck = 0;
  return {
    snapshot: () => looks.snapshot,
    events: () => looks.events,
    async read(attempt) {
      await looks.readService();
      const fromService = looks.interpret({ service: looks.snapshot.service });
      // Success needs no confirmation; a failure or rollback is read on the service deployment for its status and reason.
      const confirm =
        (fromService.final && fromService.phase !== 'succeeded') ||
        fromService.phase === 'rolling-back' ||
        attempt - lastDeploymentCheck >= 8;
      if (opts.serviceDeploymentArn && confirm) {
        await looks.readDeployment();
        lastDeploymentCheck = attempt;
        const confirmed = looks.interpret();
        if (confirmed.final || confirmed.phase === 'rolling-back') return confirmed;
      }
      // The stage comes from the service deployment, read less often: the last one read stands
      // until the deployment is read again, so the status line does not alternate between looks.
      const stage = looks.snapshot.deployment?.lifecycleStage;
      return stage && fromService.phase === 'in-progress' ? { ...fromService, stage } : fromService;
    },
  };
}

/**
 * A blue/green, linear or canary deployment, read on its service deployment (status, stage,
 * counts); the service is read on the first look, whenever the deployment moves or ends, and
 * every `serviceEvery` looks, for its events and counts.
 */
export function serviceDeploymentStatusReader(opts: StatusReaderOptions): StatusReader {
  const looks = new Looks(opts);
  const serviceEvery = opts.serviceEvery ?? 5;
  let lastServiceCheck = 0;
  return {
    snapshot: () => looks.snapshot,
    events: () => looks.events,
    async read(attempt) {
      const before = looks.snapshot.deployment ? progressKey(looks.interpret()) : '';
      await looks.readDeployment();
      const next = looks.interpret();
      const moved = !!looks.snapshot.deployment && progressKey(next) !== before;
      if (
        !looks.snapshot.deployment ||
        attempt === 1 ||
        moved ||
        next.final ||
        attempt - lastServiceCheck >= serviceEvery
      ) {
        await looks.readService();
        lastServiceCheck = attempt;
      }
      return looks.interpret();
    },
  };
}

/** The reader for a rollout of `strategy` (`ROLLING` when unset, or when no service deployment is known). */
export function statusReaderFor(
  strategy: string | undefined,
  opts: StatusReaderOptions,
): StatusReader {
  const rolling = !opts.serviceDeploymentArn || (strategy ?? 'ROLLING') === 'ROLLING';
  return rolling ? rollingStatusReader(opts) : serviceDeploymentStatusReader(opts);
}
