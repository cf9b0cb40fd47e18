import type { Clock, TimerHandle } from '@au/core';

/** A clock whose time moves only when the test says so. */
export interface VirtualClock extends Clock {
  /**
   * Moves time forward by `ms`, firing every timer that falls due, in order of due
   * time (then of creation), with time set to each timer's due time when it fires.
   * Pending promise callbacks run before and after each timer, so work a timer starts
   * (and timers it sets within the window) happens too.
   */
  advance(ms: number): Promise<void>;
  /** Fires timers until none is left (time jumps to each); returns how many fired. Throws past `limit`. */
  runAll(options?: { limit?: number }): Promise<number>;
  /** Sets the time, firing timers due by then (like `advance`); never moves backwards. */
  setTime(time: number): Promise<void>;
  /** Timers set and not yet fired or cleared. */
  readonly pendingTimers: number;
  /** When the next timer is due, or `undefined`. */
  readonly nextTimerAt: number | undefined;
}

interface VirtualTimer {
  id: number;
  at: number;
  callback: () => void;
}

/**
 * A virtual clock for TTL, timeout and backoff tests: pass it as `clock` to MemoryStore,
 * InProcessBackend, SyncTestBackend or asyncCompute, then `await clock.advance(ms)`.
 * @param start the initial time in ms since the epoch. @default 0
 */
export function createVirtualClock(start = 0): VirtualClock {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, VirtualTimer>();

  const nextDue = (limit: number): VirtualTimer | undefined => {
    let found: VirtualTimer | undefined;
    for (const timer of timers.values()) {
      if (timer.at > limit) continue;
      if (found === undefined || timer.at < found.at || (timer.at === found.at && timer.id < found.id))
        found = timer;
    }
    return found;
  };
  const fire = async (timer: VirtualTimer) => {
    timers.delete(timer.id);
    now = Math.max(now, timer.at);
    timer.callback();
    await flushPending();
  };
  const advanceTo = async (target: number) => {
    await flushPending();
    for (;;) {
      const timer = nextDue(target);
      if (timer === undefined) break;
      await fire(timer);
    }
    now = Math.max(now, target);
    await flushPending();
  };

  return {
    now: () => now,
    setTimeout(callback: () => void, ms: number): TimerHandle {
      const id = nextId++;
      timers.set(id, { id, at: now + Math.max(0, Number.isFinite(ms) ? ms : 0), callback });
      return id;
    },
    clearTimeout(handle: TimerHandle) {
      timers.delete(handle as number);
    },
    advance(ms: number) {
      if (!(ms >= 0)) throw new RangeError(`[au] [virtual clock] advance takes ms ≥ 0, got ${ms}`);
      return advanceTo(now + ms);
    },
    setTime(time: number) {
      return advanceTo(time);
    },
    async runAll({ limit = 10_000 } = {}) {
      await flushPending();
      let fired = 0;
      for (;;) {
        const timer = nextDue(Number.POSITIVE_INFINITY);
        if (timer === undefined) return fired;
        if (fired >= limit) {
          throw new Error(
            `[au] [virtual clock] runAll fired ${limit} timers and more keep coming: a timer loop?`,
          );
        }
        await fire(timer);
        fired += 1;
      }
    },
    get pendingTimers() {
      return timers.size;
    },
    get nextTimerAt() {
      return nextDue(Number.POSITIVE_INFINITY)?.at;
    },
  };
}

// ---- private helpers --------------------------------------------------------------

/** Lets pending promise callbacks (and chains of them) run: a macrotask turn runs every queued microtask. */
async function flushPending(): Promise<void> {
  for (let turn = 0; turn < 3; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}
