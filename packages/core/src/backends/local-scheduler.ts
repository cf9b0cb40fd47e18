import { type Clock, keepProcessAlive, systemClock } from '../clock';
import type { Invocation } from '../contracts/backend';
import type { ComputationStore } from '../contracts/store';
import { CancelledError } from '../errors/cancelled-error';
import { ClosedError } from '../errors/closed-error';
import type { ExecutionOutcome } from '../executor';
import { PriorityQueue } from '../internal/priority-queue';
import { recordCancelled } from '../lifecycle/record-cancelled';
import { silentLogger } from '../logger';
import type { TaskLogger } from '../task';

/** One computation a backend started for a `LocalScheduler` (see `LocalSchedulerOptions.start`). */
export interface LocalWork {
  /**
   * Stops the work: a `CancelledError` for a cancel, a `ClosedError` when the backend
   * closes. The run should end soon after, recording the cancel (core's executor does).
   */
  abort(reason: unknown): void;
  /**
   * Settles when the work is over and what ran it is free again: with the executor's
   * outcome (run it with `retryMode: 'report'`), or rejected when the store failed.
   */
  done: Promise<ExecutionOutcome>;
}

/** The slot one running computation holds (see `LocalSchedulerOptions.start`). */
export interface LocalSlot {
  /**
   * Frees the slot now, so the next computation starts before this one is done (e.g.
   * once its thread is free while its result is still being written). Otherwise the
   * slot frees when the work's `done` settles. Calling it again does nothing.
   */
  release(): void;
}

export interface LocalSchedulerOptions {
  /** The backend's name, in errors and logs: `[au] [<name>] …`. */
  name: string;
  /** Computations running at once (each holds a slot); more wait in the queue. */
  concurrency: number;
  /** Starts one computation now, in `slot`. */
  start(invocation: Invocation, slot: LocalSlot): LocalWork;
  /** The store the backend is bound to: work dropped at close is recorded `cancelled` there. */
  store(): ComputationStore;
  /** Time source for `runAt` delays, retry backoff and the close timeout. @default systemClock */
  clock?: Clock;
  /** Where a failing store (during a run, or recording a cancel) is logged. @default silentLogger */
  logger?: TaskLogger;
}

interface QueuedWork {
  invocation: Invocation;
  sequence: number;
}

/** A running computation: its slot, and what the backend's `start` returned. */
class RunningWork implements LocalSlot {
  holdsSlot = true;
  work!: LocalWork;
  /** Settles once the scheduler has handled the outcome (retry, log). */
  settled!: Promise<void>;

  readonly #onRelease: (running: RunningWork) => void;

  constructor(onRelease: (running: RunningWork) => void) {
    this.#onRelease = onRelease;
  }

  release(): void {
    this.#onRelease(this);
  }
}

/**
 * The scheduling every backend that runs work in this process shares (InProcessBackend,
 * ThreadsBackend, ProcessBackend): it accepts invocations, holds those with a future
 * `runAt` until then, runs higher `priority` first (FIFO within a priority) with at
 * most `concurrency` at once, re-queues `retry` outcomes after their delay, cancels
 * queued, delayed or running work, and drains on `close`. How one computation runs is
 * the backend's `start`.
 *
 * While it holds any work (queued, delayed, running, or waiting out a retry's backoff)
 * it keeps the Node process alive, so a script that awaits a delayed or retried result
 * does not end early; once idle, or closed, it lets the process end. The clock's timers
 * play no part in this: they stay unreferenced.
 */
