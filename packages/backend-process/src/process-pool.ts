import { type ChildProcess, fork } from 'node:child_process';
import type { SerializedError, TaskLogger } from '@au/core';
import {
  isWorkerEvent,
  type PoolRequest,
  type PoolResponse,
  type PoolTransport,
  type PoolTransportContext,
  type WorkerEvent,
} from '@au/core/kit';
import { ProcessCrashedError, type ProcessExit } from './errors/process-crashed-error';
import type { ChildMessage, ParentMessage } from './wire';

export interface ProcessPoolOptions {
  /** The worker program (`process-worker`). */
  entry: string;
  /** Node options of the processes; `undefined` inherits the parent's. */
  execArgv: string[] | undefined;
  /** Environment of the processes; `undefined` inherits the parent's. */
  env: NodeJS.ProcessEnv | undefined;
}

/** The process was stopped on purpose (`abort`, `kill`, `close`) before it replied. */
export class StoppedError extends Error {
  override readonly name = 'StoppedError';
}

/** The process died on its own before it replied. */
export class ProcessGoneError extends Error {
  override readonly name = 'ProcessGoneError';
  /**
   * @param exit how it ended
   * @param attemptId the attempt an escaped error came from, when the process reported one
   */
  constructor(
    readonly exit: ProcessExit,
    readonly attemptId?: number,
  ) {
    super(`worker process ended (code ${exit.code}, signal ${exit.signal})`);
  }
}

interface Worker {
  child: ChildProcess;
  job: Job | undefined;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** An error the process reported just before it died, and the attempt it came from. */
  uncaught: SerializedError | undefined;
  uncaughtIn: number | undefined;
  gone: boolean;
}

/** A run (an attempt, or a batch of them) and the message that starts it, waiting for a process or handed to one. */
interface Job {
  /** The attempts it carries (progress, logs and aborts name them by id). */
  ids: readonly number[];
  batch: boolean;
  message: ParentMessage;
  worker: Worker | undefined;
  /** Resolves the run's reply: a response, or a batch's responses. */
  resolve: (reply: PoolResponse | PoolResponse[]) => void;
  reject: (error: Error) => void;
  /** Aborted or killed: its process's end is no crash. */
  stopped: boolean;
}

/**
 * The process transport of `ProcessBackend`, a small fork pool: one run per process at
 * a time, at most `concurrency` processes, started on demand and kept while busy or
 * recently used; runs wait in order for a free process; a process that is stopped or
 * dies is replaced by the next run. (Why not tinypool: see the README.)
 */
export class ProcessPool implements PoolTransport {
  readonly #context: PoolTransportContext;
  readonly #options: ProcessPoolOptions;
  readonly #workers = new Set<Worker>();
  readonly #idle: Worker[] = [];
  readonly #waiting: Job[] = [];
  /** Jobs not settled yet, by each of their attempt ids. */
  readonly #jobs = new Map<number, Job>();
  #closed = false;

  constructor(context: PoolTransportContext, options: ProcessPoolOptions) {
    this.#context = context;
    this.#options = options;
  }

  /** Processes alive (busy, idle or being stopped). */
  get size(): number {
    return this.#workers.size;
  }

