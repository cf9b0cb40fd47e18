import {
  type BackendCapabilities,
  CancelledError,
  ClosedError,
  type CloseOptions,
  type ComputationBackend,
  type ComputationRecord,
  type ComputationScheduler,
  type ComputationStore,
  type Invocation,
  isTaskDefinition,
  jsonCodec,
  type Middleware,
  type PausedState,
  type SchedulerContext,
  StoreScheduler,
  silentLogger,
  type TaskDefinition,
  type TaskLogger,
  TaskNotFoundError,
  type TaskRegistration,
  TaskRegistry,
} from '@au/core';
import { checkMaxQueued, type ExecutionOutcome, LocalTasks, loadTaskModules } from '@au/core/kit';
import { SqlFunctionStore } from '@au/store-supabase';
import { toBackoffSpec } from './backoff-spec';
import type { LocalInvocation } from './delivery-runner';
import type { QueueBackendOptions } from './queue-backend-options';
import type { QueueClient, QueueJob } from './queue-client';
import { QueueStoreBinding } from './queue-store-binding';
import { QueueWorker } from './queue-worker';
import { ScheduleFirer } from './schedule-firer';
import { SqlScheduleRepository } from './sql-schedule-repository';
import { identifyStore, type SqlStore } from './sql-store';

/**
 * A durable queue in the records table (each computation's row is its queue entry), with workers in this process: what
 * `PostgresQueueBackend` and `SupabaseQueueBackend` share. `launch` resolves once the
 * row is committed; workers claim rows, run them through core's executor and end them
 * with fenced SQL calls, so a dead worker's work is claimed again after its lease.
 */
export class QueueBackend implements ComputationBackend {
  readonly name: string;
  readonly capabilities: BackendCapabilities = {
    inlineFunctions: false,
    durable: true,
    priority: true,
    preemptiveCancel: false,
  };
  readonly queue: QueueClient;
  readonly maxQueued?: number;
  readonly #options: QueueBackendOptions;
  readonly #local = new Map<string, LocalInvocation>();
  readonly #binding: QueueStoreBinding;
  readonly #tasks: LocalTasks;
  readonly #ready: Promise<void>;
  readonly #closeTransport: () => Promise<void>;
  readonly #logger: TaskLogger;
  /** Schedules in the `au_schedules` table, fired by this queue's workers. */
  readonly #schedules: SqlScheduleRepository;
  #registry: TaskRegistry | undefined;
  /** The identity of this queue's schema, as an au SQL store over it reports it (read once). */
  #schemaId: Promise<string> | undefined;
  #worker: QueueWorker | undefined;
  #firer: ScheduleFirer | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #drainWaiters = new Set<() => void>();
  /** Tasks core registered here, which this backend's firer can launch too. */
  readonly #registeredNames = new Set<string>();
  /** The contexts of the schedulers opened here: their tasks can be fired here too, launched their way. */
  readonly #contexts: SchedulerContext[] = [];

