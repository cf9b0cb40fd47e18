import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type BackendCapabilities,
  CancelledError,
  ClosedError,
  type CloseOptions,
  type ComputationBackend,
  executeComputation,
  type Invocation,
  loadTaskModules,
  PriorityQueue,
  type RunContext,
  type Runnable,
  serializeError,
  silentLogger,
  type TaskContext,
  type TaskLogger,
  type TaskRegistry,
} from '@au/core';
import { ProcessCrashedError } from './errors/process-crashed-error';
import { ProcessGoneError, ProcessPool } from './process-pool';
import { isTypeScriptModule, normalizeTaskModules, TASK_MODULES_WHERE } from './task-modules';
import { type AttemptEvent, type RunRequest, type RunResponse, reviveError } from './wire';

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
}

const NAME = 'process';
const SOURCE_MODE = import.meta.url.endsWith('.ts');
const WORKER_FILE = fileURLToPath(new URL(`./process-worker.${SOURCE_MODE ? 'ts' : 'js'}`, import.meta.url));

interface QueuedWork {
  invocation: Invocation;
  sequence: number;
}

interface RunningWork {
  controller: AbortController;
  /** Settles when the executor is done and the process is free again. */
  done: Promise<void>;
  /** Settles when the process that ran the attempt replied or is gone. */
  processFree: Promise<unknown>;
  /** Holds one of the `concurrency` slots: from the start until its process is free. */
  holdsSlot: boolean;
}

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
  readonly #queue = new PriorityQueue<QueuedWork>(
    (a, b) =>
      a.invocation.priority > b.invocation.priority ||
      (a.invocation.priority === b.invocation.priority && a.sequence < b.sequence),
  );
  readonly #delayed = new Map<string, { timer: ReturnType<typeof setTimeout>; invocation: Invocation }>();
  readonly #running = new Map<string, RunningWork>();
  readonly #idleWaiters = new Set<() => void>();
  #slotsHeld = 0;
  #sequence = 0;
  #nextAttemptId = 0;
  #closed = false;
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
    this.#pool = new ProcessPool({
      entry: WORKER_FILE,
      modules,
      execArgv: options.execArgv ?? defaultExecArgv(modules),
      env: options.env,
      idleTimeout: nonNegative('idleTimeout', options.idleTimeout ?? 30_000),
      logger: this.#logger,
    });
    this.#registry = loadTaskModules(modules, TASK_MODULES_WHERE);
    // A load failure is reported by launch and ping; this keeps it from being unhandled.
    this.#registry.catch(() => undefined);
    if (options.minProcesses !== undefined) this.#pool.warm(Math.min(options.minProcesses, concurrency));
  }

  async launch(invocation: Invocation): Promise<void> {
    await this.#checkLaunchable([invocation]);
    this.#accept(invocation);
  }

  async launchMany(invocations: readonly Invocation[]): Promise<void> {
    await this.#checkLaunchable(invocations);
    for (const invocation of invocations) this.#accept(invocation);
  }

  async cancel(key: string, reason?: string): Promise<boolean> {
    const delayed = this.#delayed.get(key);
    if (delayed !== undefined) {
      clearTimeout(delayed.timer);
      this.#delayed.delete(key);
      this.#notifyIdle();
      return true;
    }
    const running = this.#running.get(key);
    if (running !== undefined) {
      running.controller.abort(new CancelledError({ key, ...(reason === undefined ? {} : { reason }) }));
      return true;
    }
    const removed = this.#queue.remove((work) => work.invocation.key === key);
    if (removed.length > 0) this.#notifyIdle();
    return removed.length > 0;
  }

  async close({ timeout = 10_000 }: CloseOptions = {}): Promise<void> {
    this.#closed = true;
    const drained = await this.#waitIdle(timeout);
    if (!drained) {
      const left = [
        ...this.#queue.drain().map((work) => work.invocation),
        ...[...this.#delayed.values()].map((delayed) => delayed.invocation),
      ];
      for (const { timer } of this.#delayed.values()) clearTimeout(timer);
      this.#delayed.clear();
      const closed = new ClosedError({ component: `backend ${NAME}` });
      for (const work of this.#running.values()) work.controller.abort(closed);
      await Promise.all([
        ...[...this.#running.values()].map((work) => work.done),
        ...left.map((invocation) => this.#markCancelled(invocation)),
      ]);
    }
    this.#poolClosed ??= this.#pool.close(this.#cancelGracePeriod);
    await this.#poolClosed;
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new ClosedError({ component: `backend ${NAME}` });
    await this.#registry;
  }

  /** Computations running now. */
  get runningCount(): number {
    return this.#running.size;
  }

  /** Computations waiting for a process (delayed ones included). */
  get queuedCount(): number {
    return this.#queue.size + this.#delayed.size;
  }

  /** Worker processes alive. */
  get processCount(): number {
    return this.#pool.size;
  }

  // ---- private helpers ------------------------------------------------------------

  async #checkLaunchable(invocations: readonly Invocation[]): Promise<void> {
    if (this.#closed) throw new ClosedError({ component: `backend ${NAME}` });
    const registry = await this.#registry;
    for (const invocation of invocations) registry.get(invocation.task.name);
    if (this.#closed) throw new ClosedError({ component: `backend ${NAME}` });
  }

  #accept(invocation: Invocation): void {
    const wait = invocation.runAt === undefined ? 0 : invocation.runAt - Date.now();
    if (wait > 0) {
      const timer = setTimeout(() => {
        this.#delayed.delete(invocation.key);
        this.#enqueue(invocation);
      }, wait);
      this.#delayed.set(invocation.key, { timer, invocation });
      return;
    }
    this.#enqueue(invocation);
  }

  #enqueue(invocation: Invocation): void {
    if (this.#slotsHeld < this.concurrency && this.#queue.size === 0) this.#start(invocation);
    else {
      this.#queue.push({ invocation, sequence: this.#sequence++ });
      this.#pump();
    }
  }

  #pump(): void {
    while (this.#slotsHeld < this.concurrency && this.#queue.size > 0) {
      this.#start(this.#queue.pop()!.invocation);
    }
  }

  #start(invocation: Invocation): void {
    const controller = new AbortController();
    const work: RunningWork = {
      controller,
      done: Promise.resolve(),
      processFree: Promise.resolve(),
      holdsSlot: true,
    };
    this.#slotsHeld += 1;
    this.#running.set(invocation.key, work);
    const runnable: Runnable = {
      name: invocation.task.name,
      ...(invocation.task.input === undefined ? {} : { input: invocation.task.input }),
      run: (input, context) => {
        const attempt = this.#runInProcess(invocation, input, context as TaskContext & RunContext, work);
        work.processFree = attempt.then(noop, noop);
        return attempt;
      },
    };
    work.done = executeComputation({
      store: invocation.store,
      key: invocation.key,
      task: runnable,
      args: { value: invocation.args },
      codec: invocation.codec,
      retry: invocation.retry,
      ...(invocation.timeout === undefined ? {} : { timeout: invocation.timeout }),
      ...(invocation.ttl === undefined ? {} : { ttl: invocation.ttl }),
      middleware: invocation.middleware,
      signal: controller.signal,
      logger: invocation.logger ?? this.#logger,
      progressInterval: this.#progressInterval,
      retryMode: 'report',
    }).then(
      async (outcome) => {
        await work.processFree;
        this.#finish(invocation.key, work);
        if (outcome.status !== 'retry') return;
        if (this.#closed) void this.#markCancelled(invocation);
        else this.#accept({ ...invocation, runAt: Date.now() + outcome.delay });
      },
      async (error: unknown) => {
        await work.processFree;
        this.#finish(invocation.key, work);
        this.#logger.error({ err: error, key: invocation.key }, '[au] [process] store failed while running');
      },
    );
  }

  /** The `run` of the Runnable the executor calls: one attempt, in a worker process. */
  async #runInProcess(
    invocation: Invocation,
    input: unknown,
    context: TaskContext & RunContext,
    work: RunningWork,
  ): Promise<unknown> {
    const { signal } = context;
    if (signal.aborted) throw signal.reason;
    this.#nextAttemptId = this.#nextAttemptId >= Number.MAX_SAFE_INTEGER ? 1 : this.#nextAttemptId + 1;
    const request: RunRequest = {
      id: this.#nextAttemptId,
      task: invocation.task.name,
      key: invocation.key,
      attempt: context.attempt,
      codec: invocation.codec.name,
      args: invocation.codec.encode(input),
    };
    const onEvent = (event: AttemptEvent) => {
      if (event.type === 'progress') context.progress(event.value);
      else context.log[event.level](...event.args);
    };
    const run = this.#pool.run(request, onEvent);
    const onAbort = () => run.stop(serializeError(signal.reason), this.#cancelGracePeriod);
    signal.addEventListener('abort', onAbort, { once: true });
    let response: RunResponse;
    try {
      response = await run.reply;
    } catch (error) {
      if (error instanceof ProcessGoneError) {
        throw new ProcessCrashedError({ task: invocation.task.name, key: invocation.key, exit: error.exit });
      }
      // Stopped on purpose: the executor already records the cancel or the timeout.
      throw signal.reason ?? error;
    } finally {
      // The slot frees as soon as the process does, so the next computation starts while
      // this one's result is still being written.
      this.#releaseSlot(work);
      signal.removeEventListener('abort', onAbort);
    }
    if (response.progress !== undefined) context.progress(response.progress.value);
    if (response.ok) return invocation.codec.decode(response.value);
    throw reviveError(response.error);
  }

  #releaseSlot(work: RunningWork): void {
    if (!work.holdsSlot) return;
    work.holdsSlot = false;
    this.#slotsHeld -= 1;
    this.#pump();
  }

  #finish(key: string, work: RunningWork): void {
    this.#releaseSlot(work);
    if (this.#running.get(key) === work) this.#running.delete(key);
    this.#pump();
    this.#notifyIdle();
  }

  async #markCancelled(invocation: Invocation): Promise<void> {
    const finishedAt = Date.now();
    const error = new CancelledError({ key: invocation.key, reason: 'the backend closed before it ran' });
    await invocation.store
      .update(
        invocation.key,
        {
          status: 'cancelled',
          error: serializeError(error),
          finishedAt,
          ...(invocation.ttl === undefined ? {} : { expiresAt: finishedAt + invocation.ttl * 1000 }),
        },
        { ifStatus: ['pending', 'running'] },
      )
      .catch((writeError: unknown) =>
        this.#logger.error({ err: writeError }, '[au] [process] could not record a cancel'),
      );
  }

  #isIdle(): boolean {
    return this.#running.size === 0 && this.#queue.size === 0 && this.#delayed.size === 0;
  }

  #notifyIdle(): void {
    if (!this.#isIdle()) return;
    for (const resolve of this.#idleWaiters) resolve();
    this.#idleWaiters.clear();
  }

  #waitIdle(timeout: number): Promise<boolean> {
    if (this.#isIdle()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#idleWaiters.delete(done);
        resolve(false);
      }, timeout);
      this.#idleWaiters.add(done);
    });
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
