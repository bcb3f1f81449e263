/** What the RDS operations share. */
import type { Clock } from '../clock';
import type { RequestContext } from '../contracts';
import type { QueryParams } from '../protocol/query';
import type { RdsState } from './state';

/** The parts of RDS, wired together once by `index.ts`. */
export interface RdsContext {
  readonly clock: Clock;
  readonly state: RdsState;
}

/** A query-protocol operation: decoded parameters in, result members out. */
export type RdsOperation = (p: QueryParams, rc: RequestContext) => unknown;
