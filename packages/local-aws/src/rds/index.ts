/**
 * RDS over the query protocol (API version 2014-10-31): DB instances and clusters as records
 * (no database runs), manual DB snapshots and DB cluster snapshots that go from `creating` to
 * `available` after a delay scaled by the clock, and resource tags. This file only wires the
 * parts together; `README.md` says which file holds what.
 */
import type { Clock } from '../clock';
import type { RdsContext, RdsOperation } from './context';
import { clusterOperations } from './operations/clusters';
import { instanceOperations } from './operations/instances';
import { snapshotOperations } from './operations/snapshots';
import { tagOperations } from './operations/tags';
import { RdsState, type RdsSnapshotSeed } from './state';

export {
  RDS_LIST_ITEM_NAMES,
  RDS_LIST_WRAPPERS,
  RDS_VERSION,
  RDS_XMLNS,
  type RdsTag,
} from './model';
export type { RdsSnapshotSeed } from './state';

/** How long (in AWS time, scaled by the clock) a new snapshot stays `creating`. */
export const SNAPSHOT_CREATE_MS = 5000;

/** Options of {@link Rds}. */
export interface RdsOptions {
  clock: Clock;
  accountId: string;
  /** AWS milliseconds from `creating` to `available`; default {@link SNAPSHOT_CREATE_MS}. */
  snapshotCreateMs?: number;
}

/** The RDS part of local-aws. */
export class Rds {
  /** Query-protocol operations by name. */
  readonly operations: Record<string, RdsOperation>;
  private readonly ctx: RdsContext;

  constructor(options: RdsOptions) {
    const state = new RdsState(
      options.clock,
      options.accountId,
      options.snapshotCreateMs ?? SNAPSHOT_CREATE_MS,
    );
    this.ctx = { clock: options.clock, state };
    this.operations = {
      ...instanceOperations(this.ctx),
      ...clusterOperations(this.ctx),
      ...snapshotOperations(this.ctx),
      ...tagOperations(this.ctx),
    };
  }

  /**
   * Adds a snapshot that is already `available`, created at `createdAt` (for retention tests).
   * The instance or cluster need not exist. Returns the snapshot's ARN.
   */
  addSnapshot(seed: RdsSnapshotSeed): string {
    return this.ctx.state.addSnapshot(seed);
  }

  /** JSON-serialisable state for `--state-file` and `GET /_local/state`. */
  snapshot(): unknown {
    return this.ctx.state.snapshot();
  }

  /**
   * Loads saved state (dates as `Date`s or ISO strings). A snapshot that was `creating` when the
   * state was saved becomes available at the time it was due.
   */
  restore(state: unknown): void {
    this.ctx.state.restore(state);
  }
}
