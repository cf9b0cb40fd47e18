import type { ComputationStore } from '@au/core';
import { type Fault, type FaultControl, injectFaults } from './internal/inject-faults';

/** The store methods a fault can target. */
export type StoreMethod =
  | 'get'
  | 'create'
  | 'createMany'
  | 'update'
  | 'claim'
  | 'delete'
  | 'list'
  | 'cleanupExpired'
  | 'close';

/** A fault of a store method: see `Fault`. */
export type StoreFault = Fault<StoreMethod>;

/** A store that misbehaves on purpose, with the counters of `FaultControl`. */
export type FaultyStore = ComputationStore & FaultControl<StoreMethod>;

/**
 * Wraps a store so that chosen calls fail or slow down, to test what a backend or a
 * caller does when the store fails: `faultyStore(new MemoryStore(), { method: 'update', on: 2, error: new Error('down') })`.
 * A faulty call returns a rejected promise (it never throws synchronously).
 */
export function faultyStore(
  store: ComputationStore,
  faults: StoreFault | readonly StoreFault[],
): FaultyStore {
  return injectFaults<ComputationStore, StoreMethod>(
    store,
    Array.isArray(faults) ? faults : [faults as StoreFault],
    `faulty ${store.name}`,
  );
}
