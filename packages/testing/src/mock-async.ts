import { type Clock, MemoryStore, setDefaults, withDefaults } from '@au/core';
import { SyncTestBackend } from './sync-test-backend';

export interface MockAsyncOptions {
  /** Clock of the store and the backend (e.g. `createVirtualClock()`). @default systemClock */
  clock?: Clock;
}

/** The defaults swapped in by `mockAsync`: a fresh MemoryStore and a SyncTestBackend. */
export interface MockAsync extends Disposable {
  readonly store: MemoryStore;
  readonly backend: SyncTestBackend;
  /** Puts the previous defaults back (what `using` does at the end of the scope). Idempotent. */
  restore(): void;
}

/**
 * Swaps au's defaults for a fresh MemoryStore and a SyncTestBackend, so code that calls
 * `asyncCompute(fn)` without a store or backend runs synchronously and in isolation.
 *
 * - `using mock = mockAsync()`: process-wide until the scope ends (`Symbol.dispose`
 *   restores the previous defaults; or call `mock.restore()`).
 * - `await mockAsync(async (mock) => …)`: only inside the callback and what it starts
 *   (through core's `withDefaults`); the store and backend are closed afterwards.
 *
 * `asyncCompute` reads the defaults at each launch unless it was given both a store and a backend.
 */
export function mockAsync(options?: MockAsyncOptions): MockAsync;
export function mockAsync<T>(fn: (mock: MockAsync) => T | Promise<T>, options?: MockAsyncOptions): Promise<T>;
export function mockAsync<T>(
  fnOrOptions?: ((mock: MockAsync) => T | Promise<T>) | MockAsyncOptions,
  maybeOptions?: MockAsyncOptions,
): MockAsync | Promise<T> {
  const options = (typeof fnOrOptions === 'function' ? maybeOptions : fnOrOptions) ?? {};
  const clockOption = options.clock === undefined ? {} : { clock: options.clock };
  const store = new MemoryStore(clockOption);
  const backend = new SyncTestBackend(clockOption);
  if (typeof fnOrOptions === 'function') {
    const mock: MockAsync = { store, backend, restore() {}, [Symbol.dispose]() {} };
    return withDefaults({ store, backend }, async () => {
      try {
        return await fnOrOptions(mock);
      } finally {
        await backend.close({ timeout: 1000 });
        await store.close();
      }
    });
  }
  const previous = setDefaults({ store, backend });
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    setDefaults(previous);
  };
  return { store, backend, restore, [Symbol.dispose]: restore };
}
