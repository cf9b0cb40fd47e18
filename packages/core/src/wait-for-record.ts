import { type Clock, sleep, systemClock } from './clock';
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

const FINISHED = Object.freeze({ reason: 'finished' });

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
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const changes = store.watch(key, controller.signal);
      const current = await store.get(key);
      if (current === undefined) throw new ComputationNotFoundError({ key, store: store.name });
      yield current;
      if (isTerminalStatus(current.status)) return;
      for await (const record of changes) {
        yield record;
        if (isTerminalStatus(record.status)) return;
      }
      signal?.throwIfAborted();
      // The watch ended without a terminal version (store closed): report what is there.
      const last = await store.get(key);
      if (last === undefined) throw new ComputationNotFoundError({ key, store: store.name });
      if (isTerminalStatus(last.status)) yield last;
      return;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // A plain reason: the default one is a DOMException, whose stack costs more than the wait.
      controller.abort(FINISHED);
    }
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
    await sleep(interval, { clock, ...(signal === undefined ? {} : { signal }) });
    interval = Math.min(interval * 1.5, pollInterval[1]);
  }
}

/** Resolves with the record once it is terminal. Rejects `TimeoutError` or `ComputationNotFoundError`. */
export async function waitForTerminal(
  store: ComputationStore,
  key: string,
  options: WaitOptions = {},
): Promise<ComputationRecord> {
  const clock = options.clock ?? systemClock;
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) controller.abort(options.signal.reason);
  let timer: unknown;
  if (options.timeout !== undefined) {
    const timeout = options.timeout;
    timer = clock.setTimeout(
      () => controller.abort(new TimeoutError({ timeout, what: `waiting for computation "${key}"` })),
      timeout,
    );
  }
  try {
    for await (const record of followRecord(store, key, { ...options, signal: controller.signal, clock })) {
      if (isTerminalStatus(record.status)) return record;
    }
    throw new ComputationNotFoundError({ key, store: store.name });
  } catch (error) {
    if (controller.signal.aborted) throw controller.signal.reason;
    throw error;
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function sameProgress(a: ComputationRecord, b: ComputationRecord): boolean {
  return a.progress === b.progress || JSON.stringify(a.progress) === JSON.stringify(b.progress);
}
