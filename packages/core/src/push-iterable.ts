/**
 * An async iterable fed by pushes: how stores turn change notifications (in-memory
 * listeners, fs polling, Redis pub/sub) into `watch` iterables. Values pushed before
 * the consumer asks are queued; `end()` finishes the iteration after the queue drains.
 */
export interface PushIterable<T> extends AsyncIterable<T> {
  push(value: T): void;
  end(error?: unknown): void;
  readonly ended: boolean;
}

export function createPushIterable<T>(onReturn?: () => void): PushIterable<T> {
  const queue: T[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let failWaiting: ((error: unknown) => void) | undefined;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let cleanedUp = false;
  const cleanup = () => {
    if (cleanedUp) return;
    cleanedUp = true;
    onReturn?.();
  };

  const iterator: AsyncIterator<T> = {
    next() {
      if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
      if (failure !== undefined) {
        const { error } = failure;
        failure = undefined;
        return Promise.reject(error);
      }
      if (ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise<IteratorResult<T>>((resolve, reject) => {
        waiting = resolve;
        failWaiting = reject;
      });
    },
    return() {
      ended = true;
      queue.length = 0;
      cleanup();
      if (waiting !== undefined) {
        // A `next()` still pending when the consumer gives up ends too.
        const resolve = waiting;
        waiting = undefined;
        failWaiting = undefined;
        resolve({ value: undefined, done: true });
      }
      return Promise.resolve({ value: undefined, done: true });
    },
  };

  return {
    push(value) {
      if (ended) return;
      if (waiting !== undefined) {
        const resolve = waiting;
        waiting = undefined;
        failWaiting = undefined;
        resolve({ value, done: false });
      } else queue.push(value);
    },
    end(error) {
      if (ended) return;
      ended = true;
      cleanup();
      if (error !== undefined) failure = { error };
      if (waiting !== undefined) {
        const resolve = waiting;
        const reject = failWaiting!;
        waiting = undefined;
        failWaiting = undefined;
        if (failure !== undefined) {
          failure = undefined;
          reject(error);
        } else resolve({ value: undefined, done: true });
      }
    },
    get ended() {
      return ended;
    },
    [Symbol.asyncIterator]: () => iterator,
  };
}
