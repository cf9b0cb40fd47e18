import { randomUUID } from 'node:crypto';
import { BroadcastChannel, type ResourceLimits } from 'node:worker_threads';
import type { SerializedError } from '@au/core';
import {
  isWorkerEvent,
  type PoolRequest,
  type PoolResponse,
  type PoolTransport,
  type PoolTransportContext,
} from '@au/core/kit';
import { Piscina } from 'piscina';
import { ThreadCrashedError } from './errors/thread-crashed-error';
import {
  ABORTED,
  type AbortMessage,
  attemptSlot,
  type BatchRequest,
  newAttemptTable,
  STARTED,
  THREAD,
  type ThreadWorkerData,
} from './wire';

export interface PiscinaTransportOptions {
  /** The worker file (`thread-worker`). */
  filename: string;
  /** Threads started at once and kept while idle. */
  minThreads: number;
  execArgv: string[] | undefined;
  resourceLimits: ResourceLimits | undefined;
}

/**
 * The thread transport of `ThreadsBackend`: a Piscina pool. Aborts travel on a
 * BroadcastChannel, plus a flag in shared memory for a thread still starting; each
 * thread records there which attempt it runs, so `kill` knows which `Worker` to
 * terminate. No AbortSignal is handed to Piscina: it doubles the cost of every run.
 */
export class PiscinaTransport implements PoolTransport {
  readonly #pool: Piscina<PoolRequest | BatchRequest, PoolResponse | PoolResponse[]>;
  readonly #abortChannel: BroadcastChannel;
  readonly #attemptTable: Int32Array;

  constructor(context: PoolTransportContext, options: PiscinaTransportOptions) {
    const workerData: ThreadWorkerData = {
      modules: [...context.modules],
      abortChannel: `au-threads:${randomUUID()}`,
      attemptTable: newAttemptTable(),
    };
    this.#attemptTable = new Int32Array(workerData.attemptTable);
    this.#abortChannel = new BroadcastChannel(workerData.abortChannel);
    this.#abortChannel.unref();
    this.#pool = new Piscina<PoolRequest | BatchRequest, PoolResponse | PoolResponse[]>({
      filename: options.filename,
      minThreads: Math.min(options.minThreads, context.concurrency),
      maxThreads: context.concurrency,
      idleTimeout: context.idleTimeout,
      workerData,
      recordTiming: false,
      ...(options.execArgv === undefined ? {} : { execArgv: options.execArgv }),
      ...(options.resourceLimits === undefined ? {} : { resourceLimits: options.resourceLimits }),
    });
    this.#pool.on('message', (message: unknown) => {
      if (isWorkerEvent(message)) context.onEvent(message);
    });
    this.#pool.on('error', (error: unknown) =>
      context.logger.error(
        { err: error },
        '[au] [threads] a worker thread failed while idle; it was replaced',
      ),
    );
  }

  get size(): number {
    return this.#pool.threads.length;
  }

  run(request: PoolRequest): Promise<PoolResponse> {
    return this.#pool.run(request) as Promise<PoolResponse>;
  }

  runBatch(requests: PoolRequest[]): Promise<PoolResponse[]> {
    return this.#pool.run({ batch: requests }) as Promise<PoolResponse[]>;
  }

  abort(id: number, reason: SerializedError): void {
    Atomics.store(this.#attemptTable, attemptSlot(id) + ABORTED, id);
    const message: AbortMessage = { id, reason };
    this.#abortChannel.postMessage(message);
  }

  /**
   * Terminates the thread running attempt `id`; Piscina sees it exit, rejects the run and
   * starts a replacement. An attempt not started yet needs nothing: its thread sees the
   * aborted flag and skips it.
   */
  kill(id: number): void {
    const slot = attemptSlot(id);
    if (Atomics.load(this.#attemptTable, slot + STARTED) !== id) return;
    const threadId = Atomics.load(this.#attemptTable, slot + THREAD);
    const thread = this.#pool.threads.find((candidate) => candidate.threadId === threadId);
    if (thread !== undefined) void thread.terminate();
  }

  async close(): Promise<void> {
    try {
      await this.#pool.destroy();
    } finally {
      this.#abortChannel.close();
    }
  }

  crashError(attempt: { task: string; key: string }, cause: unknown): Error {
    return new ThreadCrashedError({ task: attempt.task, key: attempt.key, cause });
  }

  /** The last attempt of the batch that its thread started. */
  diedIn(requests: readonly PoolRequest[]): number | undefined {
    let diedIn: number | undefined;
    for (const request of requests) {
      if (Atomics.load(this.#attemptTable, attemptSlot(request.id) + STARTED) === request.id)
        diedIn = request.id;
    }
    return diedIn;
  }
}
