import { availableParallelism } from 'node:os';
import { jsonCodec } from '../../codecs/json-codec';
import type {
  BackendCapabilities,
  CloseOptions,
  ComputationBackend,
  Invocation,
  PausedState,
  TaskRegistration,
} from '../../contracts/backend';
import type { RunContext } from '../../contracts/middleware';
import type { ComputationStore } from '../../contracts/store';
import { ClosedError } from '../../errors/closed-error';
import { reviveError } from '../../errors/revive-error';
import { serializeError } from '../../errors/serialize-error';
import { executeComputation } from '../../executor';
import { checkMaxQueued } from '../../flow/check-max-queued';
import { silentLogger } from '../../logger';
import type { TaskContext, TaskLogger } from '../../task';
import { loadTaskModules, type TaskRegistry } from '../../task-registry';
import { LocalScheduler, type LocalSlot, type LocalWork } from '../local-scheduler';
import { LocalTasks } from '../local-tasks';
import { type BatchFailure, ShortTaskBatcher } from '../short-task-batcher';
import { StoreBinding } from '../store-binding';
import { normalizeTaskModules, TASK_MODULES_WHERE } from './pool-task-modules';
import type { PoolTransport } from './pool-transport';
import { MAX_ATTEMPT_ID, type PoolRequest, type PoolResponse, type WorkerEvent } from './pool-wire';
import type { PooledBackendSettings } from './pooled-backend-options';
import { PooledAttempt, PooledRun } from './pooled-run';

interface ActiveAttempt {
  context: TaskContext & RunContext;
  /** Log lines received from the worker. */
  logs: number;
  /** Set while the reply waits for log lines still on their way. */
  onLog?: () => void;
}

/** How long a reply waits for log lines the worker sent before it (they travel on another channel). */
const LATE_LOG_WAIT = 1000;

/**
 * A backend that runs each task body in a pool of workers (threads or child processes,
 * reached through a `PoolTransport`) and everything else here, through core's executor:
 * claiming the record, run-side middleware, the timeout, progress and result writes.
 * It owns, for every transport: scheduling (`LocalScheduler`: priorities, delays, the
 * tasks' `concurrency` and `rateLimit`, `pause`), batching of short tasks
 * (`ShortTaskBatcher`), crash handling (the computation fails with the transport's
 * crash error; the executor retries per policy), cancel escalation (a cooperative abort,
 * then the worker's forced end after `cancelGracePeriod`), progress and log forwarding,
 * and bind/register.
 */
export class PooledBackend<Transport extends PoolTransport = PoolTransport> implements ComputationBackend {
  readonly name: string;
  readonly capabilities: BackendCapabilities = {
    inlineFunctions: false,
    durable: false,
    priority: true,
    preemptiveCancel: true,
  };
  /** Tasks running at once (= most workers alive). */
  readonly concurrency: number;
  /** The task modules, as `file:` URLs. */
  readonly taskModules: readonly string[];
  protected readonly transport: Transport;
  readonly #cancelGracePeriod: number;
  readonly #progressInterval: number;
  readonly #logger: TaskLogger;
  readonly #batcher: ShortTaskBatcher<PoolRequest, PoolResponse>;
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
  readonly maxQueued?: number;
  readonly #attempts = new Map<number, ActiveAttempt>();
  /** Attempts stopped on purpose (a cancel, a timeout, a shutdown): their end is not a crash. */
  readonly #stopped = new Set<number>();
  #nextAttemptId = 0;
  #transportClosed: Promise<void> | undefined;