  /** Starts processes up to `count` ahead of work. */
  warm(count: number): void {
    while (!this.#closed && this.#workers.size < count) this.#release(this.#spawn());
  }

  run(request: PoolRequest): Promise<PoolResponse> {
    return this.#submit([request.id], false, { type: 'run', request });
  }

  runBatch(requests: PoolRequest[]): Promise<PoolResponse[]> {
    const ids = requests.map((request) => request.id);
    return this.#submit(ids, true, { type: 'batch', requests });
  }

  /**
   * A waiting run is dropped. A running attempt gets an abort message (its signal aborts,
   * or a batch skips it); a run of its own also gets SIGTERM, so the process ends once
   * the task settles and the next task gets a fresh one. A batch gets no SIGTERM: it
   * would abort whichever attempt runs.
   */
  abort(id: number, reason: SerializedError): void {
    const job = this.#jobs.get(id);
    if (job === undefined || this.#withdraw(job)) return;
    const worker = job.worker;
    if (worker === undefined || worker.job !== job) return;
    job.stopped = true;
    this.#send(worker, { type: 'abort', id, reason });
    if (!job.batch) worker.child.kill('SIGTERM');
  }

  kill(id: number): void {
    const job = this.#jobs.get(id);
    const worker = job?.worker;
    if (job === undefined || worker === undefined || worker.job !== job) return;
    job.stopped = true;
    worker.child.kill('SIGKILL');
  }

  /** Stops every process: SIGTERM, then SIGKILL after `gracePeriod` ms. */
  async close(gracePeriod: number): Promise<void> {
    this.#closed = true;
    for (const job of this.#waiting.splice(0)) this.#settle(job, new StoppedError('the pool closed'));
    const exits = [...this.#workers].map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.gone) return resolve();
          worker.child.once('close', () => resolve());
          // Idle processes are unref'ed; this wait must keep the parent alive.
          worker.child.ref();
          worker.child.kill('SIGTERM');
          setTimeout(() => worker.child.kill('SIGKILL'), gracePeriod).unref();
        }),
    );
    await Promise.all(exits);
  }

  crashError(attempt: { task: string; key: string }, cause: unknown): Error {
    if (!(cause instanceof ProcessGoneError)) return cause as Error;
    return new ProcessCrashedError({ task: attempt.task, key: attempt.key, exit: cause.exit });
  }

  /** The attempt an escaped error came from; a `process.exit` names none. */
  diedIn(_requests: readonly PoolRequest[], cause: unknown): number | undefined {
    return cause instanceof ProcessGoneError ? cause.attemptId : undefined;
  }

  // ---- private helpers ------------------------------------------------------------

  /** Makes the run and hands it to a free process, or queues it until one is free. */
  #submit<Reply>(ids: readonly number[], batch: boolean, message: ParentMessage): Promise<Reply> {
    if (this.#closed) return Promise.reject(new Error('[au] [process] the process pool is closed'));
    return new Promise<Reply>((resolve, reject) => {
      const job: Job = {
        ids,
        batch,
        message,
        worker: undefined,
        resolve: resolve as Job['resolve'],
        reject,
        stopped: false,
      };
      for (const id of ids) this.#jobs.set(id, job);
      const worker =
        this.#takeIdle() ?? (this.#workers.size < this.#context.concurrency ? this.#spawn() : undefined);
      if (worker === undefined) this.#waiting.push(job);
      else this.#bind(worker, job);
    });
  }

  #bind(worker: Worker, job: Job): void {
    if (worker.idleTimer !== undefined) clearTimeout(worker.idleTimer);
    worker.idleTimer = undefined;
    job.worker = worker;
    worker.job = job;
    worker.child.ref();
    worker.child.channel?.ref();
    this.#send(worker, job.message);
  }

  /** Settles a job: its reply, or the error it rejects with. */
  #settle(job: Job, outcome: Error | PoolResponse | PoolResponse[]): void {
    for (const id of job.ids) if (this.#jobs.get(id) === job) this.#jobs.delete(id);
    if (outcome instanceof Error) job.reject(outcome);
    else job.resolve(outcome);
  }

