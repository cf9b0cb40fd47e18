import type { Codec } from '../../contracts/codec';
import { serializeError } from '../../errors/serialize-error';
import { isPromiseLike } from '../../internal/is-promise-like';
import type { TaskContext, TaskDefinition, TaskLogger } from '../../task';
import { type ForwardedLogLevel, forwardingLogger, ThrottledProgress } from '../worker-reporting';
import { resolveCodec } from './pool-task-modules';
import type { PoolRequest, PoolResponse, WorkerEvent } from './pool-wire';

/** Minimum ms between two progress messages; the last value always goes with the reply. */
const PROGRESS_INTERVAL = 20;

export interface WorkerAttemptOptions {
  /** Sends a progress or log message to the backend (postMessage, process.send). */
  post(event: WorkerEvent): void;
  /** The backend's name and what a worker is, for errors: `threads`, `worker thread`. */
  component: string;
  place: string;
}

/**
 * One attempt running in a worker (thread or child process): decodes the input with the
 * computation's codec, calls the task with a signal (made on first use: most tasks never
 * read it), forwards progress and log lines, and builds the reply. A task that returns
 * synchronously gets its reply synchronously: no microtask turn is spent.
 */
export class WorkerAttempt {
  readonly request: PoolRequest;
  #codec: Codec | undefined;
  #startedAt = 0;
  #controller: AbortController | undefined;
  #aborted: { reason: unknown } | undefined;
  #progress: ThrottledProgress | undefined;
  #replied = false;
  #logs = 0;
  readonly #options: WorkerAttemptOptions;

  constructor(request: PoolRequest, options: WorkerAttemptOptions) {
    this.request = request;
    this.#options = options;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted !== undefined) this.#controller.abort(this.#aborted.reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted !== undefined;
  }

  abort(reason: unknown): void {
    if (this.#aborted !== undefined) return;
    this.#aborted = { reason };
    this.#controller?.abort(reason);
  }

  /** Runs `task` (the one the request names) and replies; never throws. */
  run(task: TaskDefinition): PoolResponse | Promise<PoolResponse> {
    let result: unknown;
    this.#startedAt = performance.now();
    try {
      this.#codec = resolveCodec(this.request.codec, task, this.#options.component, this.#options.place);
      result = task.run(this.#codec.decode(this.request.args), this.#context());
    } catch (error) {
      return this.fail(error);
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).then(
        (value) => this.#succeed(value),
        (error: unknown) => this.fail(error),
      );
    }
    return this.#succeed(result);
  }

  /** The reply of an attempt that failed, or could not start. */
  fail(error: unknown): PoolResponse {
    return this.#reply({ ok: false, error: serializeError(error) });
  }

  // ---- private helpers ------------------------------------------------------------

  #context(): TaskContext {
    return new WorkerContext(this, this.request);
  }

  /** A log line the task wrote: counted while the reply is not sent, then posted. */
  logLine(level: ForwardedLogLevel, args: unknown[]): void {
    if (!this.#replied) this.#logs++;
    this.#options.post({ au: 'log', id: this.request.id, level, args });
  }

  /** Progress the task reported: posted, throttled; the last value goes with the reply. */
  reportProgress(value: unknown): void {
    if (this.#replied) return;
    const id = this.request.id;
    this.#progress ??= new ThrottledProgress(
      (value) => this.#options.post({ au: 'progress', id, value }),
      PROGRESS_INTERVAL,
    );
    this.#progress.report(value);
  }

  #succeed(value: unknown): PoolResponse {
    try {
      return this.#reply({ ok: true, value: (this.#codec as Codec).encode(value) });
    } catch (error) {
      return this.fail(error);
    }
  }

  #reply(response: PoolResponse): PoolResponse {
    this.#replied = true;
    if (this.#startedAt > 0) response.duration = performance.now() - this.#startedAt;
    const last = this.#progress?.stop();
    if (last !== undefined) response.progress = last;
    if (this.#logs > 0) response.logs = this.#logs;
    return response;
  }
}

const EMPTY_META: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * The task's context in a worker. A class with its getters on the prototype: an object
 * literal with getters costs about 1 KB more per attempt.
 */
class WorkerContext implements TaskContext {
  readonly key: string;
  readonly task: string;
  readonly attempt: number;
  readonly meta: Readonly<Record<string, unknown>>;
  /** A property, not a method: tasks take it out of the context (`{ progress }`). */
  readonly progress: (value: unknown) => void;
  readonly #attempt: WorkerAttempt;
  #log: TaskLogger | undefined;

  constructor(attempt: WorkerAttempt, request: PoolRequest) {
    this.key = request.key;
    this.task = request.task;
    this.attempt = request.attempt;
    this.meta = request.meta ?? EMPTY_META;
    this.#attempt = attempt;
    this.progress = (value) => attempt.reportProgress(value);
  }

  get signal(): AbortSignal {
    return this.#attempt.signal;
  }

  get log(): TaskLogger {
    const attempt = this.#attempt;
    this.#log ??= forwardingLogger((level, args) => attempt.logLine(level, args));
    return this.#log;
  }
}
