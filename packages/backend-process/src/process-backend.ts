import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type BackendCapabilities,
  ClosedError,
  type CloseOptions,
  type ComputationBackend,
  type ComputationStore,
  type Invocation,
  jsonCodec,
  type RunContext,
  type SerializedError,
  silentLogger,
  type TaskContext,
  type TaskLogger,
  type TaskRegistration,
  type TaskRegistry,
} from '@au/core';
import {
  type BatchFailure,
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
import { ProcessCrashedError } from './errors/process-crashed-error';
import { ProcessGoneError, ProcessPool } from './process-pool';
import { isTypeScriptModule, normalizeTaskModules, TASK_MODULES_WHERE } from './task-modules';
import type { AttemptEvent, RunRequest, RunResponse } from './wire';

export interface ProcessBackendOptions {
  /**
   * The task modules the processes load: paths or `file:` URLs of modules whose exports
   * are `defineTask` results. The parent imports them too, to refuse unknown tasks at launch.
   */
  tasks: string | URL | readonly (string | URL)[];
  /** Tasks running at once, which is also the most worker processes alive. @default os.availableParallelism() */
  concurrency?: number;
  /** Milliseconds between SIGTERM (the task's signal aborts) and SIGKILL on a cancel or timeout. @default 250 */
  cancelGracePeriod?: number;
  /** Milliseconds an idle process lives before it is stopped. @default 30000 */
  idleTimeout?: number;
  /** Processes started at once, before any work arrives. @default 0 */
  minProcesses?: number;
  /**
   * Node options of the processes. @default when the worker program or a task module is
   * TypeScript, `['--conditions=@au/source', '--import', 'tsx']`; otherwise the
   * parent's own `execArgv`
   */
  execArgv?: string[];
  /** Environment of the processes. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Minimum ms between two progress writes of one computation. @default 100 */
  progressInterval?: number;
  /** Where backend-level problems are logged. @default silentLogger */
  logger?: TaskLogger;
  /**
   * Attempts of short tasks (runs averaging under 1 ms) sent to a process in one message;
   * 1 sends every attempt alone. See "Short tasks travel in batches" in the README.
   * @default 16
   */
  maxBatch?: number;
  /** The store its work writes. @default the store of the first launch (core binds it) */
  store?: ComputationStore;
}

const NAME = 'process';
const SOURCE_MODE = import.meta.url.endsWith('.ts');
const WORKER_FILE = fileURLToPath(new URL(`./process-worker.${SOURCE_MODE ? 'ts' : 'js'}`, import.meta.url));

/**
 * Runs computations in child processes (a small fork pool). The task runs in a child;
 * everything else runs in the parent through core's executor: claiming the record,
 * run-side middleware, the timeout, progress and result writes. A cancel or a timeout
 * sends SIGTERM (the task's signal aborts), then SIGKILL after `cancelGracePeriod`; a
 * task that exits or crashes its process ends `failed`; the next task gets a new process.
 */
export class ProcessBackend implements ComputationBackend {
  readonly name = NAME;
  readonly capabilities: BackendCapabilities = {
    inlineFunctions: false,
    durable: false,
    priority: true,
    preemptiveCancel: true,
  };
  /** Tasks running at once (= most worker processes alive). */
  readonly concurrency: number;
  /** The task modules, as `file:` URLs. */
  readonly taskModules: readonly string[];
  readonly #cancelGracePeriod: number;
  readonly #progressInterval: number;
  readonly #logger: TaskLogger;
  readonly #pool: ProcessPool;
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
  readonly #batcher: ShortTaskBatcher<RunRequest, RunResponse>;
  /** Progress and log handlers of the attempts in flight, by attempt id. */
  readonly #eventHandlers = new Map<number, (event: AttemptEvent) => void>();
  /** How to stop a batched attempt once sent, by attempt id. */
  readonly #sentBatched = new Map<number, (reason: SerializedError) => void>();
  /** Batched attempts stopped on purpose (a cancel, a timeout). */
  readonly #stopped = new Set<number>();
  readonly #routeEvent = (event: AttemptEvent): void => this.#eventHandlers.get(event.id)?.(event);
  #nextAttemptId = 0;
  #poolClosed: Promise<void> | undefined;

  constructor(options: ProcessBackendOptions) {
    const modules = normalizeTaskModules(options?.tasks);
    if (modules.length === 0) {
      throw new TypeError(
        '[au] [process] `tasks` is empty: give the task modules the processes load, e.g. new ProcessBackend({ tasks: [new URL("./tasks.js", import.meta.url)] })',
      );
    }
    const concurrency = options.concurrency ?? Math.max(1, availableParallelism());
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
      throw new TypeError(`[au] [process] concurrency must be an integer ≥ 1, got ${concurrency}`);
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
    this.#pool = new ProcessPool({
      entry: WORKER_FILE,
      modules,
      execArgv: options.execArgv ?? defaultExecArgv(modules),
      env: options.env,
      idleTimeout: nonNegative('idleTimeout', options.idleTimeout ?? 30_000),
      maxProcesses: concurrency,
      logger: this.#logger,
    });
    this.#batcher = new ShortTaskBatcher<RunRequest, RunResponse>({
      name: NAME,
      workers: concurrency,
      maxBatch: options.maxBatch,
      runOne: (request) => this.#sendBatched([request]).then((responses) => responses[0]!),
      runBatch: (requests) => this.#sendBatched(requests),
      onBatchFailed: (requests, error) => this.#onBatchFailed(requests, error),
    });
    this.#binding = new StoreBinding(`backend ${NAME}`, options.store);
    this.#registry = loadTaskModules(modules, TASK_MODULES_WHERE);
    this.#registry.then((registry) => {
      this.#loaded = registry;
    }, noop);
    // A load failure is reported by launch and ping; this keeps it from being unhandled.
    this.#registry.catch(() => undefined);
    if (options.minProcesses !== undefined) this.#pool.warm(Math.min(options.minProcesses, concurrency));
  }

  async bind(store: ComputationStore): Promise<void> {
    this.#binding.bind(store);
  }

  register(registration: TaskRegistration): void {
    this.#tasks.register(registration);
  }

  async launch(invocation: Invocation): Promise<void> {
    await this.#checkLaunchable([invocation]);
    this.#scheduler.accept(invocation);
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
    this.#poolClosed ??= this.#pool.close(this.#cancelGracePeriod);
    await this.#poolClosed;
  }

  async ping(): Promise<void> {
    if (this.#scheduler.closed) throw new ClosedError({ component: `backend ${NAME}` });
    await this.#registry;
  }

  /** Computations running now. */
  get runningCount(): number {
    return this.#scheduler.runningCount;
  }

  /** Computations waiting for a process (delayed ones included). */
  get queuedCount(): number {
    return this.#scheduler.queuedCount;
  }

  /** Attempts of short tasks sent to the processes in batches so far. */
  get batchedCount(): number {
    return this.#batcher.batchedCount;
  }

  /** Worker processes alive. */
  get processCount(): number {
    return this.#pool.size;
  }

  // ---- private helpers ------------------------------------------------------------

  async #checkLaunchable(invocations: readonly Invocation[]): Promise<void> {
    if (this.#scheduler.closed) throw new ClosedError({ component: `backend ${NAME}` });
    const registry = await this.#registry;
    void this.#binding.store;
    for (const invocation of invocations) registry.get(invocation.task);
    if (this.#scheduler.closed) throw new ClosedError({ component: `backend ${NAME}` });
  }

  /** Runs one computation through the executor, its attempts in worker processes (the scheduler's `start`). */
  #start(invocation: Invocation, slot: LocalSlot): LocalWork {
    const controller = new AbortController();
    /** Settles when the process that ran the last attempt replied or is gone. */
    let processFree: Promise<unknown> = Promise.resolve();
    const run = this.#tasks.resolve(invocation);
    const runnable: Runnable = {
      name: invocation.task,
      run: (input, context) => {
        const attempt = this.#runInProcess(invocation, run, input, context as TaskContext & RunContext, slot);
        processFree = attempt.then(noop, noop);
        return attempt;
      },
    };
    const done = executeComputation({
      store: this.#binding.store,
      key: invocation.key,
      task: runnable,
      codec: run.codec,
      retry: run.retry,
      ...(invocation.timeout === undefined ? {} : { timeout: invocation.timeout }),
      ...(invocation.ttl === undefined ? {} : { ttl: invocation.ttl }),
      middleware: run.middleware,
      signal: controller.signal,
      logger: run.logger ?? this.#logger,
      progressInterval: this.#progressInterval,
      retryMode: 'report',
    }).then(
      async (outcome) => {
        await processFree;
        return outcome;
      },
      async (error: unknown) => {
        await processFree;
        throw error;
      },
    );
    return { abort: (reason) => controller.abort(reason), done };
  }

  /** The `run` of the Runnable the executor calls: one attempt, in a worker process. */
  async #runInProcess(
    invocation: Invocation,
    run: LocalRun,
    input: unknown,
    context: TaskContext & RunContext,
    slot: LocalSlot,
  ): Promise<unknown> {
    const { signal } = context;
    if (signal.aborted) throw signal.reason;
    this.#nextAttemptId = this.#nextAttemptId >= Number.MAX_SAFE_INTEGER ? 1 : this.#nextAttemptId + 1;
    const request: RunRequest = {
      id: this.#nextAttemptId,
      task: invocation.task,
      key: invocation.key,
      attempt: context.attempt,
      codec: run.codec.name,
      args: run.codec.encode(input),
    };
    const onEvent = (event: AttemptEvent) => {
      if (event.type === 'progress') context.progress(event.value);
      else context.log[event.level](...event.args);
    };
    let reply: Promise<RunResponse>;
    let onAbort: () => void;
    if (this.#batcher.isShort(request.task, invocation.timeout)) {
      this.#eventHandlers.set(request.id, onEvent);
      reply = this.#batcher.send(request, slot);
      onAbort = () => {
        if (this.#batcher.withdraw(request.id, signal.reason)) return;
        this.#stopped.add(request.id);
        this.#sentBatched.get(request.id)?.(serializeError(signal.reason));
      };
    } else {
      const sent = this.#pool.run(request, onEvent);
      reply = sent.reply;
      onAbort = () => sent.stop(serializeError(signal.reason), this.#cancelGracePeriod);
    }
    signal.addEventListener('abort', onAbort, { once: true });
    let response: RunResponse;
    try {
      response = await reply;
    } catch (error) {
      if (error instanceof ProcessGoneError) {
        this.#batcher.forget(request.task);
        throw new ProcessCrashedError({ task: invocation.task, key: invocation.key, exit: error.exit });
      }
      // Stopped on purpose: the executor already records the cancel or the timeout.
      throw signal.reason ?? error;
    } finally {
      // The slot frees as soon as the process does, so the next computation starts while
      // this one's result is still being written.
      slot.release();
      signal.removeEventListener('abort', onAbort);
      this.#eventHandlers.delete(request.id);
      this.#stopped.delete(request.id);
    }
    this.#batcher.record(request.task, response.duration);
    if (response.progress !== undefined) context.progress(response.progress.value);
    if (response.ok) return run.codec.decode(response.value);
    throw reviveError(response.error);
  }

  /** Hands batched attempts (or one resent alone) to a process; each can be stopped by id. */
  #sendBatched(requests: RunRequest[]): Promise<RunResponse[]> {
    const run = this.#pool.runBatch(requests, this.#routeEvent);
    for (const request of requests) {
      this.#sentBatched.set(request.id, (reason) => run.stop(request.id, reason, this.#cancelGracePeriod));
    }
    return run.reply.finally(() => {
      for (const request of requests) this.#sentBatched.delete(request.id);
    });
  }

  /**
   * A batch's process died. The attempts stopped on purpose fail, and so does the one an
   * escaped error came from; the others run again alone (an attempt that had finished
   * in that process may thus run twice). After a `process.exit`, which says nothing of
   * the attempt, all of them run again alone, and the one that exits fails then.
   */
  #onBatchFailed(requests: readonly RunRequest[], error: unknown): BatchFailure[] {
    const crashedIn = error instanceof ProcessGoneError ? error.attemptId : undefined;
    for (const request of requests) this.#batcher.forget(request.task);
    return requests.map((request) =>
      this.#stopped.has(request.id) || request.id === crashedIn ? 'fail' : 'resend',
    );
  }
}

/**
 * The processes' Node options when none are given: TypeScript (the worker program in
 * a source checkout, or a `.ts` task module) runs through tsx.
 */
function defaultExecArgv(modules: readonly string[]): string[] | undefined {
  if (!SOURCE_MODE && !modules.some(isTypeScriptModule)) return undefined;
  return ['--conditions=@au/source', '--import', resolveTsx()];
}

function resolveTsx(): string {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  } catch {
    return 'tsx';
  }
}

function noop(): void {}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0)) throw new TypeError(`[au] [process] ${name} must be ≥ 0 ms, got ${value}`);
  return value;
}
