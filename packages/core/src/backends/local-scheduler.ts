import { type Clock, keepProcessAlive, systemClock } from '../clock';
import type { Invocation, PausedState } from '../contracts/backend';
import type { ComputationStore } from '../contracts/store';
import { CancelledError } from '../errors/cancelled-error';
import { ClosedError } from '../errors/closed-error';
import type { ExecutionOutcome } from '../executor';
import { PriorityQueue } from '../internal/priority-queue';
import { recordCancelled } from '../lifecycle/record-cancelled';
import { silentLogger } from '../logger';
import type { TaskLogger } from '../task';
import { ConcurrencyGate, type LocalGate, type QueuedWork, RateGate, runsBefore } from './local-gates';

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

/** A running computation: its slot, and what the backend's `start` returned. */
class RunningWork implements LocalSlot {
  holdsSlot = true;
  work!: LocalWork;
  /** Settles once the scheduler has handled the outcome (retry, log). */
  settled!: Promise<void>;

  readonly #onRelease: (running: RunningWork) => void;

  constructor(
    onRelease: (running: RunningWork) => void,
    /** The concurrency group it holds a place in, freed with its slot. */
    readonly group: ConcurrencyGate | undefined,
  ) {
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
 * It also enforces the flow limits core computed at launch, in memory: at most
 * `invocation.concurrency.limit` of one concurrency group running at once, at most
 * `invocation.rateLimit.limit` starts of one rate-limit group per sliding
 * `interval`, and `pause`. Work a limit or a pause stops is parked aside (per group, per
 * task) and goes back to the queue, in order, as its group frees; so the queue never
 * rescans what waits behind a full group, and work without limits pays nothing.
 *
 * While it holds any work (queued, delayed, parked, running, or waiting out a retry's
 * backoff) it keeps the Node process alive, so a script that awaits a delayed or retried
 * result does not end early; once idle, or closed, it lets the process end. The clock's
 * timers play no part in this: they stay unreferenced.
 */
export class LocalScheduler {
  readonly concurrency: number;
  readonly #name: string;
  readonly #store: () => ComputationStore;
  readonly #start: LocalSchedulerOptions['start'];
  readonly #clock: Clock;
  readonly #logger: TaskLogger;
  /** Work that may start as soon as a slot frees, unless a limit or a pause stops it. */
  readonly #queue = new PriorityQueue<QueuedWork>(runsBefore);
  /** Every computation waiting to start (queued, delayed, paused, parked), by key. */
  readonly #waiting = new Map<string, QueuedWork>();
  readonly #running = new Map<string, RunningWork>();
  readonly #idleWaiters = new Set<() => void>();
  /** Work waiting to start, per task name. */
  readonly #waitingByTask = new Map<string, number>();
  readonly #concurrencyGates = new Map<string, ConcurrencyGate>();
  readonly #rateGates = new Map<string, RateGate>();
  /** Rate gates kept at most about twice this many before the unused are swept. */
  #rateSweepAt = RATE_SWEEP_MIN;
  #queuePaused = false;
  readonly #pausedTasks = new Set<string>();
  /** Work a pause stopped, per task, until `resume`. */
  readonly #pausedWork = new Map<string, QueuedWork[]>();
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

  /** Computations waiting to start (delayed, paused and held by a flow limit included). */
  get queuedCount(): number {
    return this.#waiting.size;
  }

  /** Computations of `task` waiting to start (as `queuedCount`); all of them without `task`. */
  waitingCount(task?: string): number {
    return task === undefined ? this.queuedCount : (this.#waitingByTask.get(task) ?? 0);
  }

  /** Runs `invocation` now if it may, else queues it; waits first when its `runAt` is ahead. */
  accept(invocation: Invocation): void {
    if (this.#waiting.has(invocation.key)) return;
    this.#releaseProcess ??= keepProcessAlive();
    this.#countWaiting(invocation.task, 1);
    const queued: QueuedWork = { invocation, sequence: 0, place: 'delayed' };
    this.#waiting.set(invocation.key, queued);
    const wait = invocation.runAt === undefined ? 0 : invocation.runAt - this.#clock.now();
    if (wait > 0) {
      queued.timer = this.#clock.setTimeout(() => {
        queued.timer = undefined;
        this.#enqueue(queued);
      }, wait);
      return;
    }
    this.#enqueue(queued);
  }

  /**
   * Drops a waiting computation, or aborts a running one with a `CancelledError`.
   * Returns `false` when this scheduler does not hold `key`.
   */
  cancel(key: string, reason?: string): boolean {
    const queued = this.#waiting.get(key);
    if (queued !== undefined) {
      this.#drop(queued);
      this.#pump();
      this.#notifyIdle();
      return true;
    }
    const running = this.#running.get(key);
    if (running === undefined) return false;
    running.work.abort(new CancelledError({ key, ...(reason === undefined ? {} : { reason }) }));
    return true;
  }

  /**
   * Stops starting work of `task` (without it: of every task) until `resume`. What runs
   * finishes; what waits stays waiting, in order.
   */
  pause(task?: string): void {
    if (task === undefined) this.#queuePaused = true;
    else this.#pausedTasks.add(task);
  }

  /** Starts `task` (without it: the whole queue) again; a task paused by name stays paused until resumed by name. */
  resume(task?: string): void {
    if (task === undefined) this.#queuePaused = false;
    else this.#pausedTasks.delete(task);
    if (this.#queuePaused) return;
    for (const [name, works] of this.#pausedWork) {
      if (this.#pausedTasks.has(name)) continue;
      this.#pausedWork.delete(name);
      for (const queued of works) this.#toQueue(queued);
    }
    this.#pump();
  }

  /** What is paused now. */
  paused(): PausedState {
    return { queue: this.#queuePaused, tasks: [...this.#pausedTasks].sort() };
  }

  /**
   * Stops taking retries and waits up to `timeout` ms for all work to end. Past it,
   * aborts the running work with a `ClosedError`, records the waiting work `cancelled`,
   * and resolves once all of it is over.
   */
  async close(timeout: number): Promise<void> {
    this.#closed = true;
    const drained = await this.#waitIdle(timeout);
    if (drained) return;
    // Everything waiting at once (dropping one by one would re-sort the queue each time).
    const left = [...this.#waiting.values()];
    for (const queued of left) if (queued.place === 'delayed') this.#clock.clearTimeout(queued.timer);
    for (const gate of this.#rateGates.values()) this.#clock.clearTimeout(gate.timer);
    // Running work still frees places as it ends: nothing parked may start then.
    for (const gate of [...this.#concurrencyGates.values(), ...this.#rateGates.values()]) {
      gate.parked.drain();
      gate.released = 0;
    }
    this.#queue.drain();
    this.#waiting.clear();
    this.#waitingByTask.clear();
    this.#pausedWork.clear();
    this.#rateGates.clear();
    this.#notifyIdle();
    const closed = new ClosedError({ component: `backend ${this.#name}` });
    for (const running of this.#running.values()) running.work.abort(closed);
    await Promise.all([
      ...[...this.#running.values()].map((running) => running.settled),
      ...left.map((queued) => this.#markCancelled(queued.invocation)),
    ]);
  }

  // ---- private helpers ------------------------------------------------------------

  #enqueue(queued: QueuedWork): void {
    queued.sequence = this.#sequence++;
    // The common case: a free slot, nothing ahead of it.
    if (this.#slotsHeld < this.concurrency && this.#queue.size === 0) this.#admit(queued);
    else {
      this.#toQueue(queued);
      this.#pump();
    }
  }

  #toQueue(queued: QueuedWork): void {
    queued.place = 'queued';
    this.#queue.push(queued);
  }

  #pump(): void {
    while (this.#slotsHeld < this.concurrency && this.#queue.size > 0) {
      const queued = this.#queue.pop()!;
      const from = queued.releasedBy;
      if (from !== undefined) {
        from.released -= 1;
        queued.releasedBy = undefined;
      }
      this.#admit(queued);
      // Parked again elsewhere (a pause, another limit): its gate lets the next one through.
      if (from !== undefined) this.#refill(from);
    }
  }

  /** Starts `queued` (a slot is free) unless a pause or a flow limit stops it: then parks it. */
  #admit(queued: QueuedWork): void {
    const { invocation } = queued;
    if (this.#queuePaused || this.#pausedTasks.has(invocation.task)) {
      queued.place = 'paused';
      const works = this.#pausedWork.get(invocation.task);
      if (works === undefined) this.#pausedWork.set(invocation.task, [queued]);
      else works.push(queued);
      return;
    }
    const group =
      invocation.concurrency === undefined
        ? undefined
        : ConcurrencyGate.of(this.#concurrencyGates, invocation.concurrency);
    if (group !== undefined && !group.open()) {
      this.#park(queued, group);
      return;
    }
    let rate: RateGate | undefined;
    if (invocation.rateLimit !== undefined) {
      rate = this.#rateGate(invocation.rateLimit);
      const now = this.#clock.now();
      if (!rate.open(now)) {
        this.#park(queued, rate);
        // It may have made its concurrency group, just opened, for nothing.
        if (group?.unused) this.#concurrencyGates.delete(group.key);
        this.#armRate(rate, now);
        return;
      }
    }
    this.#waiting.delete(invocation.key);
    if (group !== undefined) group.running += 1;
    // The start counts from now, not from the decision: never earlier than it happens.
    rate?.record(this.#clock.now());
    this.#run(invocation, group);
  }

  #park(queued: QueuedWork, gate: LocalGate): void {
    queued.place = gate;
    gate.parked.push(queued);
  }

  /** Moves as much parked work of `gate` back to the queue as may start now. */
  #refill(gate: LocalGate): void {
    const now = this.#clock.now();
    for (let room = gate.vacancies(now); room > 0 && gate.parked.size > 0; room--) {
      const queued = gate.parked.pop()!;
      queued.releasedBy = gate;
      gate.released += 1;
      this.#toQueue(queued);
    }
    if (gate instanceof RateGate) this.#armRate(gate, now);
    else if ((gate as ConcurrencyGate).unused) this.#concurrencyGates.delete(gate.key);
  }

  /**
   * Sets the timer that reopens a full rate gate for its parked work. `now` must be the
   * reading its caller decided on: a later one may find room the caller did not hand out
   * (time passes, and a timer fires a few ms early against `Date.now()`), and parked work
   * would be left with neither a timer nor released work to pass the room on.
   */
  #armRate(gate: RateGate, now: number): void {
    if (gate.timer !== undefined || gate.parked.size === 0) return;
    const wait = gate.reopensIn(now);
    // Room now: the work it moved back holds it (`released`), and hands it on if it cannot use it.
    if (wait === undefined) return;
    gate.timer = this.#clock.setTimeout(() => {
      gate.timer = undefined;
      this.#refill(gate);
      this.#pump();
    }, wait);
  }

  #rateGate(group: NonNullable<Invocation['rateLimit']>): RateGate {
    if (!this.#rateGates.has(group.key) && this.#rateGates.size >= this.#rateSweepAt) {
      const now = this.#clock.now();
      for (const [key, gate] of this.#rateGates) if (gate.unused(now)) this.#rateGates.delete(key);
      this.#rateSweepAt = Math.max(RATE_SWEEP_MIN, this.#rateGates.size * 2);
    }
    return RateGate.of(this.#rateGates, group);
  }

  /** Takes waiting work out of wherever it waits. */
  #drop(queued: QueuedWork): void {
    const { invocation, place } = queued;
    this.#waiting.delete(invocation.key);
    this.#countWaiting(invocation.task, -1);
    if (place === 'delayed') this.#clock.clearTimeout(queued.timer);
    else if (place === 'queued') this.#queue.remove((item) => item === queued);
    else if (place === 'paused') {
      const works = this.#pausedWork.get(invocation.task) ?? [];
      const left = works.filter((item) => item !== queued);
      if (left.length > 0) this.#pausedWork.set(invocation.task, left);
      else this.#pausedWork.delete(invocation.task);
    } else {
      place.parked.remove((item) => item === queued);
      this.#refill(place);
    }
    const from = queued.releasedBy;
    if (from !== undefined) {
      from.released -= 1;
      queued.releasedBy = undefined;
      this.#refill(from);
    }
  }

  #run(invocation: Invocation, group: ConcurrencyGate | undefined): void {
    this.#countWaiting(invocation.task, -1);
    this.#slotsHeld += 1;
    const running = new RunningWork(this.#onRelease, group);
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

  /** Frees the slot `running` holds, and its place in its concurrency group; true when it held one. */
  #releaseSlot(running: RunningWork): boolean {
    if (!running.holdsSlot) return false;
    running.holdsSlot = false;
    this.#slotsHeld -= 1;
    if (running.group !== undefined) {
      running.group.running -= 1;
      this.#refill(running.group);
    }
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
    return this.#running.size === 0 && this.#waiting.size === 0;
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

/** Rate gates kept before the first sweep of unused ones. */
const RATE_SWEEP_MIN = 256;
