import { type Clock, keepProcessAlive, sleep, systemClock } from './clock';
import type { ComputationStore } from './contracts/store';
import { ComputationNotFoundError } from './errors/computation-not-found-error';
import { TimeoutError } from './errors/timeout-error';
import type { ComputationRecord } from './record';
import { isTerminalStatus } from './status';

export interface WaitOptions {
  /** Milliseconds to wait before rejecting with `TimeoutError`. @default no limit */
  timeout?: number;
  /** Stops waiting; rejects with the signal's reason. */
  signal?: AbortSignal;
  clock?: Clock;
  /** Polling, for stores without `watch`: first and largest interval in ms. @default [5, 500] */
  pollInterval?: readonly [number, number];
}

/**
 * Each version of a record until it is terminal: the current one first, then every
 * change. By the store's `watch` where it has one, else by polling with backoff.
 * Throws `ComputationNotFoundError` when the record does not exist (or disappears).
 */
export async function* followRecord(
  store: ComputationStore,
  key: string,
  { signal, clock = systemClock, pollInterval = [5, 500] }: Omit<WaitOptions, 'timeout'> = {},
): AsyncGenerator<ComputationRecord> {
  if (store.watch !== undefined && store.capabilities.watch) {
    yield* followByWatch(store, key, signal);
    return;
  }
  let interval = pollInterval[0];
  let previous: ComputationRecord | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const record = await store.get(key);
    if (record === undefined) throw new ComputationNotFoundError({ key, store: store.name });
    if (previous === undefined || record.status !== previous.status || !sameProgress(record, previous)) {
      yield record;
      interval = pollInterval[0];
    }
    if (isTerminalStatus(record.status)) return;
    previous = record;
    // A poll under way keeps the process alive, as a request in flight would (the clock's
    // timers do not); a virtual clock's sleeps are the test's to end.
    const release = clock === systemClock ? keepProcessAlive() : undefined;
    try {
      await sleep(interval, { clock, ...(signal === undefined ? {} : { signal }) });
    } finally {
      release?.();
    }
    interval = Math.min(interval * 1.5, pollInterval[1]);
  }
}