  constructor(settings: PooledBackendSettings<Transport>) {
    const { name, options } = settings;
    const modules = normalizeTaskModules(options?.tasks);
    if (modules.length === 0) {
      throw new TypeError(
        `[au] [${name}] \`tasks\` is empty: give the task modules the ${settings.workers} load, e.g. new ${settings.className}({ tasks: [new URL("./tasks.js", import.meta.url)] })`,
      );
    }
    const concurrency = options.concurrency ?? Math.max(1, availableParallelism());
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
      throw new TypeError(`[au] [${name}] concurrency must be an integer ≥ 1, got ${concurrency}`);
    }
    this.name = name;
    this.concurrency = concurrency;
    checkMaxQueued(`[${name}] ${settings.className}`, options.maxQueued);
    if (options.maxQueued !== undefined) this.maxQueued = options.maxQueued;
    this.taskModules = modules;
    this.#cancelGracePeriod = nonNegative(name, 'cancelGracePeriod', options.cancelGracePeriod ?? 250);
    const idleTimeout = nonNegative(name, 'idleTimeout', options.idleTimeout ?? 30_000);
    this.#progressInterval = options.progressInterval ?? 100;
    this.#logger = options.logger ?? silentLogger;
    this.#binding = new StoreBinding(`backend ${name}`, options.store);
    this.#scheduler = new LocalScheduler({
      name,
      concurrency,
      start: (invocation, slot) => this.#start(invocation, slot),
      store: () => this.#binding.store,
      logger: this.#logger,
    });
    // Before the transport: a bad maxBatch must not leave workers behind.
    this.#batcher = new ShortTaskBatcher<PoolRequest, PoolResponse>({
      name,
      workers: concurrency,
      maxBatch: options.maxBatch,
      runOne: (request) => this.transport.run(request),
      runBatch: (requests) => this.transport.runBatch(requests),
      onBatchFailed: (requests, error) => this.#onBatchFailed(requests, error),
    });
    this.transport = settings.createTransport({
      modules,
      concurrency,
      idleTimeout,
      logger: this.#logger,
      onEvent: (event) => this.#onWorkerEvent(event),
    });
    this.#registry = loadTaskModules(modules, TASK_MODULES_WHERE);
    this.#registry.then((registry) => {
      this.#loaded = registry;
    }, noop);
  }

  async bind(store: ComputationStore): Promise<void> {
    this.#binding.bind(store);
  }

  register(registration: TaskRegistration): void {
    this.#tasks.register(registration);
  }

  async queued(task?: string): Promise<number> {
    return this.#scheduler.waitingCount(task);
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
    this.#transportClosed ??= this.transport.close(this.#cancelGracePeriod);
    await this.#transportClosed;
  }

  /** Rejects when closed, or when a task module does not load. */
  async ping(): Promise<void> {
    if (this.#scheduler.closed) throw new ClosedError({ component: `backend ${this.name}` });
    await this.#registry;
  }

  /** Computations running now. */
  get runningCount(): number {
    return this.#scheduler.runningCount;
  }

  /** Computations waiting for a worker (delayed ones included). */
  get queuedCount(): number {
    return this.#scheduler.queuedCount;
  }

  /** Attempts of short tasks sent to the workers in batches so far. */
  get batchedCount(): number {
    return this.#batcher.batchedCount;
  }

  // ---- private helpers ------------------------------------------------------------

  async #checkLaunchable(invocations: readonly Invocation[]): Promise<void> {
    if (this.#scheduler.closed) throw new ClosedError({ component: `backend ${this.name}` });
    const registry = await this.#registry;
    void this.#binding.store;
    for (const invocation of invocations) registry.get(invocation.task);
    if (this.#scheduler.closed) throw new ClosedError({ component: `backend ${this.name}` });
  }

  /** Runs one computation through the executor, its attempts in workers (the scheduler's `start`). */
  #start(invocation: Invocation, slot: LocalSlot): LocalWork {
    const local = this.#tasks.resolve(invocation);
    const run = new PooledRun(invocation, local, slot, this.#runInWorker);
    run.done = run.settle(
      executeComputation({
        store: this.#binding.store,
        key: invocation.key,
        task: run,
        codec: local.codec,
        retry: local.retry,
        timeout: invocation.timeout,
        ttl: invocation.ttl,
        middleware: local.middleware,
        onAbortable: (abort) => run.setExecutionAbort(abort),
        logger: local.logger ?? this.#logger,
        progressInterval: this.#progressInterval,
        retryMode: 'report',
      }),
    );
    return run;
  }

  /** The `run` of the Runnable the executor calls: one attempt, in a worker. */
  readonly #runInWorker = async (
    run: PooledRun,
    input: unknown,
    context: TaskContext & RunContext,
  ): Promise<unknown> => {
    const { invocation, local, slot } = run;
    // With a timeout the attempt's own signal tells when to stop the worker (it also
    // follows a cancel); without one, only a cancel or a shutdown can stop it, and
    // `run` hears those without the cost of an AbortSignal and its listener.
    const signal = invocation.timeout === undefined ? undefined : context.signal;
    if (signal === undefined ? run.aborted : signal.aborted)
      throw signal === undefined ? run.reason : signal.reason;
    this.#nextAttemptId = this.#nextAttemptId >= MAX_ATTEMPT_ID ? 1 : this.#nextAttemptId + 1;
    const id = this.#nextAttemptId;
    const request: PoolRequest = {
      id,
      task: invocation.task,
      key: invocation.key,
      attempt: context.attempt,
      codec: local.codec.name,
      args: local.codec.encode(input),
    };
    // Only when there is some: most computations carry none, and the request stays small.
    if (hasKeys(context.meta)) request.meta = context.meta as Record<string, unknown>;
    const attempt = new PooledAttempt(id, this.#abortAttempt);
    let onAbort: (() => void) | undefined;
    if (signal === undefined) run.current = attempt;
    else {
      onAbort = () => attempt.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    const active: ActiveAttempt = { context, logs: 0 };
    this.#attempts.set(id, active);
    const inWorker = this.#batcher.isShort(request.task, invocation.timeout)
      ? this.#batcher.send(request, slot)
      : this.transport.run(request);
    run.inFlight = inWorker;
    let response: PoolResponse;
    try {
      response = await inWorker;
      if (response.logs !== undefined && response.logs > active.logs) await lateLogs(active, response.logs);
    } catch (error) {
      // The worker is gone before it replied: ended on purpose, or crashed.
      if (this.#stopped.has(id)) throw attempt.reason;
      this.#batcher.forget(request.task);
      throw this.transport.crashError(request, error);
    } finally {
      // The slot frees as soon as the worker does, so the next computation starts while
      // this one's result is still being written.
      slot.release();
      this.#stopped.delete(id);
      attempt.finish();
      if (run.current === attempt) run.current = undefined;
      if (run.inFlight === inWorker) run.inFlight = undefined;
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
      this.#attempts.delete(id);
    }
    this.#batcher.record(request.task, response.duration);
    if (response.progress !== undefined) context.progress(response.progress.value);
    if (response.ok) return local.codec.decode(response.value);
    throw reviveError(response.error);
  };

  /** Cancel escalation: a cooperative abort now, the worker's forced end after the grace period. */
  readonly #abortAttempt = (id: number, reason: unknown): ReturnType<typeof setTimeout> | undefined => {
    this.#stopped.add(id);
    // Not sent yet (waiting for a batch): it never reaches a worker.
    if (this.#batcher.withdraw(id, reason)) return undefined;
    this.transport.abort(id, serializeError(reason));
    return setTimeout(() => this.transport.kill(id), this.#cancelGracePeriod);
  };

  /**
   * A batch's worker died. The attempts stopped on purpose fail with their reason; in a
   * crash, the attempt it died in fails (when the transport can tell). The others run
   * again alone (an earlier one of the batch may thus run twice: its reply died with the
   * worker). Their tasks are measured again before they are batched again.
   */
  #onBatchFailed(requests: readonly PoolRequest[], error: unknown): BatchFailure[] {
    const stopped = requests.some((request) => this.#stopped.has(request.id));
    const diedIn = stopped ? undefined : this.transport.diedIn(requests, error);
    for (const request of requests) this.#batcher.forget(request.task);
    return requests.map((request) =>
      this.#stopped.has(request.id) || request.id === diedIn ? 'fail' : 'resend',
    );
  }

  #onWorkerEvent(event: WorkerEvent): void {
    const attempt = this.#attempts.get(event.id);
    if (attempt === undefined) return;
    if (event.au === 'progress') attempt.context.progress(event.value);
    else {
      attempt.logs++;
      attempt.context.log[event.level](...event.args);
      attempt.onLog?.();
    }
  }
}

/**
 * Waits (a bounded time) until the worker's `expected` log lines have arrived: a thread
 * posts them on its own port, which may deliver after the reply.
 */
function lateLogs(attempt: ActiveAttempt, expected: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, LATE_LOG_WAIT);
    attempt.onLog = () => {
      if (attempt.logs >= expected) done();
    };
    function done(): void {
      clearTimeout(timer);
      attempt.onLog = undefined;
      resolve();
    }
  });
}

function noop(): void {}

function nonNegative(name: string, option: string, value: number): number {
  if (!(value >= 0)) throw new TypeError(`[au] [${name}] ${option} must be ≥ 0 ms, got ${value}`);
  return value;
}

function hasKeys(value: object): boolean {
  for (const _ in value) return true;
  return false;
}
