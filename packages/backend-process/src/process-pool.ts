import { type ChildProcess, fork } from 'node:child_process';
import type { SerializedError, TaskLogger } from '@au/core';
import type { ProcessExit } from './errors/process-crashed-error';
import type { AttemptEvent, ChildMessage, ParentMessage, RunRequest, RunResponse } from './wire';

export interface ProcessPoolOptions {
  /** The worker program (`process-worker`). */
  entry: string;
  /** Task modules every process loads. */
  modules: readonly string[];
  /** Node options of the processes; `undefined` inherits the parent's. */
  execArgv: string[] | undefined;
  /** Environment of the processes. */
  env: NodeJS.ProcessEnv | undefined;
  /** Milliseconds an idle process lives before it is stopped. */
  idleTimeout: number;
  /** Processes alive at most; further runs wait for one to be free. */
  maxProcesses: number;
  logger: TaskLogger;
}

/** One attempt handed to a process. */
export interface PoolRun {
  /**
   * Settles when the process replied, or when it is gone: rejects `StoppedError` after
   * `stop`, `ProcessGoneError` when it died on its own.
   */
  readonly reply: Promise<RunResponse>;
  /** Aborts the task: its signal first (a message and SIGTERM), then SIGKILL after `gracePeriod` ms. */
  stop(reason: SerializedError, gracePeriod: number): void;
}

/** The process was stopped on purpose (`PoolRun.stop`) before it replied. */
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

/** Attempts of short tasks handed to one process together. */
export interface PoolBatchRun {
  /** One response per request, in order; rejects like `PoolRun.reply`. */
  readonly reply: Promise<RunResponse[]>;
  /**
   * Aborts one attempt of the batch: a message that aborts its signal, or skips it when
   * its turn has not come; SIGKILL after `gracePeriod` ms when the batch is still not done.
   */
  stop(id: number, reason: SerializedError, gracePeriod: number): void;
}

interface Worker {
  child: ChildProcess;
  attempt: ActiveRun | undefined;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** An error the process reported just before it died, and the attempt it came from. */
  uncaught: SerializedError | undefined;
  uncaughtIn: number | undefined;
  gone: boolean;
}

/** A run and the message that starts it, waiting for a process or handed to one. */
interface Job {
  active: ActiveRun;
  message: ParentMessage;
  worker: Worker | undefined;
}

interface ActiveRun {
  /** The attempt's id; a batch's: its first attempt's. */
  id: number;
  /** A batch's attempts (progress and logs come with their own ids). */
  ids: ReadonlySet<number> | undefined;
  onEvent: (event: AttemptEvent) => void;
  /** Resolves the run's reply: a response, or a batch's responses. */
  resolve: (reply: RunResponse | RunResponse[]) => void;
  reject: (error: Error) => void;
  stopped: boolean;
  killTimer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * A small fork pool: one run (an attempt, or a batch of them) per process at a time, at
 * most `maxProcesses` processes, started on demand and kept while busy or recently used;
 * runs wait in order for a free process; a process that is stopped or dies is replaced
 * by the next run.
 */
export class ProcessPool {
  readonly #options: ProcessPoolOptions;
  readonly #workers = new Set<Worker>();
  readonly #idle: Worker[] = [];
  readonly #waiting: Job[] = [];
  #closed = false;

  constructor(options: ProcessPoolOptions) {
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

  run(request: RunRequest, onEvent: (event: AttemptEvent) => void): PoolRun {
    const { job, reply } = this.#submit<RunResponse>(request.id, undefined, onEvent, {
      type: 'run',
      request,
    });
    const { active } = job;
    return {
      reply,
      stop: (reason, gracePeriod) => {
        if (active.stopped || this.#withdraw(job)) return;
        const worker = job.worker;
        if (worker === undefined || worker.attempt !== active) return;
        active.stopped = true;
        this.#send(worker, { type: 'abort', id: request.id, reason });
        worker.child.kill('SIGTERM');
        active.killTimer = setTimeout(() => worker.child.kill('SIGKILL'), gracePeriod);
      },
    };
  }

  runBatch(requests: readonly RunRequest[], onEvent: (event: AttemptEvent) => void): PoolBatchRun {
    const ids = new Set(requests.map((request) => request.id));
    const { job, reply } = this.#submit<RunResponse[]>(requests[0]!.id, ids, onEvent, {
      type: 'batch',
      requests: [...requests],
    });
    const { active } = job;
    return {
      reply,
      stop: (id, reason, gracePeriod) => {
        if (!ids.has(id) || this.#withdraw(job)) return;
        const worker = job.worker;
        if (worker === undefined || worker.attempt !== active) return;
        active.stopped = true;
        this.#send(worker, { type: 'abort', id, reason });
        active.killTimer ??= setTimeout(() => worker.child.kill('SIGKILL'), gracePeriod);
      },
    };
  }

