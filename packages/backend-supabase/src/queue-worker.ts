import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  CancelledError,
  type Clock,
  type ComputationRecord,
  type ComputationStore,
  type Middleware,
  systemClock,
  type TaskLogger,
  type TaskRegistry,
} from '@au/core';
import {
  type ExecutionOutcome,
  keepProcessAlive,
  notifyDeadLetter,
  type StoreRetryOptions,
} from '@au/core/kit';
import { DeliveryRunner, type LocalInvocation } from './delivery-runner';
import { LeaseLostError } from './errors/lease-lost-error';
import type { ClaimedTask, QueueClient } from './queue-client';

export type { LocalInvocation } from './delivery-runner';

/** How a queue worker runs. */
export interface QueueWorkerOptions {
  queue: QueueClient;
  /** Where records live for work launched elsewhere. */
  store: ComputationStore;
  /**
   * `store` keeps its records in this queue's own rows (an au SQL store over the queue's
   * schema in the same database, by identity): the claim reads the records with the
   * entries, and the writes are fenced by the lease. @default false
   */
  ownStore?: boolean;
  /** Tasks by name, for work launched elsewhere. */
  tasks: TaskRegistry | undefined;
  /** Work launched by this process: run with the task, codec and middleware core registered. */
  local?: (key: string) => LocalInvocation | undefined;
  maxConcurrentTasks: number;
  pollingInterval: number;
  leaseMs: number;
  heartbeatInterval: number;
  middleware: readonly Middleware[];
  logger: TaskLogger;
  clock?: Clock;
  /** How long record writes keep trying through a store outage. @default core's (30 s) */
  storeRetry?: StoreRetryOptions;
  /** Called when a computation this worker ran reached an outcome. */
  onSettled?: (key: string, outcome: ExecutionOutcome | undefined) => void;
  /** Names the worker in the queue rows it leases. */
  workerId?: string;
}

interface RunningTask {
  row: ClaimedTask;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Polls the queue (with jitter, or at once when woken), claims up to the free slots,
 * runs each claim (`DeliveryRunner`: core's executor in `report` mode), renews leases
 * while it runs and aborts on a cancel seen at a heartbeat.
 */
export class QueueWorker {
  readonly id: string;
  readonly #options: QueueWorkerOptions;
  readonly #clock: Clock;
  readonly #runner: DeliveryRunner;
  readonly #running = new Map<string, RunningTask>();
  readonly #idleWaiters = new Set<() => void>();
  #timer: unknown;
  #polling = false;
  #pollAgain = false;
  #wakeScheduled = false;
  /** Claimed ahead, waiting for a slot (see `#poll`). */
  #ready: { row: ClaimedTask; record: ComputationRecord | undefined }[] = [];
  #backlog = false;
  #stopped = false;
  /**
   * Held from `start` to `stop`: a worker runs until stopped. Its timers are unref'd, and
   * while the database is out of reach it holds no connection either, so without this a
   * worker process ended (exit code 0, nothing logged) the moment the link dropped.
   */
  #releaseProcess: (() => void) | undefined;
  #failures = 0;
  /** The id of the claim being made, kept until a claim answers (see `QueueClient.claim`). */
  #claimId: string | undefined;
  /** The pending wake-up for a full rate-limit window (see `#wakeForRateWindow`). */
  #rateWake: { at: number; timer: unknown } | undefined;

  constructor(options: QueueWorkerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.id = options.workerId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.#runner = new DeliveryRunner({
      queue: options.queue,
      store: options.store,
      ownStore: options.ownStore === true,
      tasks: options.tasks,
      middleware: options.middleware,
      logger: options.logger,
      clock: this.#clock,
      storeRetry: options.storeRetry,
      startHeartbeat: (row, controller, abortOnLost) => this.#startHeartbeat(row, controller, abortOnLost),
      wakeIn: (delay) => this.wakeIn(delay),
    });
  }

