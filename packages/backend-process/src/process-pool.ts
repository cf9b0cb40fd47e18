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
  constructor(readonly exit: ProcessExit) {
    super(`worker process ended (code ${exit.code}, signal ${exit.signal})`);
  }
}

interface Worker {
  child: ChildProcess;
  attempt: ActiveRun | undefined;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** An error the process reported just before it died. */
  uncaught: SerializedError | undefined;
  gone: boolean;
}

interface ActiveRun {
  id: number;
  onEvent: (event: AttemptEvent) => void;
  resolve: (response: RunResponse) => void;
  reject: (error: Error) => void;
  stopped: boolean;
  killTimer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * A small fork pool: one attempt per process at a time, processes started on demand and
 * kept while busy or recently used, a process that is stopped or dies replaced by the
 * next run. The caller (ProcessBackend) bounds how many runs are in flight.
 */
export class ProcessPool {
  readonly #options: ProcessPoolOptions;
  readonly #workers = new Set<Worker>();
  readonly #idle: Worker[] = [];
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
    if (this.#closed) throw new Error('[au] [process] the process pool is closed');
    const worker = this.#takeIdle() ?? this.#spawn();
    if (worker.idleTimer !== undefined) clearTimeout(worker.idleTimer);
    worker.idleTimer = undefined;
    let active!: ActiveRun;
    const reply = new Promise<RunResponse>((resolve, reject) => {
      active = { id: request.id, onEvent, resolve, reject, stopped: false, killTimer: undefined };
    });
    worker.attempt = active;
    worker.child.ref();
    worker.child.channel?.ref();
    this.#send(worker, { type: 'run', request });
    return {
      reply,
      stop: (reason, gracePeriod) => {
        if (active.stopped || worker.attempt !== active) return;
        active.stopped = true;
        this.#send(worker, { type: 'abort', id: request.id, reason });
        worker.child.kill('SIGTERM');
        active.killTimer = setTimeout(() => worker.child.kill('SIGKILL'), gracePeriod);
      },
    };
  }

  /** Stops every process: SIGTERM, then SIGKILL after `gracePeriod` ms. */
  async close(gracePeriod: number): Promise<void> {
    this.#closed = true;
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
      if (active === undefined || message.id !== active.id) {
        this.#options.logger.error(
          { err: message.error },
          '[au] [process] a worker process crashed between tasks; it will be replaced',
        );
      }
      return;
    }
    if (active === undefined || message.id !== active.id) return;
    if (message.type === 'done') {
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
    if (active === undefined) return;
    if (active.killTimer !== undefined) clearTimeout(active.killTimer);
    if (active.stopped) active.reject(new StoppedError('stopped'));
    else {
      const uncaught = worker.uncaught;
      active.reject(
        new ProcessGoneError({
          code,
          signal,
          ...(uncaught === undefined ? {} : { uncaught: { name: uncaught.name, message: uncaught.message } }),
        }),
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
