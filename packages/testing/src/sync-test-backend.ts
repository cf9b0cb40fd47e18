import {
  type BackendCapabilities,
  CancelledError,
  type Clock,
  ClosedError,
  type CloseOptions,
  type ComputationBackend,
  type ComputationStore,
  type Invocation,
  jsonCodec,
  silentLogger,
  systemClock,
  type TaskLogger,
  type TaskRegistration,
} from '@au/core';
import { executeComputation, LocalTasks, StoreBinding, type StoreRetryOptions } from '@au/core/kit';

export interface SyncTestBackendOptions {
  /** Time source for timeouts and retry backoff (a virtual clock makes them instant). @default systemClock */
  clock?: Clock;
  /** Where store failures while running are logged. @default silentLogger */
  logger?: TaskLogger;
  /** Minimum ms between two progress writes. @default 0 (every report is written) */
  progressInterval?: number;
  /** How long claims and results keep trying through a store outage. @default 30 s */
  storeRetry?: StoreRetryOptions;
  /** The store its work writes. @default the store of the first launch (core binds it) */
  store?: ComputationStore;
}

const NAME = 'sync-test';

/**
 * Runs each computation in the caller: `launch` resolves once the executor has
 * finished (retries included), so after `await fn(…)` the record is already terminal.
 * Deterministic, for unit tests. Runs inline functions; ignores priority and `delay`
 * (work starts at once). A `cancel` aborts work that is still running (another launch
 * awaited elsewhere); `launch` rejects only when the store fails or the backend is closed.
 */
export class SyncTestBackend implements ComputationBackend {
  readonly name = NAME;
  readonly capabilities: BackendCapabilities = {
    inlineFunctions: true,
    durable: false,
    priority: false,
    preemptiveCancel: false,
  };
  readonly #clock: Clock;
  readonly #logger: TaskLogger;
  readonly #progressInterval: number;
  readonly #storeRetry: StoreRetryOptions | undefined;
  readonly #running = new Map<string, { controller: AbortController; done: Promise<unknown> }>();
  readonly #binding: StoreBinding;
  readonly #tasks = new LocalTasks({
    where: 'the tasks launched on this sync-test backend',
    defaults: { codec: jsonCodec, middleware: [] },
  });
  #closed = false;
  #launched = 0;

  constructor(options: SyncTestBackendOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#progressInterval = options.progressInterval ?? 0;
    this.#storeRetry = options.storeRetry;
    this.#binding = new StoreBinding(`backend ${NAME}`, options.store);
  }

  async bind(store: ComputationStore): Promise<void> {
    this.#binding.bind(store);
  }

  register(registration: TaskRegistration): void {
    this.#tasks.register(registration);
  }

  async launch(invocation: Invocation): Promise<void> {
    if (this.#closed) throw new ClosedError({ component: `backend ${NAME}` });
    this.#launched += 1;
    const run = this.#tasks.resolve(invocation);
    const controller = new AbortController();
    const done = executeComputation({
      store: this.#binding.store,
      key: invocation.key,
      task: run.task,
      codec: run.codec,
      retry: run.retry,
      ...(invocation.timeout === undefined ? {} : { timeout: invocation.timeout }),
      ...(invocation.ttl === undefined ? {} : { ttl: invocation.ttl }),
      middleware: run.middleware,
      signal: controller.signal,
      clock: this.#clock,
      logger: run.logger ?? this.#logger,
      progressInterval: this.#progressInterval,
      retryMode: 'inline',
      ...(this.#storeRetry === undefined ? {} : { storeRetry: this.#storeRetry }),
    });
    const entry = { controller, done };
    this.#running.set(invocation.key, entry);
    try {
      await done;
    } finally {
      if (this.#running.get(invocation.key) === entry) this.#running.delete(invocation.key);
    }
  }

  async cancel(key: string, reason?: string): Promise<boolean> {
    const running = this.#running.get(key);
    if (running === undefined) return false;
    running.controller.abort(new CancelledError({ key, ...(reason === undefined ? {} : { reason }) }));
    return true;
  }

  /** Refuses further launches; waits for launches still running (they are aborted after `timeout`). */
  async close({ timeout = 10_000 }: CloseOptions = {}): Promise<void> {
    this.#closed = true;
    if (this.#running.size === 0) return;
    const all = Promise.allSettled([...this.#running.values()].map((entry) => entry.done));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeout);
    });
    const outcome = await Promise.race([all, timedOut]);
    clearTimeout(timer);
    if (outcome !== 'timeout') return;
    const closed = new ClosedError({ component: `backend ${NAME}` });
    for (const entry of this.#running.values()) entry.controller.abort(closed);
    await all;
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new ClosedError({ component: `backend ${NAME}` });
  }

  /** Computations launched so far (for assertions). */
  get launchedCount(): number {
    return this.#launched;
  }

  /** Computations running now. */
  get runningCount(): number {
    return this.#running.size;
  }
}
