import { type Clock, systemClock } from '../clock';
import { jsonCodec } from '../codecs/json-codec';
import type {
  BackendCapabilities,
  CloseOptions,
  ComputationBackend,
  Invocation,
  PausedState,
  TaskRegistration,
} from '../contracts/backend';
import type { ComputationStore } from '../contracts/store';
import { ClosedError } from '../errors/closed-error';
import { executeComputation } from '../executor';
import { checkMaxQueued } from '../flow/check-max-queued';
import { checkOptions, optionNames } from '../internal/check-options';
import type { StoreRetryOptions } from '../lifecycle/store-retry';
import { silentLogger } from '../logger';
import type { TaskLogger } from '../task';
import { LocalScheduler, type LocalWork } from './local-scheduler';
import { LocalTasks } from './local-tasks';
import { StoreBinding } from './store-binding';

export interface InProcessBackendOptions {
  /** Computations running at once; more wait in a queue ordered by priority, then age. @default 100 */
  concurrency?: number;
  /**
   * Most computations that may wait for a slot (delayed ones included); a launch past it
   * is refused with `QueueFullError` before anything is written. @default no limit
   */
  maxQueued?: number;
  /** Time source for delays and backoff. @default systemClock */
  clock?: Clock;
  /** Where backend-level problems are logged. @default silentLogger */
  logger?: TaskLogger;
  /** Minimum ms between two progress writes of one computation. @default 100 */
  progressInterval?: number;
  /** How long claims and results keep trying through a store outage. @default 30 s of bounded backoff */
  storeRetry?: StoreRetryOptions;
  /** The store its work writes. @default the store of the first launch (core binds it) */
  store?: ComputationStore;
}

const NAME = 'in-process';

const IN_PROCESS_OPTIONS = optionNames<InProcessBackendOptions>({
  concurrency: true,
  maxQueued: true,
  clock: true,
  logger: true,
  progressInterval: true,
  storeRetry: true,
  store: true,
});

/**
 * Runs computations on this process's event loop. A cancel aborts the task's signal: a
 * task that ignores its signal keeps running, but its record says `cancelled` and its
 * late result is dropped. Use ThreadsBackend or ProcessBackend to stop work that never
 * yields. While it holds work (queued, delayed, running, backing off before a retry) it
 * keeps the Node process alive; idle or closed, it lets the process end. A task's
 * `concurrency` and `rateLimit`, and `pause`, are enforced in memory, for this backend
 * object (see `LocalScheduler`).
 */
export class InProcessBackend implements ComputationBackend {
  readonly name = NAME;
  readonly capabilities: BackendCapabilities = {
    inlineFunctions: true,
    durable: false,
    priority: true,
    preemptiveCancel: false,
  };
  readonly concurrency: number;
  readonly maxQueued?: number;
  readonly #clock: Clock;
  readonly #logger: TaskLogger;
  readonly #progressInterval: number;
  readonly #storeRetry: StoreRetryOptions | undefined;
  readonly #scheduler: LocalScheduler;
  readonly #binding: StoreBinding;
  readonly #tasks = new LocalTasks({
    where: 'the tasks launched on this in-process backend',
    defaults: { codec: jsonCodec, middleware: [] },
  });

  constructor(options: InProcessBackendOptions = {}) {
    checkOptions(`[${NAME}] InProcessBackend`, options, IN_PROCESS_OPTIONS);
    const concurrency = options.concurrency ?? 100;
    if (!(concurrency >= 1))
      throw new TypeError(`[au] [in-process] concurrency must be ≥ 1, got ${concurrency}`);
    this.concurrency = concurrency;
    checkMaxQueued(`[${NAME}] InProcessBackend`, options.maxQueued);
    if (options.maxQueued !== undefined) this.maxQueued = options.maxQueued;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#progressInterval = options.progressInterval ?? 100;
    this.#storeRetry = options.storeRetry;
    this.#binding = new StoreBinding(`backend ${NAME}`, options.store);
    this.#scheduler = new LocalScheduler({
      name: NAME,
      concurrency,
      start: (invocation) => this.#start(invocation),
      store: () => this.#binding.store,
      clock: this.#clock,
      logger: this.#logger,
    });
  }

  async bind(store: ComputationStore): Promise<void> {
    this.#binding.bind(store);
  }

  register(registration: TaskRegistration): void {
    this.#tasks.register(registration);
  }

  async launch(invocation: Invocation): Promise<void> {
    this.#checkLaunch(invocation);
    this.#scheduler.accept(invocation);
  }

  async launchMany(invocations: readonly Invocation[]): Promise<void> {
    for (const invocation of invocations) this.#checkLaunch(invocation);
    for (const invocation of invocations) this.#scheduler.accept(invocation);
  }

  async queued(task?: string): Promise<number> {
    return this.#scheduler.waitingCount(task);
  }

  async cancel(key: string, reason?: string): Promise<boolean> {
    return this.#scheduler.cancel(key, reason);
  }

  /**
   * Stops starting work of `task` (without it: of every task) until `resume`, for this
   * backend's life. Running work finishes; paused work stays `pending`, in order.
   */
  async pause(task?: string): Promise<void> {
    this.#scheduler.pause(task);
  }

  /** Starts `task` (without it: the whole queue) again; a task paused by name stays paused until resumed by name. */
  async resume(task?: string): Promise<void> {
    this.#scheduler.resume(task);
  }

  async paused(): Promise<PausedState> {
    return this.#scheduler.paused();
  }

  async close({ timeout = 10_000 }: CloseOptions = {}): Promise<void> {
    await this.#scheduler.close(timeout);
  }

  async ping(): Promise<void> {
    if (this.#scheduler.closed) throw new ClosedError({ component: `backend ${NAME}` });
  }

  /** Computations running now. */
  get runningCount(): number {
    return this.#scheduler.runningCount;
  }

  /** Computations waiting for a slot (delayed ones included). */
  get queuedCount(): number {
    return this.#scheduler.queuedCount;
  }

  // ---- private helpers ------------------------------------------------------------

  /** Refuses work it could not run: closed, no store bound, or a task never registered here. */
  #checkLaunch(invocation: Invocation): void {
    if (this.#scheduler.closed) throw new ClosedError({ component: `backend ${NAME}` });
    void this.#binding.store;
    this.#tasks.resolve(invocation);
  }

  /** Runs one computation on the event loop (the scheduler's `start`). */
  #start(invocation: Invocation): LocalWork {
    const run = this.#tasks.resolve(invocation);
    // The executor hands over its abort as soon as it starts; an abort before that waits.
    let abortRun: ((reason: unknown) => void) | undefined;
    let pendingAbort: { reason: unknown } | undefined;
    const done = executeComputation({
      store: this.#binding.store,
      key: invocation.key,
      task: run.task,
      codec: run.codec,
      retry: run.retry,
      timeout: invocation.timeout,
      ttl: invocation.ttl,
      middleware: run.middleware,
      onAbortable: (abort) => {
        abortRun = abort;
        if (pendingAbort !== undefined) abort(pendingAbort.reason);
      },
      clock: this.#clock,
      logger: run.logger ?? this.#logger,
      progressInterval: this.#progressInterval,
      storeRetry: this.#storeRetry,
      retryMode: 'report',
    });
    return {
      abort: (reason) => {
        if (abortRun !== undefined) abortRun(reason);
        else pendingAbort ??= { reason };
      },
      done,
    };
  }
}
