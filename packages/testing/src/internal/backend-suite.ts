import type {
  AsyncComputeOptions,
  ComputationBackend,
  ComputationHandle,
  ComputationStatus,
  ComputationStore,
  LaunchOptions,
  TaskDefinition,
} from '@au/core';
import type { CollectingLogger } from '../collecting-logger';
import type { ProducerProcess } from '../killed-producer';
import type { StoreOutageControl } from '../outage-store';
import type { CaseDeclarer } from './case';

/** What `testBackend` shares with the files that declare its cases. */
export interface BackendSuite {
  readonly test: CaseDeclarer;
  /** `flags.timeoutScale`. */
  readonly scale: number;
  /** `flags.background`: `launch` resolves before the work ends. */
  readonly background: boolean;
  /** `flags.deadLetterHook`: run-side hooks registered by a launch run where the work runs. */
  readonly deadLetterHook: boolean;
  /** `flags.outage`: the outage of the workers' store, when the backend's test file drives it. */
  readonly outage: StoreOutageControl | undefined;
  /** `flags.producerProcess`: how to run a producer of this suite's store and a backend's queue. */
  readonly producerProcess: ((backend: ComputationBackend) => ProducerProcess) | undefined;
  /** This test's store, as `makeStore` made it. */
  getStore(): ComputationStore;
  /** The logger every backend of this test was given. */
  getLog(): CollectingLogger;
  /** A backend from the factory over `store` (default: this test's), closed after the test. */
  getBackend(options?: {
    concurrency?: number;
    store?: ComputationStore;
    maxQueued?: number;
  }): Promise<ComputationBackend>;
  /** Launches through `submitTask` on this test's store unless `options.store` says otherwise. */
  launch<Input, Result>(
    backend: ComputationBackend,
    task: TaskDefinition<Input, Result>,
    input: Input,
    options?: AsyncComputeOptions & LaunchOptions,
  ): Promise<ComputationHandle<Result>>;
  /** Waits until the record in this test's store has one of `statuses` (`timeout` is scaled). */
  waitForStatus(
    key: string,
    statuses: readonly ComputationStatus[],
    timeout?: number,
  ): Promise<ComputationStatus>;
}
