import { type Clock, systemClock } from '../clock';
import type { BackendCapabilities, CloseOptions, ComputationBackend, Invocation } from '../contracts/backend';
import { CancelledError } from '../errors/cancelled-error';
import { ClosedError } from '../errors/closed-error';
import { serializeError } from '../errors/serialize-error';
import { executeComputation } from '../executor';
import { PriorityQueue } from '../internal/priority-queue';
import { silentLogger } from '../logger';
import type { TaskLogger } from '../task';

export interface InProcessBackendOptions {
  /** Computations running at once; more wait in a queue ordered by priority, then age. @default 100 */
  concurrency?: number;
  /** Time source for delays and backoff. @default systemClock */
  clock?: Clock;
  /** Where backend-level problems are logged. @default silentLogger */
  logger?: TaskLogger;
  /** Minimum ms between two progress writes of one computation. @default 100 */
  progressInterval?: number;
}

const NAME = 'in-process';

interface QueuedWork {
  invocation: Invocation;
  sequence: number;
}

interface RunningWork {
  /** Aborts the run (set by the executor as soon as it starts). */
  abort: (reason: unknown) => void;
  done: Promise<void>;
}

/**
 * Runs computations on this process's event loop. A cancel aborts the task's signal: a
 * task that ignores its signal keeps running, but its record says `cancelled` and its
 * late result is dropped. Use ThreadsBackend or ProcessBackend to stop work that never
 * yields.
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
  readonly #clock: Clock;
  readonly #logger: TaskLogger;
  readonly #progressInterval: number;
  readonly #queue = new PriorityQueue<QueuedWork>(
    (a, b) =>
      a.invocation.priority > b.invocation.priority ||
      (a.invocation.priority === b.invocation.priority && a.sequence < b.sequence),
  );
  readonly #delayed = new Map<string, { timer: unknown; invocation: Invocation }>();
  readonly #running = new Map<string, RunningWork>();
  readonly #idleWaiters = new Set<() => void>();
  #sequence = 0;
  #closed = false;

  constructor(options: InProcessBackendOptions = {}) {
    const concurrency = options.concurrency ?? 100;
    if (!(concurrency >= 1))
      throw new TypeError(`[au] [in-process] concurrency must be ≥ 1, got ${concurrency}`);
    this.concurrency = concurrency;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#progressInterval = options.progressInterval ?? 100;
  }

  async launch(invocation: Invocation): Promise<void> {
    if (this.#closed) throw new ClosedError({ component: `backend ${NAME}` });
    this.#accept(invocation);
  }

  async launchMany(invocations: readonly Invocation[]): Promise<void> {
    if (this.#closed) throw new ClosedError({ component: `backend ${NAME}` });
    for (const invocation of invocations) this.#accept(invocation);
  }

  async cancel(key: string, reason?: string): Promise<boolean> {
    const delayed = this.#delayed.get(key);
    if (delayed !== undefined) {
      this.#clock.clearTimeout(delayed.timer);
      this.#delayed.delete(key);
      this.#notifyIdle();
      return true;
    }
    const running = this.#running.get(key);
    if (running !== undefined) {
      running.abort(new CancelledError({ key, ...(reason === undefined ? {} : { reason }) }));
      return true;
    }
    const removed = this.#queue.remove((work) => work.invocation.key === key);
    if (removed.length > 0) this.#notifyIdle();
    return removed.length > 0;
  }

  async close({ timeout = 10_000 }: CloseOptions = {}): Promise<void> {
    this.#closed = true;
    const drained = await this.#waitIdle(timeout);
    if (drained) return;
    const left = [
      ...this.#queue.drain().map((work) => work.invocation),
      ...[...this.#delayed.values()].map((d) => d.invocation),
    ];
    for (const { timer } of this.#delayed.values()) this.#clock.clearTimeout(timer);
    this.#delayed.clear();
    const closed = new ClosedError({ component: `backend ${NAME}` });
    for (const work of this.#running.values()) work.abort(closed);
    await Promise.all([
      ...[...this.#running.values()].map((work) => work.done),
      ...left.map((invocation) => this.#markCancelled(invocation)),
    ]);
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new ClosedError({ component: `backend ${NAME}` });
  }

  /** Computations running now. */
  get runningCount(): number {
    return this.#running.size;
  }

  /** Computations waiting for a slot (delayed ones included). */
  get queuedCount(): number {
    return this.#queue.size + this.#delayed.size;
  }

  // ---- private helpers ------------------------------------------------------------

  #accept(invocation: Invocation): void {
    const wait = invocation.runAt === undefined ? 0 : invocation.runAt - this.#clock.now();
    if (wait > 0) {
      const timer = this.#clock.setTimeout(() => {
        this.#delayed.delete(invocation.key);
        this.#enqueue(invocation);
      }, wait);
      this.#delayed.set(invocation.key, { timer, invocation });
      return;
    }
    this.#enqueue(invocation);
  }

  #enqueue(invocation: Invocation): void {
    if (this.#running.size < this.concurrency && this.#queue.size === 0) this.#start(invocation);
    else {
      this.#queue.push({ invocation, sequence: this.#sequence++ });
      this.#pump();
    }
  }

  #pump(): void {
    while (this.#running.size < this.concurrency && this.#queue.size > 0)
      this.#start(this.#queue.pop()!.invocation);
  }

  #start(invocation: Invocation): void {
    let pendingAbort: { reason: unknown } | undefined;
    const work: RunningWork = {
      abort: (reason) => {
        pendingAbort ??= { reason };
      },
      done: Promise.resolve(),
    };
    this.#running.set(invocation.key, work);
    work.done = executeComputation({
      store: invocation.store,
      key: invocation.key,
      task: invocation.task,
      args: { value: invocation.args },
      codec: invocation.codec,
      retry: invocation.retry,
      ...(invocation.timeout === undefined ? {} : { timeout: invocation.timeout }),
      ...(invocation.ttl === undefined ? {} : { ttl: invocation.ttl }),
      middleware: invocation.middleware,
      onAbortable: (abort) => {
        work.abort = abort;
        if (pendingAbort !== undefined) abort(pendingAbort.reason);
      },
      clock: this.#clock,
      logger: invocation.logger ?? this.#logger,
      progressInterval: this.#progressInterval,
      retryMode: 'report',
    }).then(
      (outcome) => {
        this.#finish(invocation.key, work);
        if (outcome.status === 'retry' && !this.#closed) {
          this.#accept({ ...invocation, runAt: this.#clock.now() + outcome.delay });
        } else if (outcome.status === 'retry') void this.#markCancelled(invocation);
      },
      (error: unknown) => {
        this.#finish(invocation.key, work);
        this.#logger.error(
          { err: error, key: invocation.key },
          '[au] [in-process] store failed while running',
        );
      },
    );
  }

  #finish(key: string, work: RunningWork): void {
    if (this.#running.get(key) === work) this.#running.delete(key);
    this.#pump();
    this.#notifyIdle();
  }

  async #markCancelled(invocation: Invocation): Promise<void> {
    const finishedAt = this.#clock.now();
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
        this.#logger.error({ err: writeError }, '[au] [in-process] could not record cancel'),
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
        this.#clock.clearTimeout(timer);
        resolve(true);
      };
      const timer = this.#clock.setTimeout(() => {
        this.#idleWaiters.delete(done);
        resolve(false);
      }, timeout);
      this.#idleWaiters.add(done);
    });
  }
}
