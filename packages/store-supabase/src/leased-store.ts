import {
  type ClaimOptions,
  type ClaimResult,
  type ComputationPatch,
  type ComputationRecord,
  type ComputationStatus,
  type ComputationStore,
  isTerminalStatus,
  type ListQuery,
  type StoreCapabilities,
  type UpdateOptions,
} from '@au/core';
import { applyClaim, claimPatch } from '@au/core/kit';
import type { JoinableWrite } from './fenced-writes';
import type { Lease, SqlFunctionStore } from './sql-function-store';

/** A claim's write that the task may not wait for (see `LeasedStore.claim`). */
interface ClaimWrite {
  key: string;
  patch: ComputationPatch;
  /** The status the claim saw: the write applies only if the record still has it. */
  ifStatus: ComputationStatus[];
  /** In the batcher (joinable until it leaves), or `undefined` when it must be sent again. */
  sent: JoinableWrite | undefined;
  /** A send failed: it may have landed all the same (its reply was lost). */
  unsure: boolean;
}

/**
 * A store view whose updates are fenced by a queue lease; everything else is the store's.
 * Its writes go out in batches with the other workers' (`FencedWriteBatcher`). The row is
 * the queue entry, so a write that ends the computation or queues it again (a retry) is
 * the queue transition too: `finishedDelivery` then says nothing is left to do for the row.
 *
 * The claim (`pending → running`) is decided here, on the record the queue's claim read:
 * the lease already keeps every other worker off the row. The task starts without waiting
 * for the claim's write, which joins the next fenced batch; when the task's next write
 * (a short task's ending) comes before that batch leaves, both go as one row write. Each
 * still applies only if the record is as the claim saw it, so a cancel that came
 * meanwhile wins. A read of the record, or a write that cannot join, waits for the claim
 * to land first.
 */
export class LeasedStore implements ComputationStore {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  /** A fenced write ended the computation or queued it again, and with it the queue entry. */
  finishedDelivery = false;
  readonly #store: SqlFunctionStore;
  readonly #lease: Lease;
  #prefetched: ComputationRecord | undefined;
  #claimWrite: ClaimWrite | undefined;

  constructor(store: SqlFunctionStore, lease: Lease, prefetched?: ComputationRecord) {
    this.#store = store;
    this.#lease = lease;
    this.#prefetched = prefetched;
    this.name = store.name;
    this.capabilities = store.capabilities;
  }

  get id(): string | undefined {
    return this.#store.id;
  }

  async get(key: string) {
    const prefetched = this.#takePrefetched(key);
    if (prefetched !== undefined) return { ...prefetched };
    await this.#settleClaim(key);
    return this.#store.get(key);
  }
  list(query?: ListQuery) {
    return this.#store.list(query);
  }
  create(record: ComputationRecord) {
    return this.#store.create(record);
  }

  async claim(key: string, options: ClaimOptions): Promise<ClaimResult> {
    const current = this.#takePrefetched(key) ?? (await this.get(key));
    if (current === undefined) return { claimed: false, record: undefined };
    const record = applyClaim(current, options);
    if (record === undefined) return { claimed: false, record: current };
    if (this.#claimWrite !== undefined) await this.#settleClaim(this.#claimWrite.key);
    const write: ClaimWrite = {
      key,
      patch: claimPatch(current, options.now),
      ifStatus: [current.status],
      sent: undefined,
      unsure: false,
    };
    this.#claimWrite = write;
    this.#send(write);
    return { claimed: true, record };
  }

  async update(key: string, patch: ComputationPatch, options: UpdateOptions = {}) {
    this.#prefetched = undefined;
    const claim = this.#claimWrite;
    let record: ComputationRecord | undefined;
    if (claim?.key === key && !claim.unsure && joinsClaim(options)) {
      this.#claimWrite = undefined;
      // Joins the claim's write while it waits in the batcher, or goes with it again when it failed.
      const joined =
        claim.sent === undefined
          ? this.#store.updateWithLease(
              key,
              { ...claim.patch, ...patch },
              { ifStatus: claim.ifStatus },
              this.#lease,
              {
                batched: true,
                viaRunning: true,
              },
            )
          : claim.sent.join(patch);
      if (joined === undefined) {
        this.#claimWrite = claim;
        await this.#settleClaim(key);
      } else {
        try {
          record = await joined;
        } catch (error) {
          // One row in one statement: nothing of it landed, and the claim goes with the next try.
          this.#claimWrite = { ...claim, sent: undefined };
          throw error;
        }
        return this.#ended(record, patch);
      }
    } else await this.#settleClaim(key);
    record = await this.#store.updateWithLease(key, patch, options, this.#lease, { batched: true });
    return this.#ended(record, patch);
  }
  delete(key: string) {
    return this.#store.delete(key);
  }
  cleanupExpired(now?: number) {
    return this.#store.cleanupExpired(now);
  }
  async close(): Promise<void> {}

  // ---- private helpers ------------------------------------------------------------

  #takePrefetched(key: string): ComputationRecord | undefined {
    const prefetched = this.#prefetched;
    this.#prefetched = undefined;
    return prefetched?.key === key ? prefetched : undefined;
  }

  #ended(record: ComputationRecord | undefined, patch: ComputationPatch): ComputationRecord | undefined {
    if (record !== undefined && patch.status !== undefined && movesQueueEntry(patch.status))
      this.finishedDelivery = true;
    return record;
  }

  /** Hands the claim's write to the batcher; a failure marks it unsure (it may have landed). */
  #send(write: ClaimWrite): void {
    const sent = this.#store.writeJoinable(write.key, write.patch, { ifStatus: write.ifStatus }, this.#lease);
    write.sent = sent;
    sent.result.then(
      () => {
        if (this.#claimWrite === write) this.#claimWrite = undefined;
      },
      () => {
        if (this.#claimWrite === write) write.unsure = true;
      },
    );
  }

  /**
   * Resolves once nothing of `key`'s claim is left to send: it landed, or was refused (the
   * record moved on). A claim whose send failed is read back first, and sent again when it
   * did not land; a failure of that rejects, and the claim stays for the next try.
   */
  async #settleClaim(key: string): Promise<void> {
    const claim = this.#claimWrite;
    if (claim?.key !== key) return;
    if (claim.sent !== undefined && !claim.unsure) {
      try {
        await claim.sent.result;
        return;
      } catch {
        // Marked unsure by #send's handler: read it back below.
      }
    }
    if (!(claim.unsure && (await this.#landed(claim))))
      await this.#store.updateWithLease(key, claim.patch, { ifStatus: claim.ifStatus }, this.#lease, {
        batched: true,
      });
    if (this.#claimWrite === claim) this.#claimWrite = undefined;
  }

  async #landed(claim: ClaimWrite): Promise<boolean> {
    const record = await this.#store.get(claim.key);
    return record?.status === 'running' && record.startedAt === claim.patch.startedAt;
  }
}

// ---- private helpers --------------------------------------------------------------

/** An ending, or a return to `pending` (a retry): the write queued or ended the entry. */
function movesQueueEntry(status: ComputationRecord['status']): boolean {
  return isTerminalStatus(status) || status === 'pending';
}

/** Whether a write may go out with the claim's: it expects the `running` the claim makes. */
function joinsClaim(options: UpdateOptions): boolean {
  return options.ifStatus === undefined || options.ifStatus.includes('running');
}
