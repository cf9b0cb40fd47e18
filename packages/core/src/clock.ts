/** A handle returned by `Clock.setTimeout`. */
export type TimerHandle = unknown;

/**
 * Time as au sees it. Everything that waits (timeouts, backoff, TTL checks, polling)
 * asks a clock, so tests can swap in the virtual clock from `@au/testing`.
 */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock. Its timers do not keep the process alive on their own: a library that
 * is merely loaded, or a backend with nothing to do, must let a script end. Work really
 * under way holds the process through `keepProcessAlive` instead.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    timer.unref?.();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Resolves after `ms` on `clock`; rejects with the signal's reason when it aborts first. */
export function sleep(
  ms: number,
  { clock = systemClock, signal }: { clock?: Clock; signal?: AbortSignal } = {},
) {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One interval for the whole process, referenced while anything holds it. */
let keepAliveTimer: ReturnType<typeof setInterval> | undefined;
let holders = 0;
/** The longest delay Node's timers take; the interval's callback does nothing anyway. */
const LONGEST_DELAY = 2 ** 31 - 1;

/**
 * Keeps the Node process alive until the returned `release` is called (once; later
 * calls do nothing). Local backends hold it while work is queued, delayed or running,
 * so `await handle.result()` in a plain script waits for a delayed start or a retry's
 * backoff instead of ending with "unsettled top-level await". Cheap: holders share one
 * timer, referenced while they are more than none.
 */
export function keepProcessAlive(): () => void {
  holders += 1;
  if (keepAliveTimer === undefined) keepAliveTimer = setInterval(() => undefined, LONGEST_DELAY);
  else if (holders === 1) keepAliveTimer.ref();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holders -= 1;
    if (holders === 0) keepAliveTimer?.unref();
  };
}

/** How many holders keep the process alive now (see `keepProcessAlive`): for diagnostics and tests. */
export function processHolders(): number {
  return holders;
}
