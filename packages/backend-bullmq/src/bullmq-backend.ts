import { randomUUID } from 'node:crypto';
import {
  type BackendCapabilities,
  ClosedError,
  type CloseOptions,
  type ComputationBackend,
  type ComputationRecord,
  type ComputationScheduler,
  type ComputationStore,
  type Invocation,
  jsonCodec,
  NO_RETRY,
  type PausedState,
  type SchedulerContext,
  StoreMismatchError,
  silentLogger,
  type TaskDefinition,
  type TaskLogger,
  type TaskRegistration,
  TaskRegistry,
} from '@au/core';
import { checkMaxQueued, checkOptions, LocalTasks, loadTaskModules, optionNames } from '@au/core/kit';
import { Job, type JobsOptions, Queue } from 'bullmq';
import type { ChainableCommander } from 'ioredis';
import { BullMQScheduler } from './bullmq-scheduler';
import { cronRepeatStrategy } from './cron-repeat-strategy';
import { dropPreviousJob } from './drop-previous-job';
import { QueueUnavailableError } from './errors/queue-unavailable-error';
import { cancelChannel, type JobData, toJobData, toJobId, toJobOptions } from './job-options';
import { pausedTasksIn, pauseTaskIn, resumeTaskIn } from './paused-tasks';
import { queuedJobsKey, trackQueued, untrackQueued } from './queued-jobs';
import {
  closeConnection,
  isConnectionError,
  type OpenedConnection,
  openConnection,
  type RedisConnection,
} from './redis-connection';
import {
  type BullMQWorker,
  type BullMQWorkerOptions,
  startWorker,
  WORKER_OPTIONS,
} from './start-bullmq-worker';
import { describeStore, isSameStore, recordStoreBinding } from './store-binding';
import {
  isTransactionalStore,
  jobHold,
  reachesSameRedis,
  type TransactionalStore,
} from './transactional-launch';

export interface BullMQBackendOptions {
  /** Redis: a URL, ioredis options or an ioredis instance (shared, left open). @default 'redis://127.0.0.1:6379' */
  connection?: RedisConnection;
  /** The queue's name. @default 'au' */
  queue?: string;
  /** BullMQ's key prefix (`{bull}` on Redis Cluster). @default 'bull' */
  prefix?: string;
  /**
   * The tasks workers run (modules, definitions or a registry). When given, a launch of
   * any other task is refused at once with `TaskNotFoundError`; when not, every task is
   * queued and a worker without it fails the computation.
   */
  tasks?: TaskRegistry | readonly TaskDefinition[] | readonly (string | URL)[];
  /** Ms a launch may wait for Redis before it fails with `QueueUnavailableError`. @default 5000 */
  launchTimeout?: number;
  /** BullMQ job options added to every job (au sets jobId, priority, delay, attempts, backoff). */
  jobOptions?: JobsOptions;
  /**
   * Also run a worker in this process (single-machine setups and tests), with these
   * options; `connection`, `queue`, `prefix` and `tasks` default to the backend's. Its
   * `store` is the store the backend is bound to; without one the worker starts when the
   * backend is bound (`bind`, which core calls before the first launch).
   */
  worker?: Omit<BullMQWorkerOptions, 'tasks' | 'connection' | 'queue' | 'prefix' | 'store'> &
    Partial<Pick<BullMQWorkerOptions, 'tasks' | 'store'>>;
  /** Where binding checks log (a store without id cannot be checked). @default silentLogger */
  logger?: TaskLogger;
  /**
   * Most jobs that may wait in the queue (waiting, prioritized, delayed); a launch
   * past it is refused with `QueueFullError` before anything is written. @default no limit
   */
  maxQueued?: number;
}

const NAME = 'bullmq';
/**
 * Most records `createAndLaunch` writes in one transaction: a MULTI holds every other
 * client of Redis for its whole length (tens of ms at this size), so larger batches go
 * the two-step way, whose `addBulk` lets other clients in between its jobs.
 */
const MAX_TRANSACTION = 500;
const DEFAULT_JOB_OPTIONS: JobsOptions = { removeOnComplete: true, removeOnFail: true };
const BACKEND_OPTIONS = optionNames<BullMQBackendOptions>({
  connection: true,
  queue: true,
  prefix: true,
  tasks: true,
  launchTimeout: true,
  jobOptions: true,
  worker: true,
  logger: true,
  maxQueued: true,
});
/** What the embedded worker takes: the worker's options but those the backend supplies. */
const EMBEDDED_WORKER_OPTIONS = new Set(
  [...WORKER_OPTIONS].filter((name) => !['connection', 'queue', 'prefix'].includes(name)),
);

