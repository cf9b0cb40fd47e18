import type { Invocation } from '../contracts/backend';
import type { ConcurrencyGroup, RateLimitGroup } from '../flow/flow-limits';
import { PriorityQueue } from '../internal/priority-queue';

/** One computation waiting in a `LocalScheduler`: in its queue, delayed, paused or parked at a gate. */
export interface QueuedWork {
  invocation: Invocation;
  /** Arrival order in the queue: FIFO within a priority. */
  sequence: number;
  /** Where it waits now. */
  place: 'delayed' | 'queued' | 'paused' | LocalGate;
  /** The `runAt` timer while delayed. */
  timer?: unknown;
  /** The gate that moved it back into the queue (it counts it in `released` until it leaves). */
  releasedBy?: LocalGate;
}

/** Higher priority first, then arrival order. */
export const runsBefore = (a: QueuedWork, b: QueuedWork): boolean =>
  a.invocation.priority > b.invocation.priority ||
  (a.invocation.priority === b.invocation.priority && a.sequence < b.sequence);

/**
 * A limit on which waiting work may start: a concurrency group or a rate-limit group.
 * Work the gate stops is parked in it (in run order) instead of blocking the queue, and
 * goes back to the queue as the gate opens, only as much as may start — so a long queue
 * behind a closed gate costs nothing per start.
 */
export interface LocalGate {
  readonly key: string;
  /** Work stopped by this gate, in run order. */
  readonly parked: PriorityQueue<QueuedWork>;
  /** Parked work moved back to the queue that has not left it yet: it holds a place. */
  released: number;
  /** May one more start now? */
  open(now: number): boolean;
  /** How many parked computations to move back to the queue now. */
  vacancies(now: number): number;
}

/** At most `limit` of the group running at once (`Invocation.concurrency`). */
export class ConcurrencyGate implements LocalGate {
  readonly parked = new PriorityQueue<QueuedWork>(runsBefore);
  released = 0;
  running = 0;
  limit: number;

  constructor(
    readonly key: string,
    limit: number,
  ) {
    this.limit = limit;
  }

  open(): boolean {
    return this.running < this.limit;
  }

  vacancies(): number {
    return this.limit - this.running - this.released;
  }

  /** Nothing refers to it any more: it can be forgotten. */
  get unused(): boolean {
    return this.running === 0 && this.released === 0 && this.parked.size === 0;
  }

  static of(gates: Map<string, ConcurrencyGate>, group: ConcurrencyGroup): ConcurrencyGate {
    let gate = gates.get(group.key);
    if (gate === undefined) {
      gate = new ConcurrencyGate(group.key, group.limit);
      gates.set(group.key, gate);
    } else gate.limit = group.limit;
    return gate;
  }
}

/**
 * At most `limit` starts of the group in any `interval` ms (`Invocation.rateLimit`): a
 * sliding window over the times of the last `limit` starts, so no window of `interval`
 * ms, wherever it begins, holds more than `limit` starts.
 */
export class RateGate implements LocalGate {
  readonly parked = new PriorityQueue<QueuedWork>(runsBefore);
  released = 0;
  limit: number;
  interval: number;
  /** The clock timer that reopens the gate, while work is parked and the window is full. */
  timer: unknown;
  /** Start times, oldest first; only the last `limit` matter. */
  readonly #starts: number[] = [];

  constructor(
    readonly key: string,
    limit: number,
    interval: number,
  ) {
    this.limit = limit;
    this.interval = interval;
  }

  open(now: number): boolean {
    return this.#inWindow(now) < this.limit;
  }

  vacancies(now: number): number {
    return this.limit - this.#inWindow(now) - this.released;
  }

  /** Counts one start at `now`. */
  record(now: number): void {
    this.#starts.push(now);
    if (this.#starts.length > this.limit) this.#starts.splice(0, this.#starts.length - this.limit);
  }

  /** When the window next has room (ms from `now`), or `undefined` when it has room now. */
  reopensIn(now: number): number | undefined {
    if (this.#inWindow(now) < this.limit) return undefined;
    // Full: the oldest of the last `limit` starts leaving the window makes room.
    return this.#starts[this.#starts.length - this.limit]! + this.interval - now;
  }

  /** No start left in its window and nothing waiting on it: it can be forgotten. */
  unused(now: number): boolean {
    return (
      this.released === 0 && this.parked.size === 0 && this.timer === undefined && this.#inWindow(now) === 0
    );
  }

  #inWindow(now: number): number {
    const starts = this.#starts;
    let first = 0;
    while (first < starts.length && now - starts[first]! >= this.interval) first += 1;
    if (first > 0) starts.splice(0, first);
    return starts.length;
  }

  static of(gates: Map<string, RateGate>, group: RateLimitGroup): RateGate {
    let gate = gates.get(group.key);
    if (gate === undefined) {
      gate = new RateGate(group.key, group.limit, group.interval);
      gates.set(group.key, gate);
    } else {
      gate.limit = group.limit;
      gate.interval = group.interval;
    }
    return gate;
  }
}