  /** Stops every process: SIGTERM, then SIGKILL after `gracePeriod` ms. */
  async close(gracePeriod: number): Promise<void> {
    this.#closed = true;
    for (const job of this.#waiting.splice(0)) job.active.reject(new StoppedError('the pool closed'));
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

  // ---- private helpers ------------------------------------------------------------

  /** Makes the run and hands it to a free process, or queues it until one is free. */
  #submit<Reply>(
    id: number,
    ids: ReadonlySet<number> | undefined,
    onEvent: (event: AttemptEvent) => void,
    message: ParentMessage,
  ): { job: Job; reply: Promise<Reply> } {
    if (this.#closed) throw new Error('[au] [process] the process pool is closed');
    let active!: ActiveRun;
    const reply = new Promise<Reply>((resolve, reject) => {
      active = {
        id,
        ids,
        onEvent,
        resolve: resolve as unknown as ActiveRun['resolve'],
        reject,
        stopped: false,
        killTimer: undefined,
      };
    });
    const job: Job = { active, message, worker: undefined };
    const worker =
      this.#takeIdle() ?? (this.#workers.size < this.#options.maxProcesses ? this.#spawn() : undefined);
    if (worker === undefined) this.#waiting.push(job);
    else this.#bind(worker, job);
    return { job, reply };
  }

  #bind(worker: Worker, job: Job): void {
    if (worker.idleTimer !== undefined) clearTimeout(worker.idleTimer);
    worker.idleTimer = undefined;
    job.worker = worker;
    worker.attempt = job.active;
    worker.child.ref();
    worker.child.channel?.ref();
    this.#send(worker, job.message);
  }

  /** Takes a run that still waits for a process out of the queue (stopped); true when it waited. */
  #withdraw(job: Job): boolean {
    const index = this.#waiting.indexOf(job);
    if (index === -1) return false;
    this.#waiting.splice(index, 1);
    job.active.stopped = true;
    job.active.reject(new StoppedError('stopped before it reached a process'));
    return true;
  }

  /** A process is free, or gone: the next waiting run gets it, or a new one. */
  #next(worker: Worker | undefined): boolean {
    if (this.#closed || this.#waiting.length === 0) return false;
    const target = worker ?? (this.#workers.size < this.#options.maxProcesses ? this.#spawn() : undefined);
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
      attempt: undefined,
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
      this.#options.logger.warn({ err: error }, '[au] [process] worker process error');
    });
    // 'close' comes after the IPC channel drained, so a crash report sent just before dying is read first.
    child.on('close', (code, signal) => this.#onExit(worker, { code, signal }));
    this.#send(worker, { type: 'init', modules: [...this.#options.modules] });
    return worker;
  }

  #onMessage(worker: Worker, message: ChildMessage): void {
    const active = worker.attempt;
    if (message.type === 'crash') {
      worker.uncaught = message.error;
      worker.uncaughtIn = message.id;
      if (active === undefined || !(message.id === active.id || active.ids?.has(message.id!))) {
        this.#options.logger.error(
          { err: message.error },
          '[au] [process] a worker process crashed between tasks; it will be replaced',
        );
      }
      return;
    }
    if (active === undefined || !(message.id === active.id || active.ids?.has(message.id))) return;
    if (message.type === 'batch-done') {
      // A batch answers even after a stop: its stopped attempt was aborted or skipped.
      if (active.killTimer !== undefined) clearTimeout(active.killTimer);
      worker.attempt = undefined;
      active.resolve(message.responses);
      this.#release(worker);
    } else if (message.type === 'done') {
      if (active.stopped) return; // settles when the process is gone
      worker.attempt = undefined;
      active.resolve(message.response);
      this.#release(worker);
    } else {
      active.onEvent(message);
    }
  }

  #onExit(worker: Worker, { code, signal }: { code: number | null; signal: NodeJS.Signals | null }): void {
    worker.gone = true;
    this.#workers.delete(worker);
    const index = this.#idle.indexOf(worker);
    if (index !== -1) this.#idle.splice(index, 1);
    if (worker.idleTimer !== undefined) clearTimeout(worker.idleTimer);
    const active = worker.attempt;
    worker.attempt = undefined;
    this.#next(undefined);
    if (active === undefined) return;
    if (active.killTimer !== undefined) clearTimeout(active.killTimer);
    if (active.stopped) active.reject(new StoppedError('stopped'));
    else {
      const uncaught = worker.uncaught;
      active.reject(
        new ProcessGoneError(
          {
            code,
            signal,
            ...(uncaught === undefined
              ? {}
              : { uncaught: { name: uncaught.name, message: uncaught.message } }),
          },
          worker.uncaughtIn,
        ),
      );
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
    if (Number.isFinite(this.#options.idleTimeout)) {
      worker.idleTimer = setTimeout(() => {
        const index = this.#idle.indexOf(worker);
        if (index === -1) return;
        this.#idle.splice(index, 1);
        worker.child.kill('SIGTERM');
      }, this.#options.idleTimeout);
      worker.idleTimer.unref();
    }
  }

  #send(worker: Worker, message: ParentMessage): void {
    if (worker.gone || !worker.child.connected) return;
    try {
      worker.child.send(message);
    } catch (error) {
      this.#options.logger.warn({ err: error }, '[au] [process] could not send to a worker process');
    }
  }
}