  constructor(
    name: string,
    queue: QueueClient,
    store: ComputationStore,
    options: QueueBackendOptions,
    closeTransport: () => Promise<void>,
  ) {
    this.name = name;
    this.queue = queue;
    checkMaxQueued(`[${name}] queue backend`, options.maxQueued);
    if (options.maxQueued !== undefined) this.maxQueued = options.maxQueued;
    this.#options = options;
    this.#closeTransport = closeTransport;
    const logger = options.logger ?? silentLogger;
    this.#logger = logger;
    const binding = new QueueStoreBinding({ component: `backend ${name}`, queue, logger, store });
    this.#binding = binding;
    const schedules = new SqlScheduleRepository(queue.transport, queue.queue);
    this.#schedules = schedules;
    this.#tasks = new LocalTasks({
      where: `the ${name} backend's tasks`,
      defaults: { codec: jsonCodec, middleware: workerMiddleware(options) },
      modules: {
        find: (task) => this.#registry?.find(task),
        names: () => this.#registry?.names() ?? [],
      },
    });
    const tasks = options.tasks;
    let modules: readonly (string | URL)[] | undefined;
    if (tasks instanceof TaskRegistry) this.#registry = tasks;
    else if (tasks?.every((task) => isTaskDefinition(task)))
      this.#registry = new TaskRegistry(tasks as readonly TaskDefinition[], `the ${name} backend's tasks`);
    else if (tasks !== undefined) modules = tasks as readonly (string | URL)[];
    this.#ready = (async () => {
      if (modules !== undefined)
        this.#registry = await loadTaskModules(modules, `the ${name} backend's task modules`);
      if (options.worker === false || this.#closed) return;
      // A worker checks its store against the queue's before it claims anything.
      await binding.record(store);
      if (this.#closed) return;
      const leaseMs = options.leaseMs ?? 30_000;
      // Its writes are fenced by the lease only in the queue's own rows (same database, by identity).
      const ownStore = await this.#holdsRowsOf(store as SqlStore);
      if (this.#closed) return;
      this.#worker = new QueueWorker({
        queue,
        store,
        ownStore,
        tasks: this.#registry,
        local: (key) => this.#local.get(key),
        maxConcurrentTasks: options.maxConcurrentTasks ?? 10,
        pollingInterval: options.pollingInterval ?? 1000,
        leaseMs,
        heartbeatInterval: options.heartbeatInterval ?? Math.max(Math.floor(leaseMs / 3), 10),
        middleware: workerMiddleware(options),
        logger,
        ...(options.storeRetry === undefined ? {} : { storeRetry: options.storeRetry }),
        onSettled: (key, outcome) => this.#settled(key, outcome),
      });
      this.#worker.start();
      // Workers fire the queue's schedules; a schedule's runs go through this backend.
      this.#firer = new ScheduleFirer({
        repository: schedules,
        store,
        backend: this,
        worker: this.#worker.id,
        // With a scheduler's finder (core's `schedule` in this process), any task it finds.
        tasks: () =>
          this.#contexts.length > 0
            ? undefined
            : [...(this.#registry?.names() ?? []), ...this.#registeredNames],
        findTask: (name) => this.#findTask(name),
        launchSettings: (task) => {
          for (const context of this.#contexts) {
            const settings = context.launchSettings?.(task);
            if (settings !== undefined) return settings;
          }
          return undefined;
        },
        pollingInterval: options.pollingInterval ?? 1000,
        logger,
      });
      this.#firer.start();
    })();
    this.#ready.catch(() => undefined);
  }

  /** Resolves once task modules are loaded and the workers started. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** The worker of this process, when it runs one. */
  get worker(): QueueWorker | undefined {
    return this.#worker;
  }

  /** Rows of this queue waiting to start (delayed ones included), of `task` only when given; one indexed count. */
  async queued(task?: string): Promise<number> {
    return this.queue.count(task);
  }

  /** Checks that work launched with `store` writes the records this queue's workers read (see `QueueStoreBinding`). */
  async bind(store: ComputationStore): Promise<void> {
    await this.#binding.bind(store);
  }

  register(registration: TaskRegistration): void {
    this.#tasks.register(registration);
    this.#registeredNames.add(registration.task.name);
  }

  /**
   * Schedules kept in the `au_schedules` table (core's `StoreScheduler` over
   * `SqlScheduleRepository`; this scheduler only keeps them). The workers of this queue
   * fire them: each leases due schedules with `FOR UPDATE SKIP LOCKED`, so one worker at
   * a time launches a schedule's ticks, each run keyed `tickKey(id, tick)`.
   */
  scheduler(context: SchedulerContext): ComputationScheduler {
    this.#assertOpen();
    if (!this.#contexts.includes(context)) this.#contexts.push(context);
    return new StoreScheduler({
      store: context.store,
      backend: this,
      findTask: context.findTask,
      repository: this.#schedules,
      fire: false,
      ...(context.clock === undefined ? {} : { clock: context.clock }),
      ...(context.logger === undefined ? {} : { logger: context.logger }),
    });
  }

  async launch(invocation: Invocation): Promise<void> {
    await this.launchMany([invocation]);
  }

  async launchMany(invocations: readonly Invocation[]): Promise<void> {
    await this.#enqueue(invocations, (jobs) =>
      jobs.length === 1 ? this.queue.enqueue(jobs[0]!) : this.queue.enqueueMany(jobs),
    );
  }

  /**
   * Creates the records and queues them in one statement (`au_launch_many`) when `store`
   * is an au SQL store over this queue's schema: the row is the record and the queue
   * entry, so a launch costs one round trip and one transaction. False for any other
   * store, and for more records than one statement should carry.
   */
  async createAndLaunch(
    store: ComputationStore,
    records: readonly ComputationRecord[],
    invocations: readonly Invocation[],
  ): Promise<boolean> {
    const sqlStore = store as SqlStore;
    if (
      typeof sqlStore.createQueued !== 'function' ||
      records.length > MAX_LAUNCH_STATEMENT ||
      !(await this.#holdsRowsOf(sqlStore))
    )
      return false;
    await this.#enqueue(invocations, (jobs) => sqlStore.createQueued!(records, this.queue.queue, jobs));
    return true;
  }

  /**
   * Whether `store` keeps its records in this queue's own schema, of the same database (its
   * identity, not only its schema name: a store given in another database with the same
   * schema name would get the queue entries there, where no worker of this queue looks).
   */
  async #holdsRowsOf(store: SqlStore): Promise<boolean> {
    if (store.schema !== this.queue.transport.schema) return false;
    await identifyStore(store);
    this.#schemaId ??= new SqlFunctionStore(this.queue.transport).identify().catch((error: unknown) => {
      this.#schemaId = undefined;
      throw error;
    });
    return store.id === (await this.#schemaId);
  }

  /**
   * Stops every worker of this queue from starting `task` (without it: any task) until
   * `resume`: kept in the `au_pauses` table, so it holds across restarts and for workers
   * that start later. Running work finishes; paused work stays `pending` in its place.
   */
  async pause(task?: string): Promise<void> {
    this.#assertOpen();
    await this.queue.pause(checkTaskName(this.name, 'pause', task));
  }

  /** Lets `task` (without it: the whole queue) start again; listening workers are woken at once. */
  async resume(task?: string): Promise<void> {
    this.#assertOpen();
    await this.queue.resume(checkTaskName(this.name, 'resume', task));
    this.#worker?.wake();
  }

  /** What is paused in this queue: the whole queue, and tasks paused one by one (by name). */
  async paused(): Promise<PausedState> {
    this.#assertOpen();
    return this.queue.paused();
  }

  async cancel(key: string, reason?: string): Promise<boolean> {
    const local =
      this.#worker?.abort(key, new CancelledError({ key, ...(reason === undefined ? {} : { reason }) })) ??
      false;
    const queued = await this.queue.cancel(key, reason);
    if (!local) this.#settled(key, undefined);
    return local || queued;
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeout ?? 10_000);
    return this.#closing;
  }

  async ping(): Promise<void> {
    this.#assertOpen();
    await this.queue.stats();
  }

  // ---- private helpers ------------------------------------------------------------

  async #close(timeout: number): Promise<void> {
    this.#closed = true;
    await this.#ready.catch(() => undefined);
    await this.#firer?.stop();
    const worker = this.#worker;
    if (worker !== undefined) {
      const deadline = Date.now() + timeout;
      // Work launched here is finished here when it can be (a drain), within the timeout.
      await this.#waitDrained(timeout);
      worker.stop();
      const drained = await worker.waitIdle(Math.max(0, deadline - Date.now()));
      if (!drained) {
        // An aborted run still records its cancel, through store retries that can outlast
        // the timeout while the database is unreachable: close does not wait past a grace.
        const aborting = worker.abortAll(new ClosedError({ component: `backend ${this.name}` }));
        if (!(await settlesWithin(aborting, CLOSE_GRACE)))
          this.#logger.warn(
            `[au] [${this.name}] close: runs aborted ${CLOSE_GRACE} ms ago are still writing; their leases lapse if they cannot`,
          );
      }
    }
    this.#local.clear();
    if (!(await settlesWithin(this.#closeTransport(), CLOSE_GRACE)))
      this.#logger.warn(
        `[au] [${this.name}] close: the database connections did not close within ${CLOSE_GRACE} ms`,
      );
  }

  #waitDrained(timeout: number): Promise<void> {
    if (this.#local.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#drainWaiters.delete(done);
        resolve();
      }, timeout);
      this.#drainWaiters.add(done);
    });
  }

  #settled(key: string, outcome: ExecutionOutcome | undefined): void {
    if (outcome?.status === 'retry') return;
    this.#local.delete(key);
    if (this.#local.size === 0) {
      for (const resolve of this.#drainWaiters) resolve();
      this.#drainWaiters.clear();
    }
  }

  /** Checks the tasks, keeps how this process runs them, writes the queue entries (`write`), wakes the worker. */
  async #enqueue(
    invocations: readonly Invocation[],
    write: (jobs: readonly QueueJob[]) => Promise<unknown>,
  ): Promise<void> {
    this.#assertOpen();
    await this.#ready;
    for (const invocation of invocations) {
      if (this.#registry !== undefined && !this.#registry.has(invocation.task)) {
        throw new TaskNotFoundError({
          task: invocation.task,
          where: `the ${this.name} backend's task modules`,
          known: this.#registry.names(),
        });
      }
    }
    if (invocations.length === 0) return;
    const jobs = invocations.map((invocation) => this.#job(invocation));
    if (this.#worker !== undefined)
      for (const invocation of invocations)
        if (this.#tasks.has(invocation.task))
          this.#local.set(invocation.key, { invocation, run: this.#tasks.resolve(invocation) });
    try {
      await write(jobs);
    } catch (error) {
      for (const invocation of invocations) this.#local.delete(invocation.key);
      throw error;
    }
    const worker = this.#worker;
    if (worker === undefined) return;
    const now = Date.now();
    const soonest = Math.min(...invocations.map((invocation) => invocation.runAt ?? now));
    if (soonest > now) worker.wakeIn(soonest - now);
    else worker.wake();
  }

  #job(invocation: Invocation): QueueJob {
    const job: QueueJob = {
      key: invocation.key,
      task: invocation.task,
      priority: invocation.priority,
      maxAttempts: Math.max(invocation.retry.attempts, 1),
      maxLeaseExpiries: this.#options.maxLeaseExpiries ?? 3,
    };
    const backoff = toBackoffSpec(invocation.retry);
    if (backoff !== undefined) job.backoff = backoff;
    if (invocation.runAt !== undefined) job.runAtMs = invocation.runAt;
    const timeout = invocation.timeout;
    if (timeout !== undefined) job.timeoutMs = Math.ceil(timeout);
    // Enforced by au_claim across every worker of the queue (see the migration's "Flow control").
    if (invocation.concurrency !== undefined) {
      job.concurrencyKey = invocation.concurrency.key;
      job.concurrencyLimit = invocation.concurrency.limit;
    }
    if (invocation.rateLimit !== undefined) {
      job.rateKey = invocation.rateLimit.key;
      job.rateLimit = invocation.rateLimit.limit;
      job.rateInterval = invocation.rateLimit.interval;
    }
    return job;
  }

  /** A task this backend's worker can launch: registered by core, in its modules, or found by a scheduler's finder. */
  #findTask(name: string): TaskDefinition | undefined {
    const known = this.#tasks.registered(name)?.task ?? this.#registry?.find(name);
    if (known !== undefined) return known;
    for (const context of this.#contexts) {
      const found = context.findTask(name);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError({ component: `backend ${this.name}` });
  }
}

/** `task` as `pause` / `resume` take it: a task name, or undefined for the whole queue. */
function checkTaskName(backend: string, method: string, task: unknown): string | undefined {
  if (task === undefined) return undefined;
  if (typeof task !== 'string' || task.length === 0) {
    throw new TypeError(
      `[au] [${backend}] ${method}: \`task\` must be a task name, or left out for the whole queue; got ${JSON.stringify(task)}`,
    );
  }
  return task;
}

/** Ms `close` waits, past its timeout, for aborted runs and for the connections to close. */
const CLOSE_GRACE = 5000;
/** Most records `createAndLaunch` writes in one statement; core creates and launches more in chunks. */
const MAX_LAUNCH_STATEMENT = 5000;

/** Whether `promise` settles within `ms` (it goes on either way). */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    timeout,
  ]).finally(() => clearTimeout(timer));
}

/** The workers' middleware for work launched by other processes, `onDeadLetter` last. */
function workerMiddleware(options: QueueBackendOptions): readonly Middleware[] {
  const middleware = options.middleware ?? [];
  return options.onDeadLetter === undefined
    ? middleware
    : [...middleware, { name: 'onDeadLetter', deadLetter: options.onDeadLetter }];
}