  /** Takes a run that still waits for a process out of the queue (stopped); true when it waited. */
  #withdraw(job: Job): boolean {
    const index = this.#waiting.indexOf(job);
    if (index === -1) return false;
    this.#waiting.splice(index, 1);
    job.stopped = true;
    this.#settle(job, new StoppedError('stopped before it reached a process'));
    return true;
  }

  /** A process is free, or gone: the next waiting run gets it, or a new one. */
  #next(worker: Worker | undefined): boolean {
    if (this.#closed || this.#waiting.length === 0) return false;
    const target = worker ?? (this.#workers.size < this.#context.concurrency ? this.#spawn() : undefined);
    if (target === undefined) return false;
    this.#bind(target, this.#waiting.shift()!);
    return true;
  }

  #spawn(): Worker {
    const { entry, execArgv, env } = this.#options;
    const child = fork(entry, [], {
      ...(execArgv === undefined ? {} : { execArgv }),
      ...(env === undefined ? {} : { env }),
      serialization: 'json',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker: Worker = {
      child,
      job: undefined,
      idleTimer: undefined,
      uncaught: undefined,
      uncaughtIn: undefined,
      gone: false,
    };
    this.#workers.add(worker);
    child.on('message', (message: ChildMessage) => this.#onMessage(worker, message));
    // A process that lost its channel (it is dying) takes no more work.
    child.on('disconnect', () => {
      const index = this.#idle.indexOf(worker);
      if (index !== -1) this.#idle.splice(index, 1);
    });
    child.on('error', (error) => {
      this.#context.logger.warn({ err: error }, '[au] [process] worker process error');
    });
    // 'close' comes after the IPC channel drained, so a crash report sent just before dying is read first.
    child.on('close', (code, signal) => this.#onExit(worker, { code, signal }));
    this.#send(worker, { type: 'init', modules: [...this.#context.modules] });
    return worker;
  }

  #onMessage(worker: Worker, message: ChildMessage): void {
    if (isWorkerEvent(message)) {
      this.#context.onEvent(message as WorkerEvent);
      return;
    }
    const job = worker.job;
    if (message.type === 'crash') {
      worker.uncaught = message.error;
      worker.uncaughtIn = message.id;
      if (job === undefined || message.id === undefined || !job.ids.includes(message.id)) {
        logCrashBetweenTasks(this.#context.logger, message.error);
      }
      return;
    }
    if (job === undefined || !job.ids.includes(message.id)) return;
    if (message.type === 'batch-done') {
      // A batch answers even after an abort: its aborted attempt was stopped or skipped.
      worker.job = undefined;
      this.#settle(job, message.responses);
      this.#release(worker);
    } else {
      if (job.stopped) return; // SIGTERM was sent: settles when the process is gone
      worker.job = undefined;
      this.#settle(job, message.response);
      this.#release(worker);
    }
  }

  #onExit(worker: Worker, { code, signal }: { code: number | null; signal: NodeJS.Signals | null }): void {
    worker.gone = true;
    this.#workers.delete(worker);
    const index = this.#idle.indexOf(worker);
    if (index !== -1) this.#idle.splice(index, 1);
    if (worker.idleTimer !== undefined) clearTimeout(worker.idleTimer);
    const job = worker.job;
    worker.job = undefined;
    this.#next(undefined);
    if (job === undefined) return;
    if (job.stopped) this.#settle(job, new StoppedError('stopped'));
    else {
      const uncaught = worker.uncaught;
      const exit: ProcessExit = {
        code,
        signal,
        ...(uncaught === undefined ? {} : { uncaught: { name: uncaught.name, message: uncaught.message } }),
      };
      this.#settle(job, new ProcessGoneError(exit, worker.uncaughtIn));
    }
  }

  /** The most recently used idle process that is still connected. */
  #takeIdle(): Worker | undefined {
    for (;;) {
      const worker = this.#idle.pop();
      if (worker === undefined || (!worker.gone && worker.child.connected)) return worker;
    }
  }

  /** A process without work: kept for the next run, stopped after the idle timeout. */
  #release(worker: Worker): void {
    if (worker.gone) return;
    if (this.#closed) {
      worker.child.kill('SIGTERM');
      return;
    }
    if (this.#next(worker)) return;
    this.#idle.push(worker);
    worker.child.unref();
    worker.child.channel?.unref();
    if (Number.isFinite(this.#context.idleTimeout)) {
      worker.idleTimer = setTimeout(() => {
        const index = this.#idle.indexOf(worker);
        if (index === -1) return;
        this.#idle.splice(index, 1);
        worker.child.kill('SIGTERM');
      }, this.#context.idleTimeout);
      worker.idleTimer.unref();
    }
  }

  #send(worker: Worker, message: ParentMessage): void {
    if (worker.gone || !worker.child.connected) return;
    try {
      worker.child.send(message);
    } catch (error) {
      this.#context.logger.warn({ err: error }, '[au] [process] could not send to a worker process');
    }
  }
}

function logCrashBetweenTasks(logger: TaskLogger, error: SerializedError): void {
  logger.error({ err: error }, '[au] [process] a worker process crashed between tasks; it will be replaced');
}
