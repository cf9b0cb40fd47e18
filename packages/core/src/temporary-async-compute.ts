import { type AsyncComputation, type AsyncComputeOptions, asyncCompute } from './async-compute';
import { InProcessBackend } from './backends/in-process-backend';
import type { ComputationBackend } from './contracts/backend';
import type { ComputationStore } from './contracts/store';
import { MemoryStore } from './stores/memory-store';
import type { TaskDefinition } from './task';

export interface TemporaryAsyncComputeOptions extends Omit<AsyncComputeOptions, 'store'> {
  /** The store to use and close on dispose. @default a new MemoryStore */
  store?: ComputationStore;
}

/** A scope whose store (and backend, when it made it) is closed when the scope is disposed. */
export interface TemporaryAsyncCompute extends AsyncDisposable {
  readonly store: ComputationStore;
  readonly backend: ComputationBackend;
  asyncCompute<Input, Result>(
    task: TaskDefinition<Input, Result>,
    options?: AsyncComputeOptions,
  ): AsyncComputation<[input: Input], Result>;
  asyncCompute<Args extends unknown[], Result>(
    fn: (...args: Args) => Result | Promise<Result>,
    options?: AsyncComputeOptions,
  ): AsyncComputation<Args, Awaited<Result>>;
}

/**
 * A throwaway store for scripts and tests: `await using scope = temporaryAsyncCompute({ ttl: 60 })`.
 * On dispose, running work is drained (then cancelled), and the store is closed.
 */
export function temporaryAsyncCompute(options: TemporaryAsyncComputeOptions = {}): TemporaryAsyncCompute {
  const store = options.store ?? new MemoryStore(options.clock === undefined ? {} : { clock: options.clock });
  const ownsBackend = options.backend === undefined;
  const backend =
    options.backend ?? new InProcessBackend(options.clock === undefined ? {} : { clock: options.clock });
  return {
    store,
    backend,
    asyncCompute: ((target: never, local: AsyncComputeOptions = {}) =>
      asyncCompute(target, {
        ...options,
        ...local,
        store,
        backend,
      })) as TemporaryAsyncCompute['asyncCompute'],
    async [Symbol.asyncDispose]() {
      if (ownsBackend) await backend.close({ timeout: 1000 });
      await store.close();
    },
  };
}
