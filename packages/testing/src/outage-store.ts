import type { ComputationStore } from '@au/core';
import type { StoreMethod } from './faulty-store';

/** Starts and ends an outage of the store a backend's workers see. */
export interface StoreOutageControl {
  /** From now on, the workers' store calls fail as if the store were unreachable. */
  begin(): void | Promise<void>;
  /** The store answers again. */
  end(): void | Promise<void>;
}

export interface OutageStoreOptions {
  /**
   * The methods that fail during an outage: the worker side's by default. `create` keeps
   * working, so a launch made before the outage is not affected.
   * @default ['get', 'update', 'claim']
   */
  methods?: readonly StoreMethod[];
}

/** What `outageStore` adds to the store it wraps. */
export interface StoreOutage extends StoreOutageControl {
  begin(): void;
  end(): void;
  /** Whether an outage is on now. */
  readonly active: boolean;
  /** Outages begun so far. */
  readonly outages: number;
  /** Calls seen so far, per method (failed ones included). */
  readonly calls: Readonly<Partial<Record<StoreMethod, number>>>;
  /** Calls failed by an outage so far, per method. */
  readonly failures: Readonly<Partial<Record<StoreMethod, number>>>;
}

/** A store that can be made unreachable on purpose, with the counters of `StoreOutage`. */
export type OutageStore = ComputationStore & StoreOutage;

/**
 * Wraps a store so that, between `begin()` and `end()`, its worker-side calls reject
 * with a connection error (`code: 'ECONNREFUSED'`), as a store behind a dropped
 * connection does. Core retries those (they look transient), unlike au errors. Hand
 * the wrapper to the backend and launch with it; read the wrapped store to follow the
 * computation while the wrapper is down.
 */
export function outageStore(store: ComputationStore, options: OutageStoreOptions = {}): OutageStore {
  const failing = new Set<string>(options.methods ?? ['get', 'update', 'claim']);
  const calls: Partial<Record<StoreMethod, number>> = {};
  const failures: Partial<Record<StoreMethod, number>> = {};
  let active = false;
  let outages = 0;
  const control: StoreOutage = {
    begin() {
      if (!active) outages += 1;
      active = true;
    },
    end() {
      active = false;
    },
    get active() {
      return active;
    },
    get outages() {
      return outages;
    },
    calls,
    failures,
  };
  return new Proxy(store, {
    get(target, property) {
      if (property in control) return Reflect.get(control, property);
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      // Bound to the store, so that methods using private fields work through the proxy.
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      if (typeof property !== 'string') return bound;
      const method = property as StoreMethod;
      return (...args: unknown[]) => {
        calls[method] = (calls[method] ?? 0) + 1;
        if (!(active && failing.has(method))) return bound(...args);
        failures[method] = (failures[method] ?? 0) + 1;
        return Promise.reject(unreachable(store.name, method));
      };
    },
  }) as OutageStore;
}

// ---- private helpers --------------------------------------------------------------

function unreachable(storeName: string, method: string): Error {
  return Object.assign(
    new Error(
      `[au] [testing] store ${storeName} is unreachable (a simulated outage): ${method} failed with ECONNREFUSED; it answers again when the outage ends`,
    ),
    { code: 'ECONNREFUSED' },
  );
}
