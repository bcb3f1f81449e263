/**
 * ELBv2 (Application Load Balancers) over the query protocol. Each listener is a real HTTP port
 * on 127.0.0.1 that proxies to healthy targets by rule and weight; targets are probed with the
 * group's health-check settings (scaled by the clock). This file only wires the parts together
 * and offers ECS what it needs; `README.md` says which file holds what.
 */
import type { Clock } from '../clock';
import type { ElbContext, ElbOperation } from './context';
import { ListenerProxy } from './listener-proxy';
import type { TargetGroup, TargetState } from './model';
import { listenerOperations } from './operations/listeners';
import { loadBalancerOperations } from './operations/load-balancers';
import { ruleOperations } from './operations/rules';
import { tagOperations } from './operations/tags';
import { targetGroupOperations } from './operations/target-groups';
import { targetOperations } from './operations/targets';
import { ElbState } from './state';
import { TargetHealthChecker, type TargetHealthListener } from './target-health';

export type { TargetGroup, Listener, Rule, LoadBalancer } from './model';
export type { TargetHealthListener } from './target-health';

/** The XML namespace of ELBv2 query responses. */
export const ELB_XMLNS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

/** The ELBv2 part of local-aws. */
export class Elb {
  /** Query-protocol operations by name. */
  readonly operations: Record<string, ElbOperation>;
  private readonly ctx: ElbContext;

  constructor(clock: Clock) {
    const state = new ElbState();
    this.ctx = {
      clock,
      state,
      health: new TargetHealthChecker(clock, state),
      proxy: new ListenerProxy(state),
    };
    this.operations = {
      ...loadBalancerOperations(this.ctx),
      ...targetGroupOperations(this.ctx),
      ...targetOperations(this.ctx),
      ...listenerOperations(this.ctx),
      ...ruleOperations(this.ctx),
      ...tagOperations(this.ctx),
    };
  }

  // ---- what ECS uses -----------------------------------------------------------------------

  targetGroup(tgArn: string): TargetGroup | undefined {
    return this.ctx.state.tgs.get(tgArn);
  }

  /** True when `ruleArn` names a listener rule (or a listener's default rule). */
  ruleExists(ruleArn: string): boolean {
    return this.ctx.state.ruleExists(ruleArn);
  }

  onTargetHealth(fn: TargetHealthListener): void {
    this.ctx.health.onTargetHealth(fn);
  }

  /** Health state of the target `127.0.0.1:port` in a group. */
  targetState(tgArn: string, port: number): TargetState | undefined {
    return this.ctx.health.targetState(tgArn, port);
  }

  /** Registers a target (idempotent). */
  registerTarget(tgArn: string, id: string, port: number): void {
    this.ctx.health.register(tgArn, id, port);
  }

  /**
   * Deregisters a target; it drains for the group's `deregistration_delay.timeout_seconds`.
   * Resolves when it is gone.
   */
  deregisterTarget(tgArn: string, id: string, port: number): Promise<void> {
    return this.ctx.health.deregister(tgArn, id, port);
  }

  /** Sets the forward weights of a rule (or default rule) to `weights` by target group ARN. */
  setForwardWeights(ruleArn: string, weights: Record<string, number>): void {
    this.ctx.state.setForwardWeights(ruleArn, weights);
    this.ctx.health.refreshUse();
  }

  /** Target groups a rule forwards to, with weights. */
  forwardWeights(ruleArn: string): Record<string, number> {
    return this.ctx.state.forwardWeights(ruleArn);
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /** JSON-serialisable state for the state file and `GET /_local/state`. */
  snapshot(): unknown {
    return this.ctx.state.snapshot();
  }

  /** Loads saved resources and reopens listener ports. Targets are not restored (their tasks are gone). */
  async restore(state: unknown): Promise<void> {
    for (const l of this.ctx.state.restore(state)) {
      try {
        await this.ctx.proxy.listen(l);
      } catch {
        // The port is taken now; the listener stays defined but does not serve.
      }
    }
  }

  /** Stops health checks, ends drains and closes every listener port. */
  async close(): Promise<void> {
    this.ctx.health.close();
    await this.ctx.proxy.close();
  }
}
