import { BroadcastChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import type { TaskRegistry } from '@au/core';
import {
  isPromiseLike,
  type PoolRequest,
  type PoolResponse,
  reviveError,
  serializeError,
  WorkerAttempt,
  type WorkerAttemptOptions,
  type WorkerEvent,
} from '@au/core/kit';
import { loadModulesInThread } from './load-modules-in-thread';
import {
  ABORTED,
  type AbortMessage,
  attemptSlot,
  type BatchRequest,
  isBatchRequest,
  STARTED,
  THREAD,
  type ThreadWorkerData,
} from './wire';

/*
 * The code each pool thread runs (Piscina's `filename`). It loads the task modules once,
 * then runs one attempt per request through core's `WorkerAttempt`, with a signal that
 * the main thread aborts through a BroadcastChannel. It never touches the store: the
 * main thread does.
 */

const data = workerData as ThreadWorkerData;
let registry: Promise<TaskRegistry> | undefined;
/** The registry once loaded: later requests skip a microtask turn. */
let loaded: TaskRegistry | undefined;
const running = new Map<number, WorkerAttempt>();
const attemptTable = new Int32Array(data.attemptTable);
const attemptOptions: WorkerAttemptOptions = { post, component: 'threads', place: 'worker thread' };

const abortChannel = new BroadcastChannel(data.abortChannel);
abortChannel.unref();
abortChannel.onmessage = (event) => {
  const { id, reason } = (event as { data: AbortMessage }).data;
  running.get(id)?.abort(reviveError(reason));
};

/**
 * Runs one attempt, or a batch. Piscina calls it with the request the main thread posted.
 * A task that returns synchronously gets its reply synchronously.
 */
export default function runRequest(
  request: PoolRequest | BatchRequest,
): PoolResponse | PoolResponse[] | Promise<PoolResponse | PoolResponse[]> {
  return isBatchRequest(request) ? runBatch(request.batch) : runInThread(request);
}

/**
 * Runs a batch's attempts one after the other and replies once for all: one message
 * each way instead of one per attempt. Synchronous tasks keep the whole batch synchronous.
 */
function runBatch(requests: PoolRequest[]): PoolResponse[] | Promise<PoolResponse[]> {
  const responses: PoolResponse[] = [];
  for (let index = 0; index < requests.length; index++) {
    const response = runInThread(requests[index]!);
    if (isPromiseLike(response)) return finishBatch(requests, index, response, responses);
    responses.push(response);
  }
  return responses;
}

async function finishBatch(
  requests: PoolRequest[],
  index: number,
  current: Promise<PoolResponse>,
  responses: PoolResponse[],
): Promise<PoolResponse[]> {
  responses.push(await current);
  for (let next = index + 1; next < requests.length; next++)
    responses.push(await runInThread(requests[next]!));
  return responses;
}

function runInThread(request: PoolRequest): PoolResponse | Promise<PoolResponse> {
  if (loaded === undefined) return loadThenRun(request);
  // Tell the main thread which thread runs the attempt (to terminate it on a cancel),
  // then check whether it was aborted before this thread could hear the broadcast.
  markStarted(request);
  if (Atomics.load(attemptTable, attemptSlot(request.id) + ABORTED) === request.id) {
    return { ok: false, error: serializeError(abortedEarly(request)) };
  }
  const attempt = new WorkerAttempt(request, attemptOptions);
  let task: ReturnType<TaskRegistry['get']>;
  try {
    task = loaded.get(request.task);
  } catch (error) {
    return attempt.fail(error);
  }
  running.set(request.id, attempt);
  const response = attempt.run(task);
  if (!isPromiseLike(response)) {
    running.delete(request.id);
    return response;
  }
  return response.finally(() => running.delete(request.id));
}

/** The first request of this thread: loads the task modules, then runs it. */
async function loadThenRun(request: PoolRequest): Promise<PoolResponse> {
  // Marked started already, so that a cancel while the modules load still terminates the thread.
  markStarted(request);
  registry ??= loadModulesInThread(data.modules);
  try {
    loaded = await registry;
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
  return runInThread(request);
}

// ---- private helpers --------------------------------------------------------------

function markStarted(request: PoolRequest): void {
  const slot = attemptSlot(request.id);
  Atomics.store(attemptTable, slot + THREAD, threadId);
  Atomics.store(attemptTable, slot + STARTED, request.id);
}

function abortedEarly(request: PoolRequest): Error {
  return reviveError({
    name: 'CancelledError',
    code: 'AU_CANCELLED',
    message: `[au] computation "${request.key}" was cancelled before its thread started it`,
  });
}

function post(event: WorkerEvent): void {
  try {
    parentPort?.postMessage(event);
  } catch {
    // A value that cannot be cloned: send what can be read of it.
    if (event.au === 'log') parentPort?.postMessage({ ...event, args: event.args.map((arg) => String(arg)) });
    else parentPort?.postMessage({ ...event, value: String(event.value) });
  }
}
