import type { ComputationRecord, PausedState, SerializedError } from '@au/core';
import type { RpcTransport } from '@au/store-supabase';

/**
 * One claimed queue entry as `au_claim` returns it. The entry is its computation's row:
 * `id` is the key, and `record` the live record read in the same statement (absent when
 * the record lives in another store, or expired).
 */
export interface ClaimedTask {
  id: string | number;
  key: string;
  record?: ComputationRecord | null;
  task: string;
  attempts: number;
  max_attempts: number;
  backoff: BackoffSpec | null;
  timeout_ms: number | null;
  lease_token: string;
  priority: number;
}

/** A record `au_claim`'s sweep failed for good (its lease lapsed too often). */
interface DeadLetterEntry {
  dead_letter: true;
  key: string;
  record: ComputationRecord;
}

/** The last entry of a short claim while rows wait on a full rate window (`p_wake_hint`). */
interface WakeHintEntry {
  wake_in_ms: number;
}

/** What one claim returns: the rows it leased, and the records its sweep failed for good. */
export interface ClaimBatch {
  rows: ClaimedTask[];
  deadLetters: ComputationRecord[];
  /** Rows wait on a full rate-limit window that has room again in this many ms: claim again then. */
  wakeInMs?: number;
}

/** A retry policy's backoff as the SQL function `au_backoff_ms` reads it. */
export interface BackoffSpec {
  kind: 'fixed' | 'linear' | 'exponential';
  delay: number;
  max?: number;
  spread?: number;
  scale?: number;
}

/** What `enqueue` writes for one computation. */
export interface QueueJob {
  key: string;
  task: string;
  priority: number;
  runAtMs?: number;
  maxAttempts: number;
  backoff?: BackoffSpec;
  timeoutMs?: number;
  maxLeaseExpiries: number;
  /** The launch's concurrency group (`Invocation.concurrency.key`): at most `concurrencyLimit` of it run at once. */
  concurrencyKey?: string;
  concurrencyLimit?: number;
  /** The launch's rate-limit group (`Invocation.rateLimit.key`): at most `rateLimit` claims per `rateInterval` ms. */
  rateKey?: string;
  rateLimit?: number;
  rateInterval?: number;
}

/**
 * The queue half of the migration (`au_enqueue`, `au_claim`, …) as typed calls. Every
 * call addresses a computation's row by its key: the row is the queue entry.
 */
export class QueueClient {
  readonly transport: RpcTransport;
  readonly queue: string;

  constructor(transport: RpcTransport, queue: string) {
    this.transport = transport;
    this.queue = queue;
  }

  /** Idempotent: a computation already queued or running is left alone, so a retried enqueue adds nothing. */
  enqueue(job: QueueJob): Promise<number> {
    return this.transport.call(
      'au_enqueue',
      {
        p_key: job.key,
        p_task: job.task,
        p_priority: job.priority,
        p_run_at_ms: job.runAtMs,
        p_max_attempts: job.maxAttempts,
        p_backoff: job.backoff,
        p_queue: this.queue,
        p_max_lease_expiries: job.maxLeaseExpiries,
        p_timeout_ms: job.timeoutMs,
        p_concurrency_key: job.concurrencyKey,
        p_concurrency_limit: job.concurrencyLimit,
        p_rate_key: job.rateKey,
        p_rate_limit: job.rateLimit,
        p_rate_interval_ms: job.rateInterval,
      },
      { json: ['p_backoff'], idempotent: true },
    );
  }

  /** One statement for the whole batch; resolves with how many were queued. */
  enqueueMany(jobs: readonly QueueJob[]): Promise<number> {
    return this.transport.call(
      'au_enqueue_many',
      { p_jobs: jobs, p_queue: this.queue },
      { json: ['p_jobs'], idempotent: true },
    );
  }

  /** Leases up to `limit` runnable rows (see `claimBatch`; the dead letters it found are dropped). */
  async claim(
    worker: string,
    limit: number,
    leaseMs: number,
    options: { tasks?: readonly string[]; claimId?: string } = {},
  ): Promise<ClaimedTask[]> {
    return (await this.claimBatch(worker, limit, leaseMs, options)).rows;
  }