/**
 * The producer side of au on BullMQ: one queue; each computation is one job whose id is
 * the computation key. `launch` resolves once the job is in Redis; `launchMany` is one
 * `addBulk`. Workers (`startBullMQWorker`, or the embedded one) run the jobs. `bind`
 * records the store's id with the queue, so producers and workers over different stores
 * are refused (`StoreMismatchError`) instead of waiting for each other's records.
 */
export class BullMQBackend implements ComputationBackend {
  readonly name = NAME;
  readonly capabilities: BackendCapabilities = {
    inlineFunctions: false,
    durable: true,
    priority: true,
    preemptiveCancel: false,
  };
  /** The BullMQ queue (for dashboards, metrics, maintenance). */
  readonly queue: Queue<JobData>;
  readonly queueName: string;
  readonly maxQueued?: number;
  /** Tasks whose waiting jobs are counted one by one (their definition has a `maxQueued`). */
  readonly #trackedTasks = new Set<string>();
  readonly #connection: OpenedConnection;
  readonly #prefix: string;
  readonly #launchTimeout: number;
  readonly #jobOptions: JobsOptions;
  readonly #tasks: Promise<TaskRegistry | undefined>;
  readonly #logger: TaskLogger;
  readonly #workerOptions: BullMQBackendOptions['worker'];
  readonly #workerConnection: NonNullable<BullMQBackendOptions['connection']>;
  /** The store this backend's work writes, and the check that the queue agrees. */
  #bound: { store: ComputationStore; check: Promise<void> } | undefined;
  /** Tasks core registered (`register`): the embedded worker runs them as launched here. */
  readonly #registered: LocalTasks;
  /** Per store: whether it reaches this queue's Redis server and database (`createAndLaunch`). */
  readonly #reachesQueue = new WeakMap<ComputationStore, boolean>();
  #startedWorker: Promise<BullMQWorker> | undefined;
  #workerWithoutStore: Promise<never> | undefined;
  #closed = false;

