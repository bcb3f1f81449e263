/** What the parts of local-aws ELBv2 share: the clock, the state and each other. */
import type { RequestContext } from '../contracts';
import type { Clock } from '../clock';
import type { QueryParams } from '../protocol/query';
import type { ListenerProxy } from './listener-proxy';
import type { ElbState } from './state';
import type { TargetHealthChecker } from './target-health';

/** The parts of ELBv2, wired together once by `index.ts`. */
export interface ElbContext {
  readonly clock: Clock;
  readonly state: ElbState;
  readonly health: TargetHealthChecker;
  readonly proxy: ListenerProxy;
}

/** A query-protocol operation: decoded parameters in, result members out. */
export type ElbOperation = (p: QueryParams, rc: RequestContext) => unknown;
