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

/** The one answer of an iterator that is done (frozen: every caller gets the same). */
const DONE: Promise<IteratorResult<never>> = Promise.resolve(Object.freeze({ value: undefined, done: true }));

export function createPushIterable<T>(onReturn?: () => void): PushIterable<T> {
  return new PushQueue<T>(onReturn);
}

/**
 * A class, its own iterator: one object per watch (a store makes one per waiting
 * handle), where closures over an object literal cost about 2 KB each.
 */
class PushQueue<T> implements PushIterable<T>, AsyncIterator<T> {
  #queue: T[] | undefined;
  #waiting: ((result: IteratorResult<T>) => void) | undefined;
  #failWaiting: ((error: unknown) => void) | undefined;
  #ended = false;
  #failure: { error: unknown } | undefined;
  #onReturn: (() => void) | undefined;

  constructor(onReturn: (() => void) | undefined) {
    this.#onReturn = onReturn;
  }

  get ended(): boolean {
    return this.#ended;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#queue !== undefined && this.#queue.length > 0) {
      return Promise.resolve({ value: this.#queue.shift()!, done: false });
    }
    if (this.#failure !== undefined) {
      const { error } = this.#failure;
      this.#failure = undefined;
      return Promise.reject(error);
    }
    if (this.#ended) return DONE;
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      this.#waiting = resolve;
      this.#failWaiting = reject;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.#ended = true;
    this.#queue = undefined;
    this.#cleanup();
    const resolve = this.#waiting;
    if (resolve !== undefined) {
      // A `next()` still pending when the consumer gives up ends too.
      this.#waiting = undefined;
      this.#failWaiting = undefined;
      resolve({ value: undefined, done: true });
    }
    return DONE;
  }

  push(value: T): void {
    if (this.#ended) return;
    const resolve = this.#waiting;
    if (resolve !== undefined) {
      this.#waiting = undefined;
      this.#failWaiting = undefined;
      resolve({ value, done: false });
    } else {
      this.#queue ??= [];
      this.#queue.push(value);
    }
  }

  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#cleanup();
    const resolve = this.#waiting;
    const reject = this.#failWaiting;
    this.#waiting = undefined;
    this.#failWaiting = undefined;
    if (error !== undefined) {
      if (reject !== undefined) reject(error);
      else this.#failure = { error };
    } else resolve?.({ value: undefined, done: true });
  }

  #cleanup(): void {
    const onReturn = this.#onReturn;
    this.#onReturn = undefined;
    onReturn?.();
  }
}