export class LocalScheduler {
  readonly concurrency: number;
  readonly #name: string;
  readonly #store: () => ComputationStore;
  readonly #start: LocalSchedulerOptions['start'];
  readonly #clock: Clock;
  readonly #logger: TaskLogger;
  readonly #queue = new PriorityQueue<QueuedWork>(
    (a, b) =>
      a.invocation.priority > b.invocation.priority ||
      (a.invocation.priority === b.invocation.priority && a.sequence < b.sequence),
  );
  readonly #delayed = new Map<string, { timer: unknown; invocation: Invocation }>();
  readonly #running = new Map<string, RunningWork>();
  readonly #idleWaiters = new Set<() => void>();
  /** Work waiting to start (queued or delayed), per task name. */
  readonly #waitingByTask = new Map<string, number>();
  /** `LocalSlot.release`: one function for every slot. */
  readonly #onRelease = (running: RunningWork): void => {
    if (this.#releaseSlot(running)) this.#pump();
  };
  #slotsHeld = 0;
  #sequence = 0;
  #closed = false;
  /** Releases the process while this scheduler holds work; `undefined` when idle. */
  #releaseProcess: (() => void) | undefined;

  constructor(options: LocalSchedulerOptions) {
    this.concurrency = options.concurrency;
    this.#name = options.name;
    this.#store = options.store;
    this.#start = options.start;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
  }

  /** True once `close` was called: retries are no longer re-queued. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Computations running now. */
  get runningCount(): number {
    return this.#running.size;
  }

  /** Computations waiting for a slot (delayed ones included). */
  get queuedCount(): number {
    return this.#queue.size + this.#delayed.size;
  }

  /** Computations of `task` waiting for a slot (delayed ones included); all of them without `task`. */
  waitingCount(task?: string): number {
    return task === undefined ? this.queuedCount : (this.#waitingByTask.get(task) ?? 0);
  }

  /** Runs `invocation` now if a slot is free, else queues it; waits first when its `runAt` is ahead. */
  accept(invocation: Invocation): void {
    this.#releaseProcess ??= keepProcessAlive();
    this.#countWaiting(invocation.task, 1);
    const wait = invocation.runAt === undefined ? 0 : invocation.runAt - this.#clock.now();
    if (wait > 0) {
      const timer = this.#clock.setTimeout(() => {
        this.#delayed.delete(invocation.key);
        this.#enqueue(invocation);
      }, wait);
      this.#delayed.set(invocation.key, { timer, invocation });
      return;
    }
    this.#enqueue(invocation);
  }

  /**
   * Drops a delayed or queued computation, or aborts a running one with a
   * `CancelledError`. Returns `false` when this scheduler does not hold `key`.
   */
  cancel(key: string, reason?: string): boolean {
    const delayed = this.#delayed.get(key);
    if (delayed !== undefined) {
      this.#clock.clearTimeout(delayed.timer);
      this.#delayed.delete(key);
      this.#countWaiting(delayed.invocation.task, -1);
      this.#notifyIdle();
      return true;
    }
    const running = this.#running.get(key);
    if (running !== undefined) {
      running.work.abort(new CancelledError({ key, ...(reason === undefined ? {} : { reason }) }));
      return true;
    }
    const removed = this.#queue.remove((queued) => queued.invocation.key === key);
    for (const queued of removed) this.#countWaiting(queued.invocation.task, -1);
    if (removed.length > 0) this.#notifyIdle();
    return removed.length > 0;
  }

  /**
   * Stops taking retries and waits up to `timeout` ms for all work to end. Past it,
   * aborts the running work with a `ClosedError`, records the queued and delayed work
   * `cancelled`, and resolves once all of it is over.
   */
  async close(timeout: number): Promise<void> {
    this.#closed = true;
    const drained = await this.#waitIdle(timeout);
    if (drained) return;
    const left = [
      ...this.#queue.drain().map((queued) => queued.invocation),
      ...[...this.#delayed.values()].map((delayed) => delayed.invocation),
    ];
    for (const { timer } of this.#delayed.values()) this.#clock.clearTimeout(timer);
    this.#delayed.clear();
    this.#waitingByTask.clear();
    this.#notifyIdle();
    const closed = new ClosedError({ component: `backend ${this.#name}` });
    for (const running of this.#running.values()) running.work.abort(closed);
    await Promise.all([
      ...[...this.#running.values()].map((running) => running.settled),
      ...left.map((invocation) => this.#markCancelled(invocation)),
    ]);
  }

  // ---- private helpers ------------------------------------------------------------

  #enqueue(invocation: Invocation): void {
    if (this.#slotsHeld < this.concurrency && this.#queue.size === 0) this.#run(invocation);
    else {
      this.#queue.push({ invocation, sequence: this.#sequence++ });
      this.#pump();
    }
  }

  #pump(): void {
    while (this.#slotsHeld < this.concurrency && this.#queue.size > 0)
      this.#run(this.#queue.pop()!.invocation);
  }

  #run(invocation: Invocation): void {
    this.#countWaiting(invocation.task, -1);
    this.#slotsHeld += 1;
    const running = new RunningWork(this.#onRelease);
    this.#running.set(invocation.key, running);
    running.work = this.#start(invocation, running);
    running.settled = running.work.done.then(
      (outcome) => {
        this.#finish(invocation.key, running);
        if (outcome.status !== 'retry') return;
        if (this.#closed) void this.#markCancelled(invocation);
        else this.accept({ ...invocation, runAt: this.#clock.now() + outcome.delay });
      },
      (error: unknown) => {
        this.#finish(invocation.key, running);
        this.#logger.error(
          { err: error, key: invocation.key },
          `[au] [${this.#name}] store failed while running`,
        );
      },
    );
  }

  /** Frees the slot `running` holds; true when it held one. */
  #releaseSlot(running: RunningWork): boolean {
    if (!running.holdsSlot) return false;
    running.holdsSlot = false;
    this.#slotsHeld -= 1;
    return true;
  }

  #finish(key: string, running: RunningWork): void {
    if (this.#running.get(key) === running) this.#running.delete(key);
    this.#releaseSlot(running);
    this.#pump();
    this.#notifyIdle();
  }

  /** Records work dropped at close `cancelled`. */
  async #markCancelled(invocation: Invocation): Promise<void> {
    await recordCancelled({
      store: this.#store(),
      key: invocation.key,
      error: new CancelledError({ key: invocation.key, reason: 'the backend closed before it ran' }),
      ttl: invocation.ttl,
      clock: this.#clock,
    }).catch((writeError: unknown) =>
      this.#logger.error({ err: writeError }, `[au] [${this.#name}] could not record a cancel`),
    );
  }

  #countWaiting(task: string, delta: number): void {
    const count = (this.#waitingByTask.get(task) ?? 0) + delta;
    if (count > 0) this.#waitingByTask.set(task, count);
    else this.#waitingByTask.delete(task);
  }

  #isIdle(): boolean {
    return this.#running.size === 0 && this.#queue.size === 0 && this.#delayed.size === 0;
  }

  #notifyIdle(): void {
    if (!this.#isIdle()) return;
    this.#releaseProcess?.();
    this.#releaseProcess = undefined;
    for (const resolve of this.#idleWaiters) resolve();
    this.#idleWaiters.clear();
  }

  /** Resolves `true` once idle, or `false` when `timeout` ms pass first. */
  #waitIdle(timeout: number): Promise<boolean> {
    if (this.#isIdle()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
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
}
