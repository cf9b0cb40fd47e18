import { AsyncLocalStorage } from 'node:async_hooks';
import { InProcessBackend } from './backends/in-process-backend';
import type { Clock } from './clock';
import type { ComputationBackend } from './contracts/backend';
import type { ComputationStore } from './contracts/store';
import { MemoryStore } from './stores/memory-store';

/** The store and backend used where a call names none. */
export interface AuDefaults {
  store: ComputationStore;
  backend: ComputationBackend;
  /** Time for launches that name no clock (a virtual one under the `test` preset). @default systemClock */
  clock?: Clock;
}

let globalDefaults: AuDefaults | undefined;
const scopedDefaults = new AsyncLocalStorage<AuDefaults>();

/**
 * The defaults in force here: those of the innermost `withDefaults` scope, else those
 * set by `setDefaults`, else a process-wide MemoryStore and InProcessBackend made on
 * first use.
 */
export function getDefaults(): AuDefaults {
  const scoped = scopedDefaults.getStore();
  if (scoped !== undefined) return scoped;
  globalDefaults ??= { store: new MemoryStore(), backend: new InProcessBackend() };
  return globalDefaults;
}

/** Replaces the process-wide defaults (either part). Returns the previous ones. */
export function setDefaults(defaults: Partial<AuDefaults>): AuDefaults {
  const previous = getDefaults();
  globalDefaults = { ...previous, ...defaults };
  return previous;
}

/** Runs `fn` with other defaults; calls inside it (and what they start) see them. */
export function withDefaults<T>(defaults: Partial<AuDefaults>, fn: () => T): T {
  return scopedDefaults.run({ ...getDefaults(), ...defaults }, fn);
}
