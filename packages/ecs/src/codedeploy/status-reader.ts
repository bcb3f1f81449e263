// The status reader of a CodeDeploy blue/green deployment, for the shared follow loop: one look
// reads the deployment and its ECS target (lifecycle events, task sets, traffic weights).
import type { DeploymentInfo, ECSTarget, LifecycleEvent } from '@aws-sdk/client-codedeploy';
import type { ServiceEvent } from '@aws-sdk/client-ecs';
import type { RolloutPhase, RolloutSnapshot, RolloutState } from '../rollout';
import type { StatusReader } from '../status-readers';
import type { CodeDeployApi } from './api';

/** A lifecycle event that ended, as reported once. */
export interface EndedLifecycleEvent {
  name: string;
  status: string;
  durationMs?: number;
  /** CodeDeploy's diagnostics message (untrusted text). */
  message?: string;
}

/** Options of {@link codeDeployStatusReader}. */
export interface CodeDeployReaderOptions {
  api: CodeDeployApi;
  deploymentId: string;
  /** The deployment target: `<cluster name>:<service name>`. */
  targetId: string;
  /** Called once per lifecycle event when it ends (succeeded, failed or skipped), in order. */
  onLifecycleEvent?: (event: EndedLifecycleEvent) => void;
  /** Called when the share of production traffic on green changes (percent). */
  onTraffic?: (greenPercent: number) => void;
  /** Called once, the first time the deployment is seen waiting in `Ready` for a go-ahead. */
  onReady?: () => void;
}

/** What the CodeDeploy reads saw last. */
export interface CodeDeployLook {
  deployment?: DeploymentInfo;
  target?: ECSTarget;
  /** The rollback deployment CodeDeploy made, when it made one. */
  rollback?: DeploymentInfo;
}

/** A {@link StatusReader} that also says what CodeDeploy reported. */
export interface CodeDeployStatusReader extends StatusReader {
  look(): CodeDeployLook;
}

const ENDED = new Set(['Succeeded', 'Failed', 'Skipped']);

/** The share of production traffic on the green task set, when the target shows it. */
export function greenTrafficPercent(target: ECSTarget | undefined): number | undefined {
  const green = target?.taskSetsInfo?.find((t) => t.taskSetLabel === 'Green');
  return green?.trafficWeight;
}

/** The lifecycle event under way: the first one in progress. */
function currentEvent(events: LifecycleEvent[]): string | undefined {
  return events.find((e) => e.status === 'InProgress')?.lifecycleEventName;
}

/** `ECS_UPDATE_ERROR: …` from CodeDeploy's errorInformation. */
export function errorText(d: DeploymentInfo | undefined): string | undefined {
  const e = d?.errorInformation;
  if (!e?.code && !e?.message) return undefined;
  return [e.code, e.message].filter(Boolean).join(': ');
}

/**
 * Reads where a CodeDeploy deployment stands: `Succeeded` is a success; `Failed` or `Stopped`
 * with a rollback deployment is rolling back until that deployment ends (`rolled-back` when it
 * succeeded); without one it failed; `Ready` waits for a go-ahead with test traffic on green;
 * production traffic all on green (AllowTraffic done) is `traffic-shifted`.
 */
export function interpretCodeDeploy(look: CodeDeployLook): RolloutState {
  const d = look.deployment;
  const events = look.target?.lifecycleEvents ?? [];
  const green = look.target?.taskSetsInfo?.find((t) => t.taskSetLabel === 'Green');
  const counts = green
    ? { desired: green.desiredCount, running: green.runningCount, pending: green.pendingCount }
    : {};
  const status = d?.status;
  const reason = errorText(d);
  const stage = currentEvent(events);
  let phase: RolloutPhase;
  switch (status) {
    case 'Succeeded':
      phase = 'succeeded';
      break;
    case 'Failed':
    case 'Stopped':
      if (d?.rollbackInfo?.rollbackDeploymentId) {
        const r = look.rollback?.status;
        phase =
          r === 'Succeeded'
            ? 'rolled-back'
            : r === 'Failed' || r === 'Stopped'
              ? 'failed'
              : 'rolling-back';
      } else phase = 'failed';
      break;
    default: {
      const allowed = events.find((e) => e.lifecycleEventName === 'AllowTraffic');
      phase = allowed?.status === 'Succeeded' ? 'traffic-shifted' : 'in-progress';
    }
  }
  const final = phase === 'succeeded' || phase === 'rolled-back' || phase === 'failed';
  return { phase, status, stage, reason, counts, final };
}

function isMissingTarget(error: unknown): boolean {
  const name = (error as { name?: string }).name ?? '';
  return (
    name === 'DeploymentTargetDoesNotExistException' || name === 'DeploymentNotStartedException'
  );
}

/**
 * The reader of one CodeDeploy deployment: GetDeployment and GetDeploymentTarget per look (and
 * GetDeployment of the rollback deployment once CodeDeploy made one), reporting each lifecycle
 * event as it ends and each change of the production traffic on green.
 */
export function codeDeployStatusReader(opts: CodeDeployReaderOptions): CodeDeployStatusReader {
  let look: CodeDeployLook = {};
  const reported = new Set<string>();
  let traffic: number | undefined;
  let ready = false;
  return {
    look: () => look,
    snapshot: (): RolloutSnapshot => ({}),
    events: (): ServiceEvent[] => [],
    async read() {
      const d = (await opts.api.getDeployment({ deploymentId: opts.deploymentId })).deploymentInfo;
      let target = look.target;
      try {
        target = (
          await opts.api.getDeploymentTarget({
            deploymentId: opts.deploymentId,
            targetId: opts.targetId,
          })
        ).deploymentTarget?.ecsTarget;
      } catch (error) {
        if (!isMissingTarget(error)) throw error;
      }
      let rollback = look.rollback;
      const rollbackId = d?.rollbackInfo?.rollbackDeploymentId;
      if (rollbackId && (d?.status === 'Failed' || d?.status === 'Stopped'))
        rollback = (await opts.api.getDeployment({ deploymentId: rollbackId })).deploymentInfo;
      look = { deployment: d, target, rollback };
      for (const e of target?.lifecycleEvents ?? []) {
        const name = e.lifecycleEventName;
        if (!name || !e.status || !ENDED.has(e.status) || reported.has(name)) continue;
        reported.add(name);
        opts.onLifecycleEvent?.({
          name,
          status: e.status,
          durationMs:
            e.startTime && e.endTime ? e.endTime.getTime() - e.startTime.getTime() : undefined,
          message: e.diagnostics?.message,
        });
      }
      if (d?.status === 'Ready' && !ready) {
        ready = true;
        opts.onReady?.();
      }
      const green = greenTrafficPercent(target);
      if (green !== undefined && green !== traffic) {
        if (traffic !== undefined || green > 0) opts.onTraffic?.(green);
        traffic = green;
      }
      return interpretCodeDeploy(look);
    },
  };
}
