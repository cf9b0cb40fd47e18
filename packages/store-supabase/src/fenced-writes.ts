import type { ComputationPatch, ComputationRecord, UpdateOptions } from '@au/core';
import type { RpcTransport } from './rpc-transport';

/** One record write fenced by a queue lease, as `au_result_update_many` reads it. */
export interface FencedWrite {
  key: string;
  patch: ComputationPatch;
  options: UpdateOptions;
  now: number;
  leaseToken: string;
  /** A claim and the write after it, sent as one: the status change is judged through `running`. */
  viaRunning?: boolean;
}

interface Pending {
  write: FencedWrite;
  resolve: (record: ComputationRecord | undefined) => void;
  reject: (error: unknown) => void;
  /** In a batch on its way: too late to join (see `writeJoinable`). */
  sent: boolean;
}

/** A write that the computation's next write may join while it has not left (see `writeJoinable`). */
export interface JoinableWrite {
  /** The record it wrote (the joined write's, if one joined), `undefined` when refused. */
  result: Promise<ComputationRecord | undefined>;
  /**
   * Sends `patch` in the same row write, as one change through `running` (`viaRunning`):
   * returns the result, or `undefined` when this write has left already.
   */
  join(patch: ComputationPatch): Promise<ComputationRecord | undefined> | undefined;
}

/** Writes per `au_result_update_many` call. */
const MAX_BATCH = 500;
/**
 * Batches in flight at once: a second one lets the writes that start tasks (claims) leave
 * while the previous tasks' endings are still on their way, instead of waiting behind them.
 */
const MAX_IN_FLIGHT = 2;

/**
 * Sends the fenced writes of a store's queue workers in batches, one statement each
 * (`au_result_update_many`), and resolves each caller with its own result. A write waits
 * for no timer: when a batch may leave it goes out on the next turn of the event loop
 * (with whatever else was written in that turn); while the batches in flight are at
 * their limit, writes gather and leave together when one returns. So a lone write costs one round trip, and a
 * worker finishing 50 tasks at once makes one transaction instead of 50. Each write keeps
 * its own semantics (its lease, its `ifStatus`): a batch is many independent writes, not
 * one all-or-nothing change.
 */
export class FencedWriteBatcher {
  readonly #transport: RpcTransport;
  #pending: Pending[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(transport: RpcTransport) {
    this.#transport = transport;
  }

  write(write: FencedWrite): Promise<ComputationRecord | undefined> {
    return this.writeJoinable(write).result;
  }

  /**
   * `write`, which the computation's next write may join until it leaves with its batch.
   * A queue worker's claim goes this way: a short task's ending joins it, and the two
   * cost one row write.
   */
  writeJoinable(write: FencedWrite): JoinableWrite {
    let pending!: Pending;
    const result = new Promise<ComputationRecord | undefined>((resolve, reject) => {
      pending = { write, resolve, reject, sent: false };
      this.#pending.push(pending);
      this.#schedule();
    });
    return {
      result,
      join: (patch) => {
        if (pending.sent) return undefined;
        pending.write = { ...pending.write, patch: { ...pending.write.patch, ...patch }, viaRunning: true };
        return result;
      },
    };
  }

  // ---- private helpers ------------------------------------------------------------

  #schedule(): void {
    if (this.#inFlight >= MAX_IN_FLIGHT || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#inFlight >= MAX_IN_FLIGHT || this.#pending.length === 0) return;
    this.#inFlight += 1;
    // Rows are locked in key order, the same in every batch: two batches never wait on each other in a cycle.
    const batch = this.#pending.splice(0, MAX_BATCH).sort((a, b) => compareKeys(a.write.key, b.write.key));
    for (const item of batch) item.sent = true;
    try {
      const records = await this.#transport.call<(ComputationRecord | null)[]>(
        'au_result_update_many',
        { p_updates: batch.map((item) => toSql(item.write)) },
        { json: ['p_updates'] },
      );
      for (const [index, item] of batch.entries()) item.resolve(records[index] ?? undefined);
    } catch (error) {
      for (const item of batch) item.reject(error);
    } finally {
      this.#inFlight -= 1;
      if (this.#pending.length > 0) this.#schedule();
    }
  }
}

function toSql({ key, patch, options, now, leaseToken, viaRunning }: FencedWrite): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  const unset: string[] = [];
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) unset.push(field);
    else set[field] = value;
  }
  return {
    key,
    patch: set,
    unset,
    ...(options.ifStatus === undefined ? {} : { ifStatus: [...options.ifStatus] }),
    now,
    leaseToken,
    ...(viaRunning === true ? { viaRunning } : {}),
  };
}

/** The `"C"` collation's order (code units), as the database sorts keys. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
