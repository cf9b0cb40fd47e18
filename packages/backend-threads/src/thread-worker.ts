import { BroadcastChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import type { Codec, TaskContext, TaskLogger, TaskRegistry } from '@au/core';
import { forwardingLogger, reviveError, serializeError, ThrottledProgress } from '@au/core/kit';
import { loadModulesInThread, resolveCodec } from './task-modules';
import {
  ABORTED,
  type AbortMessage,
  attemptSlot,
  type BatchRequest,
  isBatchRequest,
  type RunRequest,
  type RunResponse,
  STARTED,
  THREAD,
  type ThreadEvent,
  type ThreadWorkerData,
} from './wire';

/*
 * The code each pool thread runs (Piscina's `filename`). It loads the task modules once,
 * then runs one attempt per request: decodes the input with the computation's codec,
 * calls the task with a signal that the main thread aborts through a BroadcastChannel,
 * forwards progress and log lines, and replies with the encoded result or the
 * serialized error. It never touches the store: the main thread does.
 */

/** Minimum ms between two progress messages; the last value always goes with the reply. */
const PROGRESS_INTERVAL = 20;

const data = workerData as ThreadWorkerData;
let registry: Promise<TaskRegistry> | undefined;
/** The registry once loaded: later requests skip a microtask turn. */
let loaded: TaskRegistry | undefined;
const running = new Map<number, RunningAttempt>();
const attemptTable = new Int32Array(data.attemptTable);

const abortChannel = new BroadcastChannel(data.abortChannel);
abortChannel.unref();
abortChannel.onmessage = (event) => {
  const { id, reason } = (event as { data: AbortMessage }).data;
  running.get(id)?.abort(reviveError(reason));
};

/**
 * Runs one attempt. Piscina calls it with the request the main thread posted. A task
 * that returns synchronously gets its reply synchronously: no microtask turn is spent.
 */
export default function runRequest(
  request: RunRequest | BatchRequest,
): RunResponse | RunResponse[] | Promise<RunResponse | RunResponse[]> {
  return isBatchRequest(request) ? runBatch(request.batch) : runInThread(request);
}

/**
 * Runs a batch's attempts one after the other and replies once for all: one message
 * each way instead of one per attempt. Synchronous tasks keep the whole batch synchronous.
 */
function runBatch(requests: RunRequest[]): RunResponse[] | Promise<RunResponse[]> {
  const responses: RunResponse[] = [];
  for (let index = 0; index < requests.length; index++) {
    const response = runInThread(requests[index]!);
    if (isPromiseLike(response)) return finishBatch(requests, index, response, responses);
    responses.push(response);
  }
  return responses;
}

async function finishBatch(
  requests: RunRequest[],
  index: number,
  current: Promise<RunResponse>,
  responses: RunResponse[],
): Promise<RunResponse[]> {
  responses.push(await current);
  for (let next = index + 1; next < requests.length; next++)
    responses.push(await runInThread(requests[next]!));
  return responses;
}

function runInThread(request: RunRequest): RunResponse | Promise<RunResponse> {
  if (loaded === undefined) return loadThenRun(request);
  // Tell the main thread which thread runs the attempt (to terminate it on a cancel),
  // then check whether it was aborted before this thread could hear the broadcast.
  const slot = attemptSlot(request.id);
  Atomics.store(attemptTable, slot + THREAD, threadId);
  Atomics.store(attemptTable, slot + STARTED, request.id);
  if (Atomics.load(attemptTable, slot + ABORTED) === request.id) {
    return { ok: false, error: serializeError(abortedEarly(request)) };
  }
  const attempt = new RunningAttempt(request);
  running.set(request.id, attempt);
  let result: unknown;
  attempt.startedAt = performance.now();
  try {
    const task = loaded.get(request.task);
    attempt.codec = resolveCodec(request.codec, task);
    result = task.run(attempt.codec.decode(request.args), attempt.context());
  } catch (error) {
    return attempt.fail(error);
  }
  if (isPromiseLike(result)) {
    return Promise.resolve(result).then(
      (value) => attempt.succeed(value),
      (error: unknown) => attempt.fail(error),
    );
  }
  return attempt.succeed(result);
}

/** The first request of this thread: loads the task modules, then runs it. */
async function loadThenRun(request: RunRequest): Promise<RunResponse> {
  // Marked started already, so that a cancel while the modules load still terminates the thread.
  const slot = attemptSlot(request.id);
  Atomics.store(attemptTable, slot + THREAD, threadId);
  Atomics.store(attemptTable, slot + STARTED, request.id);
  registry ??= loadModulesInThread(data.modules);
  try {
    loaded = await registry;
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
  return runInThread(request);
}

/** One attempt running in this thread: its signal (made on first use), progress and reply. */
class RunningAttempt {
  codec: Codec | undefined;
  startedAt = 0;
  #controller: AbortController | undefined;
  #aborted: { reason: unknown } | undefined;
  #progress: ThrottledProgress | undefined;
  #replied = false;
  readonly #request: RunRequest;

  constructor(request: RunRequest) {
    this.#request = request;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted !== undefined) this.#controller.abort(this.#aborted.reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted !== undefined) return;
    this.#aborted = { reason };
    this.#controller?.abort(reason);
  }

  context(): TaskContext {
    const request = this.#request;
    let log: TaskLogger | undefined;
    const attempt = this;
    return {
      key: request.key,
      task: request.task,
      attempt: request.attempt,
      get signal() {
        return attempt.signal;
      },
      progress: (value) => attempt.#reportProgress(value),
      get log() {
        log ??= forwardingLogger((level, args) => post({ au: 'log', id: request.id, level, args }));
        return log;
      },
    };
  }

  succeed(value: unknown): RunResponse {
    try {
      return this.#reply({ ok: true, value: (this.codec as Codec).encode(value) });
    } catch (error) {
      return this.fail(error);
    }
  }

  fail(error: unknown): RunResponse {
    return this.#reply({ ok: false, error: serializeError(error) });
  }

  #reportProgress(value: unknown): void {
    if (this.#replied) return;
    const id = this.#request.id;
    this.#progress ??= new ThrottledProgress(
      (value) => post({ au: 'progress', id, value }),
      PROGRESS_INTERVAL,
    );
    this.#progress.report(value);
  }

  #reply(response: RunResponse): RunResponse {
    this.#replied = true;
    response.duration = performance.now() - this.startedAt;
    running.delete(this.#request.id);
    return withProgress(response, this.#progress?.stop());
  }
}

// ---- private helpers --------------------------------------------------------------

function abortedEarly(request: RunRequest): Error {
  return reviveError({
    name: 'CancelledError',
    code: 'AU_CANCELLED',
    message: `[au] computation "${request.key}" was cancelled before its thread started it`,
  });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

function withProgress(response: RunResponse, last: { value: unknown } | undefined): RunResponse {
  if (last !== undefined) response.progress = last;
  return response;
}

function post(event: ThreadEvent): void {
  try {
    parentPort?.postMessage(event);
  } catch {
    // A value that cannot be cloned: send what can be read of it.
    if (event.au === 'log') parentPort?.postMessage({ ...event, args: event.args.map((arg) => String(arg)) });
    else parentPort?.postMessage({ ...event, value: String(event.value) });
  }
}
