import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { BroadcastChannel, type ResourceLimits } from 'node:worker_threads';
import {
  type BackendCapabilities,
  ClosedError,
  type CloseOptions,
  type ComputationBackend,
  type ComputationStore,
  type Invocation,
  jsonCodec,
  type RunContext,
  silentLogger,
  type TaskContext,
  type TaskLogger,
  type TaskRegistration,
  type TaskRegistry,
} from '@au/core';
import {
  type BatchFailure,
  type ExecutionOutcome,
  executeComputation,
  type LocalRun,
  LocalScheduler,
  type LocalSlot,
  LocalTasks,
  type LocalWork,
  loadTaskModules,
  type Runnable,
  reviveError,
  ShortTaskBatcher,
  StoreBinding,
  serializeError,
} from '@au/core/kit';
import { Piscina } from 'piscina';
import { ThreadCrashedError } from './errors/thread-crashed-error';
import { isTypeScriptModule, normalizeTaskModules, TASK_MODULES_WHERE } from './task-modules';
import {
  ABORTED,
  type AbortMessage,
  attemptSlot,
  type BatchRequest,
  isThreadEvent,
  MAX_ATTEMPT_ID,
  newAttemptTable,
  type RunRequest,
  type RunResponse,
  STARTED,
  THREAD,
  type ThreadEvent,
  type ThreadWorkerData,
} from './wire';

export interface ThreadsBackendOptions {
  /**
   * The task modules the threads load: paths or `file:` URLs of modules whose exports
   * are `defineTask` results (like Piscina's `filename`). The main thread imports them
   * too, to refuse unknown tasks at launch.
   */
  tasks: string | URL | readonly (string | URL)[];
  /** Tasks running at once, which is also the number of threads. @default os.availableParallelism() */
  concurrency?: number;
  /** Milliseconds between the cooperative abort (`ctx.signal`) and the thread's termination. @default 250 */
  cancelGracePeriod?: number;
  /** Milliseconds an idle thread above `minThreads` lives before it is stopped. @default 30000 */
  idleTimeout?: number;
  /** Threads started at once and kept while idle (at most `concurrency`). @default 1 */
  minThreads?: number;
  /**
   * Node options of the threads. @default when the worker file or a task module is
   * TypeScript, `['--conditions=@au/source', '--require', '<tsx/cjs>']`; otherwise the
   * process's own `execArgv`
   */
  execArgv?: string[];
  /** Memory limits of each thread (worker_threads `resourceLimits`). */
  resourceLimits?: ResourceLimits;
  /** Minimum ms between two progress writes of one computation. @default 100 */
  progressInterval?: number;
  /** Where backend-level problems are logged. @default silentLogger */
  logger?: TaskLogger;
  /**
   * Attempts of short tasks (runs averaging under 1 ms) sent to a thread in one message;
   * 1 sends every attempt alone. See "Short tasks travel in batches" in the README.
   * @default 16
   */
  maxBatch?: number;
  /** The store its work writes. @default the store of the first launch (core binds it) */
  store?: ComputationStore;
}

const NAME = 'threads';
const SOURCE_MODE = import.meta.url.endsWith('.ts');
const WORKER_FILE = fileURLToPath(new URL(`./thread-worker.${SOURCE_MODE ? 'ts' : 'js'}`, import.meta.url));

interface ActiveAttempt {
  context: TaskContext & RunContext;
  logger: TaskLogger | undefined;
}

/**
 * Runs computations on a pool of worker threads (Piscina). The task runs in a thread;
 * everything else runs in the main thread through core's executor: claiming the
 * record, run-side middleware, the timeout, progress and result writes. A cancel or a
 * timeout first aborts the task's signal inside the thread, then terminates the thread
 * after `cancelGracePeriod`, so a task that never yields is stopped too; the pool
 * starts a replacement thread.
 */
