import type { Invocation } from '../../contracts/backend';
import type { RunContext } from '../../contracts/middleware';
import type { ExecutionOutcome, Runnable } from '../../executor';
import type { TaskContext } from '../../task';
import type { LocalSlot, LocalWork } from '../local-scheduler';
import type { LocalRun } from '../local-tasks';

/** Runs one attempt of `run` in a worker (the pooled backend's). */
export type RunInWorker = (
  run: PooledRun,
  input: unknown,
  context: TaskContext & RunContext,
) => Promise<unknown>;

/**
 * One computation's link between the executor and the worker running its attempt.
 * The executor hands over its abort (`onAbortable`: cheaper than an AbortController per
 * computation); a cancel or a shutdown calls `abort`, which aborts the executor and the
 * attempt in flight.
 */
export class PooledRun implements Runnable, LocalWork {
  readonly name: string;
  readonly invocation: Invocation;
  readonly local: LocalRun;
  readonly slot: LocalSlot;
  done!: Promise<ExecutionOutcome>;
  aborted = false;
  reason: unknown;
  /** The attempt in flight when it listens here (no timeout); see `PooledBackend`. */
  current: PooledAttempt | undefined;
  /** Settles when the worker running the last attempt is free (or was ended). */
  inFlight: Promise<unknown> | undefined;
  #abortExecution: ((reason: unknown) => void) | undefined;
  readonly #runInWorker: RunInWorker;

  constructor(invocation: Invocation, local: LocalRun, slot: LocalSlot, runInWorker: RunInWorker) {
    this.name = invocation.task;
    this.invocation = invocation;
    this.local = local;
    this.slot = slot;
    this.#runInWorker = runInWorker;
  }

  /** Runnable: one attempt, in a worker. */
  run(input: unknown, context: TaskContext): Promise<unknown> {
    return this.#runInWorker(this, input, context as TaskContext & RunContext);
  }

  setExecutionAbort(abort: (reason: unknown) => void): void {
    this.#abortExecution = abort;
    if (this.aborted) abort(this.reason);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.#abortExecution?.(reason);
    this.current?.abort(reason);
  }

  /** The executor's outcome, once the worker is free (an abort does not wait for it). */
  async settle(execution: Promise<ExecutionOutcome>): Promise<ExecutionOutcome> {
    try {
      return await execution;
    } finally {
      if (this.inFlight !== undefined) await this.inFlight.then(noop, noop);
    }
  }
}

/**
 * Stops attempt `id`: cooperatively now, by force when the returned timer fires (the
 * grace period); `undefined` when the attempt never reached a worker.
 */
export type AbortAttempt = (id: number, reason: unknown) => ReturnType<typeof setTimeout> | undefined;

/** One attempt sent to a worker; `abort` stops it cooperatively, then by force. */
export class PooledAttempt {
  reason: unknown;
  #aborted = false;
  #finished = false;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #id: number;
  readonly #abortAttempt: AbortAttempt;

  constructor(id: number, abortAttempt: AbortAttempt) {
    this.#id = id;
    this.#abortAttempt = abortAttempt;
  }

  abort(reason: unknown): void {
    if (this.#aborted || this.#finished) return;
    this.#aborted = true;
    this.reason = reason;
    this.#graceTimer = this.#abortAttempt(this.#id, reason);
  }

  /** The worker replied or is gone: no forced end any more. */
  finish(): void {
    this.#finished = true;
    if (this.#graceTimer !== undefined) clearTimeout(this.#graceTimer);
  }
}

function noop(): void {}
