import type { ComputationPatch, ComputationRecord, UpdateOptions } from '@au/core';
import type { RpcTransport } from './rpc-transport';

/** One record write fenced by a queue lease, as `au_result_update_many` reads it. */
export interface FencedWrite {
  key: string;
  patch: ComputationPatch;
  options: UpdateOptions;
  now: number;
  leaseToken: string;
}

interface Pending {
  write: FencedWrite;
  resolve: (record: ComputationRecord | undefined) => void;
  reject: (error: unknown) => void;
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
    return new Promise((resolve, reject) => {
      this.#pending.push({ write, resolve, reject });
      this.#schedule();
    });
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

function toSql({ key, patch, options, now, leaseToken }: FencedWrite): Record<string, unknown> {
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
  };
}

/** The `"C"` collation's order (code units), as the database sorts keys. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