/** `followRecord` through the store's `watch`. */
async function* followByWatch(
  store: ComputationStore,
  key: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<ComputationRecord> {
  // Subscribe first, then read, so no change falls between the two. Leaving (return,
  // break or throw, a failed read too) ends the subscription through its `return`.
  const changes = store.watch!(key, signal)[Symbol.asyncIterator]();
  try {
    const current = await store.get(key);
    if (current === undefined) throw new ComputationNotFoundError({ key, store: store.name });
    yield current;
    if (isTerminalStatus(current.status)) return;
    let latest = current;
    for (;;) {
      const change = await changes.next();
      if (change.done) break;
      // A change announced while the read was on its way may be older than what it read.
      if (isLater(latest, change.value)) continue;
      latest = change.value;
      yield change.value;
      if (isTerminalStatus(change.value.status)) return;
    }
    signal?.throwIfAborted();
    // The watch ended without a terminal version (the store closed): report what is there.
    const last = await store.get(key);
    if (last === undefined) throw new ComputationNotFoundError({ key, store: store.name });
    if (isTerminalStatus(last.status)) yield last;
  } finally {
    await changes.return?.();
  }
}

/** Resolves with the record once it is terminal. Rejects `TimeoutError` or `ComputationNotFoundError`. */
export function waitForTerminal(
  store: ComputationStore,
  key: string,
  options: WaitOptions = {},
): Promise<ComputationRecord> {
  // The hot path (a watching store, no signal): no AbortController, no extra async frame.
  if (options.signal === undefined && store.watch !== undefined && store.capabilities.watch) {
    return options.timeout === undefined
      ? waitByWatch(store, key, undefined)
      : waitByWatchWithTimeout(store, key, options.timeout, options.clock ?? systemClock);
  }
  return waitWithLimits(store, key, options);
}

/** `waitForTerminal` with a signal, or by polling: an AbortController enforces the limits. */
async function waitWithLimits(
  store: ComputationStore,
  key: string,
  options: WaitOptions,
): Promise<ComputationRecord> {
  const clock = options.clock ?? systemClock;
  // Signals cost: an AbortController is made only when there is a limit to enforce.
  let controller: AbortController | undefined;
  let timer: unknown;
  let onAbort: (() => void) | undefined;
  if (options.timeout !== undefined || options.signal !== undefined) {
    const local = new AbortController();
    controller = local;
    if (options.signal !== undefined) {
      const outer = options.signal;
      if (outer.aborted) local.abort(outer.reason);
      onAbort = () => local.abort(outer.reason);
      outer.addEventListener('abort', onAbort, { once: true });
    }
    if (options.timeout !== undefined) {
      const timeout = options.timeout;
      timer = clock.setTimeout(
        () => local.abort(new TimeoutError({ timeout, what: `waiting for computation "${key}"` })),
        timeout,
      );
    }
  }
  try {
    const signal = controller?.signal;
    if (store.watch !== undefined && store.capabilities.watch) return await waitByWatch(store, key, signal);
    const follow = followRecord(store, key, {
      clock,
      ...(options.pollInterval === undefined ? {} : { pollInterval: options.pollInterval }),
      ...(controller === undefined ? {} : { signal: controller.signal }),
    });
    for await (const record of follow) {
      if (isTerminalStatus(record.status)) return record;
    }
    throw new ComputationNotFoundError({ key, store: store.name });
  } catch (error) {
    if (controller?.signal.aborted) throw controller.signal.reason;
    throw error;
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    if (onAbort !== undefined) options.signal?.removeEventListener('abort', onAbort);
  }
}

/** The hot path of `waitForTerminal`: the store's watch, without an async generator around it. */
async function waitByWatch(
  store: ComputationStore,
  key: string,
  signal: AbortSignal | undefined,
  stopper?: { stop?: () => void },
): Promise<ComputationRecord> {
  const changes = store.watch!(key, signal)[Symbol.asyncIterator]();
  if (stopper !== undefined) stopper.stop = () => void changes.return?.();
  try {
    const current = await store.get(key);
    if (current === undefined) throw new ComputationNotFoundError({ key, store: store.name });
    if (isTerminalStatus(current.status)) return current;
    for (;;) {
      const change = await changes.next();
      if (change.done) break;
      if (isTerminalStatus(change.value.status)) return change.value;
    }
    signal?.throwIfAborted();
    // The watch ended without a terminal version (the store closed): report what is there.
    const last = await store.get(key);
    if (last === undefined || !isTerminalStatus(last.status)) {
      throw new ComputationNotFoundError({ key, store: store.name });
    }
    return last;
  } finally {
    await changes.return?.();
  }
}

/** `waitByWatch` under a time limit, with a timer instead of an AbortController. */
async function waitByWatchWithTimeout(
  store: ComputationStore,
  key: string,
  timeout: number,
  clock: Clock,
): Promise<ComputationRecord> {
  const stopper: { stop?: () => void } = {};
  const waiting = waitByWatch(store, key, undefined, stopper);
  let timer: unknown;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = clock.setTimeout(() => {
      stopper.stop?.();
      reject(new TimeoutError({ timeout, what: `waiting for computation "${key}"` }));
    }, timeout);
  });
  try {
    return await Promise.race([waiting, timedOut]);
  } finally {
    clock.clearTimeout(timer);
    // Once the timer won, the stopped wait settles on its own; nobody needs its answer.
    waiting.catch(() => undefined);
  }
}

/**
 * Whether `record` is surely a later version than `than`, by the order every computation
 * follows: attempts count up, and within attempt n, `running` comes before the retry's
 * `pending` and before any terminal status (attempt 0 is only ever `pending` or terminal).
 * Two versions of the same attempt and status are not ordered by this.
 */
function isLater(record: ComputationRecord, than: ComputationRecord): boolean {
  if (record.attempt !== than.attempt) return record.attempt > than.attempt;
  if (record.status !== than.status) return statusRank(record.status) > statusRank(than.status);
  // Within one running attempt progress is never cleared: a version without it (the
  // claim's) came before one with it.
  return record.status === 'running' && record.progress !== undefined && than.progress === undefined;
}

function statusRank(status: ComputationRecord['status']): number {
  if (status === 'running') return 0;
  return status === 'pending' ? 1 : 2;
}

function sameProgress(a: ComputationRecord, b: ComputationRecord): boolean {
  return a.progress === b.progress || JSON.stringify(a.progress) === JSON.stringify(b.progress);
}