  constructor(options: BullMQBackendOptions = {}) {
    checkOptions(`[${NAME}] BullMQBackend`, options, BACKEND_OPTIONS);
    checkOptions(`[${NAME}] BullMQBackend worker`, options.worker, EMBEDDED_WORKER_OPTIONS);
    checkMaxQueued(`[${NAME}] BullMQBackend`, options.maxQueued);
    if (options.maxQueued !== undefined) this.maxQueued = options.maxQueued;
    this.queueName = options.queue ?? 'au';
    this.#prefix = options.prefix ?? 'bull';
    this.#launchTimeout = options.launchTimeout ?? 5000;
    this.#jobOptions = { ...DEFAULT_JOB_OPTIONS, ...options.jobOptions };
    this.#connection = openConnection(options.connection ?? 'redis://127.0.0.1:6379', 'producer');
    this.queue = new Queue<JobData>(this.queueName, {
      connection: this.#connection.redis,
      prefix: this.#prefix,
      // Cron schedules: BullMQ computes a scheduler's first tick here, with croner.
      settings: { repeatStrategy: cronRepeatStrategy },
    });
    this.queue.on('error', () => undefined);
    this.#tasks = options.tasks === undefined ? Promise.resolve(undefined) : toRegistry(options.tasks);
    this.#tasks.catch(() => undefined);
    this.#logger = options.logger ?? silentLogger;
    this.#workerOptions = options.worker;
    this.#workerConnection = options.connection ?? 'redis://127.0.0.1:6379';
    this.#registered = new LocalTasks({
      where: `the tasks launched on BullMQ queue "${this.queueName}"`,
      defaults: { codec: jsonCodec, middleware: [] },
    });
    const workerStore = options.worker?.store;
    if (workerStore !== undefined) {
      // The embedded worker records its store with the queue when it starts: that is the binding.
      const worker = this.#startWorker(workerStore);
      this.#bound = { store: workerStore, check: worker.then(() => undefined) };
    }
  }

  async launch(invocation: Invocation): Promise<void> {
    await this.#assertCanLaunch([invocation]);
    await this.#dropReplaced([invocation]);
    await this.#whileTracked([invocation], () =>
      this.#withTimeout('launch', this.#launchTimeout, () =>
        this.queue.add(
          invocation.task,
          this.#jobData(invocation),
          toJobOptions(invocation, Date.now(), this.#jobOptions),
        ),
      ),
    );
  }

  async launchMany(invocations: readonly Invocation[]): Promise<void> {
    if (invocations.length === 0) return;
    await this.#assertCanLaunch(invocations);
    await this.#dropReplaced(invocations);
    const now = Date.now();
    const jobs = invocations.map((invocation) => ({
      name: invocation.task,
      data: this.#jobData(invocation),
      opts: toJobOptions(invocation, now, this.#jobOptions),
    }));
    await this.#whileTracked(invocations, () =>
      this.#withTimeout('launchMany', this.#launchTimeout + invocations.length, () =>
        this.queue.addBulk(jobs),
      ),
    );
  }

  /**
   * Creates the records and adds their jobs in one Redis transaction (one round trip)
   * when `store` is a `RedisStore` on this queue's Redis server and database: a producer
   * killed mid-launch leaves both or neither, never a `pending` record without a job.
   * False, having written nothing, for any other store, on Redis Cluster (the keys are in
   * different slots), for more than 500 records (a transaction holds Redis for its whole
   * length), and for a relaunch replacing a finished job (the old job goes first): core
   * then creates the records and calls `launchMany`. A task with `maxQueued` has its job
   * ids put in its set of waiting jobs inside the transaction too. A taken key refuses the
   * batch with `KeyExistsError`: no record is created, no job added, no id tracked.
   */
  async createAndLaunch(
    store: ComputationStore,
    records: readonly ComputationRecord[],
    invocations: readonly Invocation[],
  ): Promise<boolean> {
    if (
      !isTransactionalStore(store) ||
      records.length > MAX_TRANSACTION ||
      invocations.some((invocation) => invocation.replaces === true)
    )
      return false;
    await this.#assertCanLaunch(invocations);
    if (!(await this.#reaches(store))) return false;
    await this.#withTimeout('launch', this.#launchTimeout + invocations.length, async () => {
      const client = await this.queue.backend.client;
      const redis = this.#connection.redis;
      const conflictFlag = `${this.#prefix}:${this.queueName}:au:conflict:${randomUUID()}`;
      const create = await store.createManyIn(redis, records, { conflictFlag });
      const jobs = jobHold(
        redis,
        conflictFlag,
        invocations.map((invocation) => this.queue.toKey(toJobId(invocation.key))),
      );
      const transaction = client.multi() as unknown as ChainableCommander;
      create.addTo(transaction);
      jobs.hold(transaction);
      const now = Date.now();
      for (const invocation of invocations) {
        const options = toJobOptions(invocation, now, this.#jobOptions);
        // Queued at once; its reply comes in exec's results.
        void new Job(this.queue, invocation.task, this.#jobData(invocation), options, options.jobId).addJob(
          transaction as never,
        );
      }
      for (const [task, ids] of this.#trackedJobIds(invocations))
        jobs.track(transaction, queuedJobsKey(this.#prefix, this.queueName, task), ids);
      jobs.release(transaction);
      const replies = await transaction.exec();
      if (replies === null) throw new Error('the launch transaction was discarded');
      create.read(replies[0] as [Error | null, unknown]);
      for (const [error] of replies) if (error !== null) throw error;
    });
    return true;
  }

  /**
   * Jobs waiting to start: of every task, BullMQ's own counts (waiting, prioritized,
   * delayed); of one task, the size of its set of waiting job ids (`queued-jobs.ts`).
   */
  async queued(task?: string): Promise<number> {
    if (task === undefined) {
      const counts = await this.#withTimeout('count', this.#launchTimeout, () =>
        this.queue.getJobCounts('waiting', 'prioritized', 'delayed'),
      );
      return Object.values(counts).reduce((sum, count) => sum + count, 0);
    }
    return this.#withTimeout('count', this.#launchTimeout, () =>
      this.#connection.redis.scard(queuedJobsKey(this.#prefix, this.queueName, task)),
    );
  }

  /**
   * Remembers how a task launched in this process runs. With an embedded worker, that
   * worker runs it with the launch's codec, middleware, retry functions and logger, and
   * without task modules of its own (`tasks`) it runs what is registered. With `tasks`,
   * a launch of a task outside them is still refused: other workers need it too.
   */
  register(registration: TaskRegistration): void {
    this.#registered.register(registration);
    if (registration.task.maxQueued !== undefined) this.#trackedTasks.add(registration.task.name);
  }

  /**
   * Binds the backend to the store its work writes: records `store.id` with the queue
   * (`<prefix>:<queue>:au:store`, when absent) and rejects with `StoreMismatchError` when
   * the queue, or this backend, is bound to another store. Starts the embedded worker
   * when it has no store of its own. A store without `id` is bound by identity only.
   */
  async bind(store: ComputationStore): Promise<void> {
    if (this.#closed) throw new ClosedError({ component: `backend ${NAME}` });
    let bound = this.#bound;
    if (bound === undefined) {
      const check = this.#withTimeout('bind', this.#launchTimeout, async () => {
        // The producer connection has no offline queue: a command before it is up fails.
        await this.queue.waitUntilReady();
        await recordStoreBinding(this.#connection.redis, {
          prefix: this.#prefix,
          queue: this.queueName,
          store,
          logger: this.#logger,
          component: `backend ${NAME}`,
        });
      });
      const binding = { store, check };
      bound = binding;
      this.#bound = binding;
      // A failed check (Redis down, another store recorded) leaves the backend unbound.
      check.catch(() => {
        if (this.#bound === binding) this.#bound = undefined;
      });
    } else if (!isSameStore(bound.store, store)) {
      throw new StoreMismatchError({
        component: `backend ${NAME} (queue "${this.queueName}")`,
        bound: describeStore(bound.store),
        given: describeStore(store),
      });
    }
    await bound.check;
    if (this.#workerOptions !== undefined) await this.#startWorker(bound.store);
  }

  /**
   * Schedules kept by BullMQ job schedulers (one per au schedule, same id), with the spec
   * and progress in a Redis hash beside the queue; workers create each tick's record
   * (`tickKey(id, tick)`) and apply the overlap policy. See `BullMQScheduler`.
   */
  scheduler(context: SchedulerContext): ComputationScheduler {
    if (this.#closed) throw new ClosedError({ component: `backend ${NAME}` });
    return new BullMQScheduler({
      queue: this.queue,
      redis: this.#connection.redis,
      prefix: this.#prefix,
      jobOptions: this.#jobOptions,
      context,
      // The embedded worker runs what core registers: a scheduled task it was never
      // launched with is registered as defined (a launch's own registration wins).
      onTask: (task) => {
        if (this.#registered.registered(task.name) === undefined) {
          // Launched the scheduler's way when it says how (the HTTP layer's codec, middleware).
          const settings = context.launchSettings?.(task);
          this.#registered.register({
            task,
            codec: settings?.codec ?? task.codec ?? jsonCodec,
            middleware: settings?.middleware ?? [],
            retry: settings?.retry ?? task.retry ?? NO_RETRY,
          });
        }
      },
    });
  }

  /**
   * Pauses the whole queue (BullMQ's `queue.pause()`: no worker takes a job) or, with
   * `task`, that task only: its name joins the set `<prefix>:<queue>:au:paused`, and a
   * worker that takes one of its jobs parks it (delayed, record left `pending`) until
   * `resume` (see `paused-tasks.ts`). Both are kept in Redis: they hold for every worker,
   * those that start later too, and across restarts.
   */
  async pause(task?: string): Promise<void> {
    this.#assertOpen();
    await this.#withTimeout('pause', this.#launchTimeout, async () => {
      await this.queue.waitUntilReady();
      await (task === undefined ? this.queue.pause() : pauseTaskIn(this.#pausedPlace, task));
    });
  }

  /** Resumes the whole queue, or `task`: its parked jobs go back to the queue in the order they were parked. */
  async resume(task?: string): Promise<void> {
    this.#assertOpen();
    await this.#withTimeout('resume', this.#launchTimeout, async () => {
      await this.queue.waitUntilReady();
      await (task === undefined ? this.queue.resume() : resumeTaskIn(this.#pausedPlace, this.queue, task));
    });
  }

  async paused(): Promise<PausedState> {
    this.#assertOpen();
    return this.#withTimeout('paused', this.#launchTimeout, async () => {
      await this.queue.waitUntilReady();
      const [queue, tasks] = await Promise.all([this.queue.isPaused(), pausedTasksIn(this.#pausedPlace)]);
      return { queue, tasks };
    });
  }

  async cancel(key: string, reason?: string): Promise<boolean> {
    const job = await this.#withTimeout('cancel', this.#launchTimeout, () => this.queue.getJob(toJobId(key)));
    if (job === undefined) {
      // A scheduled run's job has another id (BullMQ's `repeat:<id>:<tick>`): tell the
      // workers anyway; the one running it, if any, stops it.
      await this.#publishCancel(key, reason);
      return false;
    }
    const state = await job.getState();
    if (state === 'completed' || state === 'failed' || state === 'unknown') return false;
    if (state !== 'active') {
      try {
        await job.remove();
        await untrackQueued(this.#connection.redis, queuedJobsKey(this.#prefix, this.queueName, job.name), [
          job.id!,
        ]);
        return true;
      } catch {
        // It became active meanwhile (locked): stop it where it runs.
      }
    }
    await this.#publishCancel(key, reason);
    return true;
  }

  async close({ timeout = 10_000 }: CloseOptions = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#startedWorker !== undefined) {
      const worker = await this.#startedWorker.catch(() => undefined);
      if (worker !== undefined) {
        await this.#drain(timeout);
        await worker.close({ timeout: 0, abortRunning: true });
      }
    }
    await this.queue.close().catch(() => undefined);
    await closeConnection(this.#connection);
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new ClosedError({ component: `backend ${NAME}` });
    try {
      await this.#withTimeout('ping', this.#launchTimeout, async () => {
        // The producer connection has no offline queue: a ping before it is up fails.
        await this.queue.waitUntilReady();
        await this.#connection.redis.ping();
      });
    } catch (error) {
      if (QueueUnavailableError.isInstance(error) || ClosedError.isInstance(error)) throw error;
      // Any other failure (an error reply): not ready either.
      throw new QueueUnavailableError({ operation: 'ping', queue: this.queueName, cause: error });
    }
  }

  /** The embedded worker, once started (at construction with `worker.store`, else on `bind`). */
  get worker(): Promise<BullMQWorker> | undefined {
    return this.#startedWorker;
  }

  // ---- private helpers ------------------------------------------------------------

  /**
   * What a launch waits for: the embedded worker, when the backend runs one. Rejects
   * while it cannot start for want of a store (no `worker.store`, backend not bound).
   */
  get #worker(): Promise<BullMQWorker> | undefined {
    if (this.#workerOptions === undefined) return undefined;
    if (this.#startedWorker !== undefined) return this.#startedWorker;
    if (this.#workerWithoutStore === undefined) {
      this.#workerWithoutStore = Promise.reject(
        new TypeError(
          `[au] [${NAME}] the embedded worker of queue "${this.queueName}" has no store yet: give \`worker.store\`, or bind the backend to its store first (\`backend.bind(store)\`, which core calls before the first launch)`,
        ),
      );
      this.#workerWithoutStore.catch(() => undefined);
    }
    return this.#workerWithoutStore;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError({ component: `backend ${NAME}` });
  }

  get #pausedPlace() {
    return { redis: this.#connection.redis, prefix: this.#prefix, queue: this.queueName };
  }

  async #publishCancel(key: string, reason: string | undefined): Promise<void> {
    await this.#connection.redis.publish(
      cancelChannel(this.#prefix, this.queueName),
      JSON.stringify(reason === undefined ? { key } : { key, reason }),
    );
  }

  /**
   * Whether `store` reaches this queue's Redis server and database: probed once per store
   * (launches racing the first probe may each probe). When the store's connection fails
   * the probe, the launch goes the two-step way, where the store's own error says what is
   * wrong, and the next launch probes again; when the queue's fails, the launch does.
   */
  async #reaches(store: TransactionalStore): Promise<boolean> {
    const known = this.#reachesQueue.get(store);
    if (known !== undefined) return known;
    const probeKey = `${this.#prefix}:${this.queueName}:au:probe:${randomUUID()}`;
    const answer = await this.#withTimeout('launch', this.#launchTimeout, async () => {
      await this.queue.waitUntilReady();
      return reachesSameRedis(this.#connection.redis, store, probeKey);
    });
    if (answer !== undefined) this.#reachesQueue.set(store, answer);
    return answer === true;
  }

  /** Starts the embedded worker over `store`, once. */
  #startWorker(store: ComputationStore): Promise<BullMQWorker> {
    if (this.#startedWorker !== undefined) return this.#startedWorker;
    const workerOptions = this.#workerOptions!;
    const started = this.#tasks.then((registry) =>
      startWorker(
        {
          logger: this.#logger,
          ...workerOptions,
          store,
          // Without task modules the embedded worker runs what core registers.
          tasks: workerOptions.tasks ?? registry ?? [],
          connection: this.#workerConnection,
          queue: this.queueName,
          prefix: this.#prefix,
        },
        (name) => this.#registered.registered(name),
      ),
    );
    started.catch(() => undefined);
    this.#startedWorker = started;
    return started;
  }

  /** The job's data; marked when its task's waiting jobs are counted. */
  #jobData(invocation: Invocation): JobData {
    const data = toJobData(invocation);
    if (this.#trackedTasks.has(invocation.task)) data.counted = true;
    return data;
  }

  /** Runs `add` with the waiting jobs of tracked tasks counted: ids in before, out again if it fails. */
  async #whileTracked<T>(invocations: readonly Invocation[], add: () => Promise<T>): Promise<T> {
    const byTask = this.#trackedJobIds(invocations);
    if (byTask.size === 0) return add();
    const redis = this.#connection.redis;
    const key = (task: string) => queuedJobsKey(this.#prefix, this.queueName, task);
    await this.#withTimeout('launch', this.#launchTimeout, () =>
      Promise.all([...byTask].map(([task, ids]) => trackQueued(redis, key(task), ids))),
    );
    try {
      return await add();
    } catch (error) {
      await Promise.all([...byTask].map(([task, ids]) => untrackQueued(redis, key(task), ids)));
      throw error;
    }
  }

  /** The job ids of the invocations whose task has a `maxQueued`, by task. */
  #trackedJobIds(invocations: readonly Invocation[]): Map<string, string[]> {
    const byTask = new Map<string, string[]>();
    for (const invocation of invocations) {
      if (!this.#trackedTasks.has(invocation.task)) continue;
      const ids = byTask.get(invocation.task) ?? [];
      ids.push(toJobId(invocation.key));
      byTask.set(invocation.task, ids);
    }
    return byTask;
  }

  async #assertCanLaunch(invocations: readonly Invocation[]): Promise<void> {
    if (this.#closed) throw new ClosedError({ component: `backend ${NAME}` });
    const registry = await this.#tasks;
    if (registry !== undefined) for (const invocation of invocations) registry.get(invocation.task);
    if (this.#worker !== undefined) await this.#worker;
  }

  /** Waits until the queue holds no unfinished job (beside each job scheduler's next tick), or `timeout` passes. */
  async #drain(timeout: number): Promise<void> {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      const counts = await this.queue
        .getJobCounts('active', 'wait', 'prioritized', 'delayed', 'waiting-children')
        .catch(() => undefined);
      if (counts === undefined) return;
      // Each job scheduler (a schedule) always has its next tick's job delayed: not work to drain.
      const schedulers = await this.queue.getJobSchedulersCount().catch(() => 0);
      counts.delayed = Math.max(0, (counts.delayed ?? 0) - schedulers);
      if (Object.values(counts).every((count) => count === 0)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /**
   * A retry or a relaunch past the idempotency window (`invocation.replaces`): the job id
   * is the key, so the previous run's job goes first (drop-previous-job.ts).
   */
  async #dropReplaced(invocations: readonly Invocation[]): Promise<void> {
    const replacing = invocations.filter((invocation) => invocation.replaces === true);
    await Promise.all(
      replacing.map((invocation) =>
        this.#withTimeout('launch', 2 * this.#launchTimeout, () =>
          dropPreviousJob(this.queue, invocation.key, this.#launchTimeout),
        ),
      ),
    );
  }

  /**
   * Runs `work` on Redis within `timeout` ms. No answer in time (no connection yet, or
   * one that hangs) is `QueueUnavailableError`, as a refused connection is.
   */
  async #withTimeout<T>(operation: string, timeout: number, work: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Error(`no answer from Redis within ${timeout} ms`);
    try {
      return await Promise.race([
        work(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(late), timeout);
        }),
      ]);
    } catch (error) {
      if (this.#closed) throw new ClosedError({ component: `backend ${NAME}` });
      if (error === late || isConnectionError(error)) {
        throw new QueueUnavailableError({ operation, queue: this.queueName, cause: error });
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

async function toRegistry(tasks: NonNullable<BullMQBackendOptions['tasks']>): Promise<TaskRegistry> {
  if (tasks instanceof TaskRegistry) return tasks;
  const list = [...tasks];
  if (list.every((item) => typeof item === 'string' || item instanceof URL)) {
    return loadTaskModules(list as (string | URL)[], "the BullMQ workers' task modules");
  }
  return new TaskRegistry(list as TaskDefinition[], "the BullMQ workers' tasks");
}