export class ThreadsBackend implements ComputationBackend {
  readonly name = NAME;
  readonly capabilities: BackendCapabilities = {
    inlineFunctions: false,
    durable: false,
    priority: true,
    preemptiveCancel: true,
  };
  /** Tasks running at once (= threads in the pool). */
  readonly concurrency: number;
  /** The task modules, as `file:` URLs. */
  readonly taskModules: readonly string[];
  readonly #cancelGracePeriod: number;
  readonly #progressInterval: number;
  readonly #logger: TaskLogger;
  readonly #pool: Piscina<RunRequest | BatchRequest, RunResponse | RunResponse[]>;
  readonly #batcher: ShortTaskBatcher<RunRequest, RunResponse>;
  readonly #abortChannel: BroadcastChannel;
  readonly #attemptTable: Int32Array;
  readonly #registry: Promise<TaskRegistry>;
  /** The task modules once loaded (launch waits for them). */
  #loaded: TaskRegistry | undefined;
  readonly #binding: StoreBinding;
  readonly #tasks = new LocalTasks({
    where: TASK_MODULES_WHERE,
    defaults: { codec: jsonCodec, middleware: [] },
    modules: {
      find: (name) => this.#loaded?.find(name),
      names: () => this.#loaded?.names() ?? [],
    },
  });
  readonly #scheduler: LocalScheduler;
  readonly #attempts = new Map<number, ActiveAttempt>();
  /** Attempts whose thread was terminated on purpose. */
  readonly #terminated = new Set<number>();
  #nextAttemptId = 0;
  /** Aborts attempt `id` in its thread; returns the timer that terminates the thread after the grace period. */
  readonly #abortInThread = (id: number, reason: unknown): ReturnType<typeof setTimeout> | undefined => {
    // Not sent yet (waiting for a batch): it never reaches a thread.
    if (this.#batcher.withdraw(id, reason)) {
      this.#terminated.add(id);
      return undefined;
    }
    Atomics.store(this.#attemptTable, attemptSlot(id) + ABORTED, id);
    const message: AbortMessage = { id, reason: serializeError(reason) };
    this.#abortChannel.postMessage(message);
    return setTimeout(() => this.#terminateIfStarted(id), this.#cancelGracePeriod);
  };
  #destroyed: Promise<void> | undefined;

  constructor(options: ThreadsBackendOptions) {
    const modules = normalizeTaskModules(options?.tasks);
    if (modules.length === 0) {
      throw new TypeError(
        '[au] [threads] `tasks` is empty: give the task modules the threads load, e.g. new ThreadsBackend({ tasks: [new URL("./tasks.js", import.meta.url)] })',
      );
    }
    const concurrency = options.concurrency ?? Math.max(1, availableParallelism());
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
      throw new TypeError(`[au] [threads] concurrency must be an integer ≥ 1, got ${concurrency}`);
    }
    this.concurrency = concurrency;
    this.taskModules = modules;
    this.#cancelGracePeriod = nonNegative('cancelGracePeriod', options.cancelGracePeriod ?? 250);
    this.#progressInterval = options.progressInterval ?? 100;
    this.#logger = options.logger ?? silentLogger;
    this.#scheduler = new LocalScheduler({
      name: NAME,
      concurrency,
      start: (invocation, slot) => this.#start(invocation, slot),
      store: () => this.#binding.store,
      logger: this.#logger,
    });
    // Before the pool: a bad maxBatch must not leave threads behind.
    this.#batcher = new ShortTaskBatcher<RunRequest, RunResponse>({
      name: NAME,
      workers: concurrency,
      maxBatch: options.maxBatch,
      runOne: (request) => this.#pool.run(request) as Promise<RunResponse>,
      runBatch: (requests) => this.#pool.run({ batch: requests }) as Promise<RunResponse[]>,
      onBatchFailed: (requests) => this.#onBatchFailed(requests),
    });
    const execArgv = options.execArgv ?? defaultExecArgv(modules);
    const workerData: ThreadWorkerData = {
      modules,
      abortChannel: `au-threads:${randomUUID()}`,
      attemptTable: newAttemptTable(),
    };
    this.#attemptTable = new Int32Array(workerData.attemptTable);
    this.#abortChannel = new BroadcastChannel(workerData.abortChannel);
    this.#abortChannel.unref();
    this.#pool = new Piscina<RunRequest | BatchRequest, RunResponse | RunResponse[]>({
      filename: WORKER_FILE,
      minThreads: Math.min(options.minThreads ?? 1, concurrency),
      maxThreads: concurrency,
      idleTimeout: nonNegative('idleTimeout', options.idleTimeout ?? 30_000),
      workerData,
      recordTiming: false,
      ...(execArgv === undefined ? {} : { execArgv }),
      ...(options.resourceLimits === undefined ? {} : { resourceLimits: options.resourceLimits }),
    });
    this.#pool.on('message', (message: unknown) => {
      if (isThreadEvent(message)) this.#onThreadEvent(message);
    });
    this.#pool.on('error', (error: unknown) =>
      this.#logger.error({ err: error }, '[au] [threads] a worker thread failed while idle; it was replaced'),
    );
    this.#binding = new StoreBinding(`backend ${NAME}`, options.store);
    this.#registry = loadTaskModules(modules, TASK_MODULES_WHERE);
    this.#registry.then(
      (registry) => {
        this.#loaded = registry;
      },
      () => undefined,
    );
    // A load failure is reported by launch and ping; this keeps it from being unhandled.
    this.#registry.catch(() => undefined);
  }

  async launch(invocation: Invocation): Promise<void> {
    await this.#checkLaunchable([invocation]);
    this.#scheduler.accept(invocation);
  }

  async bind(store: ComputationStore): Promise<void> {
    this.#binding.bind(store);
  }

  register(registration: TaskRegistration): void {
    this.#tasks.register(registration);
  }

  async launchMany(invocations: readonly Invocation[]): Promise<void> {
    await this.#checkLaunchable(invocations);
    for (const invocation of invocations) this.#scheduler.accept(invocation);
  }

  async cancel(key: string, reason?: string): Promise<boolean> {
    return this.#scheduler.cancel(key, reason);
  }

  async close({ timeout = 10_000 }: CloseOptions = {}): Promise<void> {
    await this.#scheduler.close(timeout);
    this.#destroyed ??= this.#pool.destroy().finally(() => this.#abortChannel.close());
    await this.#destroyed;
  }

  async ping(): Promise<void> {
    if (this.#scheduler.closed) throw new ClosedError({ component: `backend ${NAME}` });
    await this.#registry;
  }

  /** Computations running now. */
  get runningCount(): number {
    return this.#scheduler.runningCount;
  }

  /** Computations waiting for a thread (delayed ones included). */
  get queuedCount(): number {
    return this.#scheduler.queuedCount;
  }

  /** Attempts of short tasks sent to the threads in batches so far. */
  get batchedCount(): number {
    return this.#batcher.batchedCount;
  }

  /** Threads alive in the pool. */
  get threadCount(): number {
    return this.#pool.threads.length;
  }

  // ---- private helpers ------------------------------------------------------------

  async #checkLaunchable(invocations: readonly Invocation[]): Promise<void> {
    if (this.#scheduler.closed) throw new ClosedError({ component: `backend ${NAME}` });
    const registry = await this.#registry;
    void this.#binding.store;
    for (const invocation of invocations) registry.get(invocation.task);
    if (this.#scheduler.closed) throw new ClosedError({ component: `backend ${NAME}` });
  }

  /** Runs one computation through the executor, its attempts in threads (the scheduler's `start`). */
  #start(invocation: Invocation, slot: LocalSlot): LocalWork {
    const local = this.#tasks.resolve(invocation);
    const run = new ThreadRun(invocation, local, slot, this.#runInThread);
    run.done = run.settle(
      executeComputation({
        store: this.#binding.store,
        key: invocation.key,
        task: run,
        codec: local.codec,
        retry: local.retry,
        ...(invocation.timeout === undefined ? {} : { timeout: invocation.timeout }),
        ...(invocation.ttl === undefined ? {} : { ttl: invocation.ttl }),
        middleware: local.middleware,
        // Cheaper than an AbortController per computation; see ThreadRun.
        onAbortable: (abort) => run.setExecutionAbort(abort),
        logger: local.logger ?? this.#logger,
        progressInterval: this.#progressInterval,
        retryMode: 'report',
      }),
    );
    return run;
  }

  /** The `run` of the Runnable the executor calls: one attempt, in a thread. */
  readonly #runInThread = async (
    run: ThreadRun,
    input: unknown,
    context: TaskContext & RunContext,
  ): Promise<unknown> => {
    const { invocation, local, slot } = run;
    // With a timeout the attempt's own signal tells when to stop the thread (it also
    // follows a cancel); without one, only a cancel or a shutdown can stop it, and
    // `run` hears those without the cost of an AbortSignal and its listener.
    const signal = invocation.timeout === undefined ? undefined : context.signal;
    if (signal === undefined ? run.aborted : signal.aborted)
      throw signal === undefined ? run.reason : signal.reason;
    this.#nextAttemptId = this.#nextAttemptId >= MAX_ATTEMPT_ID ? 1 : this.#nextAttemptId + 1;
    const id = this.#nextAttemptId;
    const request: RunRequest = {
      id,
      task: invocation.task,
      key: invocation.key,
      attempt: context.attempt,
      codec: local.codec.name,
      args: local.codec.encode(input),
    };
    const attempt = new ThreadAttempt(id, this.#abortInThread);
    let onAbort: (() => void) | undefined;
    if (signal === undefined) run.current = attempt;
    else {
      onAbort = () => attempt.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    this.#attempts.set(id, { context, logger: local.logger });
    // No AbortSignal for Piscina: it doubles the cost of every run; see #terminateIfStarted.
    const inThread = this.#batcher.isShort(request.task, invocation.timeout)
      ? this.#batcher.send(request, slot)
      : (this.#pool.run(request) as Promise<RunResponse>);
    run.inFlight = inThread;
    let response: RunResponse;
    try {
      response = await inThread;
    } catch (error) {
      // Piscina rejects when the thread died: terminated after the grace period, or crashed.
      if (this.#terminated.delete(id)) throw attempt.reason;
      this.#batcher.forget(request.task);
      throw new ThreadCrashedError({ task: invocation.task, key: invocation.key, cause: error });
    } finally {
      // The slot frees as soon as the thread does, so the next computation starts while
      // this one's result is still being written.
      slot.release();
      this.#terminated.delete(id);
      attempt.finish();
      if (run.current === attempt) run.current = undefined;
      if (run.inFlight === inThread) run.inFlight = undefined;
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
      this.#attempts.delete(id);
    }
    this.#batcher.record(request.task, response.duration);
    if (response.progress !== undefined) context.progress(response.progress.value);
    if (response.ok) return local.codec.decode(response.value);
    throw reviveError(response.error);
  };

  /**
   * The grace period of an aborted attempt is over: terminate the thread running it.
   * Piscina sees the thread exit, rejects the attempt and starts a replacement. An
   * attempt not started yet needs nothing: its thread sees the aborted flag and skips it.
   */
  #terminateIfStarted(id: number): void {
    const slot = attemptSlot(id);
    if (Atomics.load(this.#attemptTable, slot + STARTED) !== id) return;
    const threadId = Atomics.load(this.#attemptTable, slot + THREAD);
    const thread = this.#pool.threads.find((candidate) => candidate.threadId === threadId);
    if (thread === undefined) return;
    this.#terminated.add(id);
    void thread.terminate();
  }

  /**
   * A batch's thread died. The attempts it was terminated for fail with their reason; in
   * a crash, the attempt it died in (the last one it started) fails. The others run
   * again alone (an earlier one of the batch may thus run twice: its reply died with the
   * thread). Their tasks are measured again before they are batched again.
   */
  #onBatchFailed(requests: readonly RunRequest[]): BatchFailure[] {
    const terminated = requests.some((request) => this.#terminated.has(request.id));
    let diedIn: number | undefined;
    if (!terminated) {
      for (const request of requests) {
        if (Atomics.load(this.#attemptTable, attemptSlot(request.id) + STARTED) === request.id)
          diedIn = request.id;
      }
    }
    for (const request of requests) this.#batcher.forget(request.task);
    return requests.map((request) =>
      this.#terminated.has(request.id) || request.id === diedIn ? 'fail' : 'resend',
    );
  }

  #onThreadEvent(event: ThreadEvent): void {
    const attempt = this.#attempts.get(event.id);
    if (attempt === undefined) return;
    if (event.au === 'progress') attempt.context.progress(event.value);
    else attempt.context.log[event.level](...event.args);
  }
}

/**
 * One computation's link between the executor and the thread running its attempt.
 * The executor hands over its abort (`onAbortable`); a cancel or a shutdown calls
 * `abort`, which aborts the executor and the attempt in flight.
 */
class ThreadRun implements Runnable, LocalWork {
  readonly name: string;
  readonly invocation: Invocation;
  readonly local: LocalRun;
  readonly slot: LocalSlot;
  done!: Promise<ExecutionOutcome>;
  aborted = false;
  reason: unknown;
  /** The attempt in flight when it listens here (no timeout); see `#runInThread`. */
  current: ThreadAttempt | undefined;
  /** Settles when the thread running the last attempt is free (or was terminated). */
  inFlight: Promise<unknown> | undefined;
  #abortExecution: ((reason: unknown) => void) | undefined;
  readonly #runInThread: (
    run: ThreadRun,
    input: unknown,
    context: TaskContext & RunContext,
  ) => Promise<unknown>;

  constructor(
    invocation: Invocation,
    local: LocalRun,
    slot: LocalSlot,
    runInThread: (run: ThreadRun, input: unknown, context: TaskContext & RunContext) => Promise<unknown>,
  ) {
    this.name = invocation.task;
    this.invocation = invocation;
    this.local = local;
    this.slot = slot;
    this.#runInThread = runInThread;
  }

  /** Runnable: one attempt, in a thread. */
  run(input: unknown, context: TaskContext): Promise<unknown> {
    return this.#runInThread(this, input, context as TaskContext & RunContext);
  }

  setExecutionAbort(abort: (reason: unknown) => void): void {
    this.#abortExecution = abort;
    if (this.aborted) abort(this.reason);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.#abortExecution?.(reason);
    this.current?.abort(reason);
  }

  /** The executor's outcome, once the thread is free (an abort does not wait for it). */
  async settle(execution: Promise<ExecutionOutcome>): Promise<ExecutionOutcome> {
    try {
      return await execution;
    } finally {
      if (this.inFlight !== undefined) await this.inFlight.then(noop, noop);
    }
  }
}

function noop(): void {}

/** One attempt sent to a thread; `abort` stops it cooperatively, then by termination. */
class ThreadAttempt {
  reason: unknown;
  #aborted = false;
  #finished = false;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;

  readonly #id: number;
  readonly #abortInThread: (id: number, reason: unknown) => ReturnType<typeof setTimeout> | undefined;

  constructor(
    id: number,
    abortInThread: (id: number, reason: unknown) => ReturnType<typeof setTimeout> | undefined,
  ) {
    this.#id = id;
    this.#abortInThread = abortInThread;
  }

  abort(reason: unknown): void {
    if (this.#aborted || this.#finished) return;
    this.#aborted = true;
    this.reason = reason;
    this.#graceTimer = this.#abortInThread(this.#id, reason);
  }

  finish(): void {
    this.#finished = true;
    if (this.#graceTimer !== undefined) clearTimeout(this.#graceTimer);
  }
}

/**
 * The threads' Node options when none are given: TypeScript (the worker file in a
 * source checkout, or a `.ts` task module) needs tsx. Node 20 runs no ESM loader hooks
 * in worker threads (`--import tsx` is ignored there), so tsx's CommonJS hook is
 * preloaded with `--require` and TypeScript task modules are loaded with `require`.
 */
export function defaultExecArgv(modules: readonly string[]): string[] | undefined {
  if (!SOURCE_MODE && !modules.some(isTypeScriptModule)) return undefined;
  return ['--conditions=@au/source', '--require', resolveTsxHook()];
}

function resolveTsxHook(): string {
  try {
    return createRequire(import.meta.url).resolve('tsx/cjs');
  } catch {
    return 'tsx/cjs';
  }
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0)) throw new TypeError(`[au] [threads] ${name} must be ≥ 0 ms, got ${value}`);
  return value;
}