  start(): void {
    if (!this.#stopped) this.#releaseProcess ??= keepProcessAlive();
    this.wake();
  }

  /** Claims now (a NOTIFY, a local launch, a retry coming due). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#polling) {
      this.#pollAgain = true;
      return;
    }
    void this.#poll();
  }

  /**
   * Claims once the current turn of the event loop is over: the tasks whose writes
   * returned together free their slots together, and one claim fills them all.
   */
  #wakeSoon(): void {
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      this.wake();
    });
  }

  /** Claims at `delay` ms from now (a delayed launch or a retry in this process). */
  wakeIn(delay: number): void {
    if (this.#stopped) return;
    const timer = this.#clock.setTimeout(() => this.wake(), Math.max(0, delay) + 5);
    (timer as { unref?: () => void }).unref?.();
  }

  get runningCount(): number {
    return this.#running.size;
  }

  /** Aborts the computation if it runs here; true when it did. */
  abort(key: string, reason: unknown): boolean {
    const running = this.#running.get(key);
    if (running === undefined) return false;
    running.controller.abort(reason);
    return true;
  }

  /** Stops claiming; running work goes on (see `drain`). */
  stop(): void {
    this.#stopped = true;
    this.#releaseProcess?.();
    this.#releaseProcess = undefined;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#rateWake !== undefined) this.#clock.clearTimeout(this.#rateWake.timer);
    this.#rateWake = undefined;
    this.#giveBackReady(this.#ready.splice(0).map((item) => item.row));
  }

  /** Resolves true once nothing runs here, false after `timeout` ms. */
  waitIdle(timeout: number): Promise<boolean> {
    if (this.#running.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        this.#clock.clearTimeout(timer);
        resolve(true);
      };
      const timer = this.#clock.setTimeout(() => {
        this.#idleWaiters.delete(done);
        resolve(false);
      }, timeout);
      this.#idleWaiters.add(done);
    });
  }

  /** Aborts everything still running (shutdown) and waits for it to settle. */
  async abortAll(reason: unknown): Promise<void> {
    const running = [...this.#running.values()];
    for (const task of running) task.controller.abort(reason);
    await Promise.all(running.map((task) => task.done));
  }

  // ---- private helpers ------------------------------------------------------------

  async #poll(): Promise<void> {
    this.#polling = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    let claimedAll = false;
    try {
      do {
        this.#pollAgain = false;
        this.#startReady();
        const max = this.#options.maxConcurrentTasks;
        // With a backlog (the last claim came back full), claim the next batch ahead while
        // this one runs, so that freed slots start at once instead of after a round trip.
        // Never with one slot: strict priority order matters more there than throughput.
        const ahead = this.#backlog && max > 1 ? max : 0;
        const wanted = max - this.#running.size + ahead - this.#ready.length;
        if (wanted <= 0 || this.#stopped) break;
        // A claim whose reply was lost is made again under the same id: it answers with the
        // rows it took then (slots only free up meanwhile, so they still fit).
        this.#claimId ??= randomUUID();
        const { rows, deadLetters, wakeInMs } = await this.#options.queue.claimBatch(
          this.id,
          wanted,
          this.#options.leaseMs,
          { claimId: this.#claimId },
        );
        this.#claimId = undefined;
        this.#failures = 0;
        if (deadLetters.length > 0) this.#announce(deadLetters);
        if (wakeInMs !== undefined) this.#wakeForRateWindow(wakeInMs);
        rows.sort((a, b) => b.priority - a.priority);
        const prefetched = this.#prefetch(rows);
        for (const row of rows) this.#ready.push({ row, record: prefetched.get(row.key) });
        if (rows.length > 0) this.#releaseIfStillWaiting(rows);
        this.#startReady();
        this.#backlog = rows.length === wanted;
        claimedAll = this.#backlog && this.#running.size < max;
      } while ((claimedAll || this.#pollAgain) && !this.#stopped);
    } catch (error) {
      this.#failures += 1;
      if (this.#failures === 1 || this.#failures % 20 === 0)
        this.#options.logger.warn(
          { err: error, failures: this.#failures },
          `[au] [${this.#options.queue.transport.name}-queue] claim failed; trying again`,
        );
    } finally {
      this.#polling = false;
    }
    this.#scheduleNextPoll();
  }

  /**
   * Tells the worker's `deadLetter` hooks of the records this worker's claim failed (the
   * queue gave up on them: their lease lapsed `maxLeaseExpiries` times). Not awaited: a
   * slow hook must not hold up claiming; `notifyDeadLetter` logs a hook that throws.
   */
  #announce(records: readonly ComputationRecord[]): void {
    const { middleware, logger, local } = this.#options;
    for (const record of records) {
      logger.error(
        { key: record.key, task: record.task },
        `[au] [${this.#options.queue.transport.name}-queue] computation "${record.key}" failed: ${record.error?.message ?? 'its lease lapsed too often'}`,
      );
    }
    void (async () => {
      // Work this process launched has its launch's middleware (its onDeadLetter), as when it runs.
      for (const record of records)
        await notifyDeadLetter(local?.(record.key)?.run.middleware ?? middleware, record, logger);
    })();
  }

  /**
   * Claims again when a full rate-limit window has room (the claim said when), instead of
   * at the next poll: one timer, moved earlier when a later claim names an earlier time.
   */
  #wakeForRateWindow(delay: number): void {
    const at = this.#clock.now() + Math.max(0, delay);
    if (this.#rateWake !== undefined && this.#rateWake.at <= at) return;
    if (this.#rateWake !== undefined) this.#clock.clearTimeout(this.#rateWake.timer);
    const timer = this.#clock.setTimeout(() => {
      this.#rateWake = undefined;
      this.wake();
    }, Math.max(0, delay) + 5);
    (timer as { unref?: () => void }).unref?.();
    this.#rateWake = { at, timer };
  }

  /** Starts claimed-ahead rows while slots are free. */
  #startReady(): void {
    while (
      !this.#stopped &&
      this.#ready.length > 0 &&
      this.#running.size < this.#options.maxConcurrentTasks
    ) {
      const next = this.#ready.shift()!;
      this.#start(next.row, next.record);
    }
  }

  /**
   * Rows claimed ahead hold a lease nobody renews: those still waiting after a heartbeat
   * interval (the slots are held by long tasks) go back to the queue, uncounted, for a
   * worker with room.
   */
  #releaseIfStillWaiting(rows: readonly ClaimedTask[]): void {
    const timer = this.#clock.setTimeout(() => {
      const waiting = new Set(rows);
      const stale = this.#ready.filter((item) => waiting.has(item.row)).map((item) => item.row);
      if (stale.length === 0) return;
      this.#ready = this.#ready.filter((item) => !waiting.has(item.row));
      this.#backlog = false;
      this.#giveBackReady(stale);
    }, this.#options.heartbeatInterval);
    (timer as { unref?: () => void }).unref?.();
  }

  #giveBackReady(rows: readonly ClaimedTask[]): void {
    for (const row of rows)
      this.#options.queue
        .release(row, 0)
        .catch((error: unknown) =>
          this.#options.logger.warn(
            { err: error, key: row.key },
            `[au] [${this.#options.queue.transport.name}-queue] could not give back computation "${row.key}" claimed ahead; it is claimed again once its lease lapses`,
          ),
        );
  }

  #scheduleNextPoll(): void {
    if (this.#stopped) return;
    const base = this.#options.pollingInterval * (this.#failures > 0 ? Math.min(2 ** this.#failures, 10) : 1);
    const jittered = base * (0.5 + Math.random());
    this.#timer = this.#clock.setTimeout(() => this.wake(), jittered);
  }

  /**
   * The records of a claimed batch, where the worker's store is the queue's own: the claim
   * read them with the entries (each entry is its record's row), so nothing more is read.
   */
  #prefetch(rows: readonly ClaimedTask[]): Map<string, ComputationRecord> {
    const prefetched = new Map<string, ComputationRecord>();
    if (this.#options.ownStore !== true) return prefetched;
    for (const row of rows) if (row.record) prefetched.set(row.key, row.record);
    return prefetched;
  }

  #start(row: ClaimedTask, prefetched?: ComputationRecord): void {
    const controller = new AbortController();
    const running: RunningTask = { row, controller, done: Promise.resolve() };
    this.#running.set(row.key, running);
    const options = this.#options;
    running.done = this.#runner
      .run(row, controller, options.local?.(row.key), prefetched)
      .then(
        (outcome) => options.onSettled?.(row.key, outcome),
        (error: unknown) => {
          options.logger.error(
            { err: error, key: row.key },
            `[au] [${options.queue.transport.name}-queue] run failed; the delivery is claimed again once its lease lapses`,
          );
          options.onSettled?.(row.key, undefined);
        },
      )
      .finally(() => {
        if (this.#running.get(row.key) === running) this.#running.delete(row.key);
        this.#startReady();
        if (this.#running.size === 0) {
          for (const resolve of this.#idleWaiters) resolve();
          this.#idleWaiters.clear();
        }
        this.#wakeSoon();
      });
  }

  /** Renews the lease every `heartbeatInterval` ms; aborts on a cancel or a lost lease. Returns `stop`. */
  #startHeartbeat(row: ClaimedTask, controller: AbortController, abortOnLost: boolean): () => void {
    const options = this.#options;
    let stopped = false;
    let timer: unknown;
    const beat = async () => {
      try {
        const answer = await options.queue.heartbeat(row, options.leaseMs);
        if (answer === 'cancel') controller.abort(new CancelledError({ key: row.key, reason: 'cancelled' }));
        else if (answer === 'lost' && abortOnLost)
          controller.abort(new LeaseLostError({ key: row.key, component: options.queue.transport.name }));
      } catch (error) {
        options.logger.warn(
          { err: error, key: row.key },
          `[au] [${options.queue.transport.name}-queue] heartbeat failed`,
        );
      }
      if (!stopped && !controller.signal.aborted)
        timer = this.#clock.setTimeout(beat, options.heartbeatInterval);
    };
    timer = this.#clock.setTimeout(beat, options.heartbeatInterval);
    return () => {
      stopped = true;
      this.#clock.clearTimeout(timer);
    };
  }
}
