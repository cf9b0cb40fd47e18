import type { ComputationBackend } from '@au/core';
import { type Fault, type FaultControl, injectFaults } from './internal/inject-faults';

/** The backend methods a fault can target. */
export type BackendMethod = 'launch' | 'launchMany' | 'createAndLaunch' | 'cancel' | 'close' | 'ping';

/** A fault of a backend method: see `Fault`. */
export type BackendFault = Fault<BackendMethod>;

/** A backend that misbehaves on purpose, with the counters of `FaultControl`. */
export type FlakyBackend = ComputationBackend & FaultControl<BackendMethod>;

/**
 * Wraps a backend so that chosen calls fail or slow down: e.g. a `launch` that rejects
 * on the 2nd call (`{ method: 'launch', on: 2, error: new Error('queue down') }`), to
 * check that the caller marks the record failed and reports the error. Where the backend
 * writes records with their queue entries (`createAndLaunch`: BullMQ with a RedisStore,
 * the Postgres queue), core launches through that method, so fault it too.
 */
export function flakyBackend(
  backend: ComputationBackend,
  faults: BackendFault | readonly BackendFault[],
): FlakyBackend {
  return injectFaults<ComputationBackend, BackendMethod>(
    backend,
    Array.isArray(faults) ? faults : [faults as BackendFault],
    `flaky ${backend.name}`,
  );
}