  /**
   * Leases up to `limit` runnable rows. With a `claimId` (a UUID the worker keeps until a
   * claim answers) the call is safe to repeat: a claim tried again after its reply was
   * lost returns the rows it took instead of taking more, so no row waits out a lease
   * nobody holds and nothing runs twice. `deadLetters` are the records this claim's sweep
   * of lapsed leases failed for good (lease lapsed `maxLeaseExpiries` times): no other
   * claim returns them, so the caller announces each once.
   */
  async claimBatch(
    worker: string,
    limit: number,
    leaseMs: number,
    { tasks, claimId }: { tasks?: readonly string[]; claimId?: string } = {},
  ): Promise<ClaimBatch> {
    const entries: (ClaimedTask | DeadLetterEntry | WakeHintEntry)[] = await this.transport.call(
      'au_claim',
      {
        p_queue: this.queue,
        p_worker: worker,
        p_limit: limit,
        p_lease_ms: leaseMs,
        p_tasks: tasks === undefined ? undefined : [...tasks],
        p_claim_id: claimId,
        p_wake_hint: true,
      },
      { idempotent: claimId !== undefined },
    );
    const batch: ClaimBatch = { rows: [], deadLetters: [] };
    for (const entry of entries) {
      if ('dead_letter' in entry) batch.deadLetters.push(entry.record);
      else if ('wake_in_ms' in entry) batch.wakeInMs = Number(entry.wake_in_ms);
      else batch.rows.push(entry);
    }
    return batch;
  }

  heartbeat(task: ClaimedTask, leaseMs: number): Promise<'ok' | 'cancel' | 'lost'> {
    return this.transport.call(
      'au_heartbeat',
      { p_key: task.key, p_lease_token: task.lease_token, p_lease_ms: leaseMs },
      { idempotent: true },
    );
  }

  complete(task: ClaimedTask, status: 'completed' | 'cancelled' = 'completed'): Promise<boolean> {
    return this.transport.call(
      'au_complete',
      { p_key: task.key, p_lease_token: task.lease_token, p_status: status },
      { idempotent: true },
    );
  }

  /** `retry` undefined lets SQL decide (attempts left); `delayMs` undefined lets SQL compute the backoff. */
  fail(
    task: ClaimedTask,
    error: SerializedError,
    retry?: boolean,
    delayMs?: number,
  ): Promise<'retry' | 'failed' | 'refused'> {
    return this.transport.call(
      'au_fail',
      {
        p_key: task.key,
        p_lease_token: task.lease_token,
        p_error: error,
        p_retry: retry,
        p_delay_ms: delayMs,
      },
      { json: ['p_error'], idempotent: true },
    );
  }

  /**
   * Gives a delivery back without counting it (its record could not be written: a store
   * outage); it runs again after `delayMs`. False when the lease was no longer held.
   */
  release(task: ClaimedTask, delayMs: number): Promise<boolean> {
    return this.transport.call(
      'au_release',
      { p_key: task.key, p_lease_token: task.lease_token, p_delay_ms: Math.max(0, Math.round(delayMs)) },
      { idempotent: true },
    );
  }

  /** Records `storeId` as the store of this queue when none is; resolves with the one recorded. */
  bindStore(storeId: string): Promise<string> {
    return this.transport.call(
      'au_bind_store',
      { p_queue: this.queue, p_store_id: storeId },
      { idempotent: true },
    );
  }

  cancel(key: string, reason?: string): Promise<boolean> {
    return this.transport.call(
      'au_cancel',
      { p_key: key, p_queue: this.queue, p_reason: reason },
      { idempotent: true },
    );
  }

  /** Entries waiting to start (delayed included), of `task` only when given. */
  async count(task?: string): Promise<number> {
    const count = await this.transport.call<number | string>(
      'au_queue_count',
      { p_queue: this.queue, p_task: task ?? null },
      { idempotent: true },
    );
    return Number(count);
  }

  /** Pauses `task` (without it, the whole queue) for every worker; true when it was not paused yet. */
  pause(task?: string): Promise<boolean> {
    return this.transport.call(
      'au_pause',
      { p_queue: this.queue, p_task: task ?? null },
      { idempotent: true },
    );
  }

  /** Resumes `task` (without it, the whole queue); true when it was paused. */
  resume(task?: string): Promise<boolean> {
    return this.transport.call(
      'au_resume',
      { p_queue: this.queue, p_task: task ?? null },
      { idempotent: true },
    );
  }

  /** What is paused in this queue. */
  paused(): Promise<PausedState> {
    return this.transport.call('au_paused', { p_queue: this.queue }, { idempotent: true });
  }

  stats(): Promise<Record<string, number>> {
    return this.transport.call('au_queue_stats', { p_queue: this.queue }, { idempotent: true });
  }
}
