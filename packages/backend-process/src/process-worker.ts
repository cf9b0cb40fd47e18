import type { SerializedError, TaskContext, TaskLogger, TaskRegistry } from '@au/core';
import {
  forwardingLogger,
  loadTaskModules,
  reviveError,
  serializeError,
  ThrottledProgress,
} from '@au/core/kit';
import { resolveCodec, TASK_MODULES_WHERE } from './task-modules';
import type { ChildMessage, ParentMessage, RunRequest, RunResponse } from './wire';

/*
 * The program each worker process runs (forked by ProcessPool). It loads the task
 * modules once, then runs one attempt at a time: decodes the input with the
 * computation's codec, calls the task with a signal, forwards progress and log lines,
 * and replies with the encoded result or the serialized error. It never touches the
 * store: the parent does.
 *
 * SIGTERM (a cancel or a timeout) aborts the running task's signal and exits once the
 * task settles; the parent sends SIGKILL when that takes longer than its grace period.
 * An error that escapes a task is reported, then the process exits with code 1.
 */

/** Minimum ms between two progress messages; the last value always goes with the reply. */
const PROGRESS_INTERVAL = 20;
/** How long a crash report may take to leave before the process exits anyway. */
const CRASH_REPORT_WAIT = 1000;

interface Attempt {
  id: number;
  controller: AbortController;
  settled: Promise<void>;
}

let registry: Promise<TaskRegistry> | undefined;
let current: Attempt | undefined;
/** Attempts of the running batch not started yet, and the reason of those aborted meanwhile. */
const queued = new Map<number, SerializedError | undefined>();

if (process.send === undefined) {
  console.error('[au] [process] process-worker runs only as a forked child of ProcessBackend');
  process.exit(1);
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'init') {
    registry = loadTaskModules(message.modules, TASK_MODULES_WHERE);
    registry.catch(() => undefined);
  } else if (message.type === 'run') {
    start(message.request);
  } else if (message.type === 'batch') {
    void runBatch(message.requests);
  } else if (message.type === 'abort') {
    if (current?.id === message.id) current.controller.abort(reviveError(message.reason));
    else if (queued.has(message.id)) queued.set(message.id, message.reason);
  }
});

process.on('SIGTERM', () => {
  const attempt = current;
  if (attempt === undefined) process.exit(0);
  if (!attempt.controller.signal.aborted) attempt.controller.abort(terminated(attempt.id));
  void attempt.settled.finally(() => process.exit(0));
});

// The parent is gone: nothing can receive a result any more.
process.on('disconnect', () => process.exit(0));

process.on('uncaughtException', (error) => {
  const report: ChildMessage = { type: 'crash', id: current?.id, error: serializeError(error) };
  setTimeout(() => process.exit(1), CRASH_REPORT_WAIT).unref();
  try {
    process.send!(report, undefined, undefined, () => process.exit(1));
  } catch {
    process.exit(1);
  }
});

// ---- private helpers --------------------------------------------------------------

function start(request: RunRequest): void {
  const controller = new AbortController();
  const attempt: Attempt = { id: request.id, controller, settled: Promise.resolve() };
  current = attempt;
  attempt.settled = run(request, controller).then((response) => {
    if (current === attempt) current = undefined;
    send({ type: 'done', id: request.id, response });
  });
}

/** Runs a batch's attempts one after the other (one skipped when aborted before its turn); one reply for all. */
async function runBatch(requests: RunRequest[]): Promise<void> {
  for (const request of requests) queued.set(request.id, undefined);
  const responses: RunResponse[] = [];
  for (const [index, request] of requests.entries()) {
    // One turn of the event loop between attempts: an abort message sent meanwhile is read
    // before the attempt it names starts.
    if (index > 0) await new Promise((resolve) => setImmediate(resolve));
    const abortedBefore = queued.get(request.id);
    queued.delete(request.id);
    if (abortedBefore !== undefined) {
      responses.push({ ok: false, error: abortedBefore });
      continue;
    }
    const controller = new AbortController();
    const attempt: Attempt = { id: request.id, controller, settled: Promise.resolve() };
    current = attempt;
    const response = run(request, controller);
    attempt.settled = response.then(() => undefined);
    responses.push(await response);
    if (current === attempt) current = undefined;
  }
  send({ type: 'batch-done', id: requests[0]!.id, responses });
}

async function run(request: RunRequest, controller: AbortController): Promise<RunResponse> {
  const progress = new ThrottledProgress(
    (value) => send({ type: 'progress', id: request.id, value }),
    PROGRESS_INTERVAL,
  );
  let started = performance.now();
  try {
    if (registry === undefined) throw new Error('[au] [process] the worker process got no task modules');
    const task = (await registry).get(request.task);
    const codec = resolveCodec(request.codec, task);
    const input = codec.decode(request.args);
    let log: TaskLogger | undefined;
    const context: TaskContext = {
      key: request.key,
      task: request.task,
      attempt: request.attempt,
      signal: controller.signal,
      progress: (value) => progress.report(value),
      get log() {
        log ??= forwardingLogger((level, args) =>
          send({
            type: 'log',
            id: request.id,
            level,
            args: args.map((arg) => (arg instanceof Error ? serializeError(arg) : arg)),
          }),
        );
        return log;
      },
    };
    started = performance.now();
    const result = await task.run(input, context);
    const duration = performance.now() - started;
    return withProgress({ ok: true, value: codec.encode(result), duration }, progress.stop());
  } catch (error) {
    const duration = performance.now() - started;
    return withProgress({ ok: false, error: serializeError(error), duration }, progress.stop());
  }
}

function withProgress(response: RunResponse, last: { value: unknown } | undefined): RunResponse {
  if (last !== undefined) response.progress = last;
  return response;
}

function terminated(id: number): Error {
  const reason: SerializedError = {
    name: 'CancelledError',
    code: 'AU_CANCELLED',
    message: `[au] [process] attempt ${id} was stopped: the process received SIGTERM (a cancel, a timeout or a shutdown)`,
  };
  return reviveError(reason);
}

function send(message: ChildMessage): void {
  if (!process.connected) return;
  try {
    process.send!(message);
  } catch {
    // A value JSON cannot carry (a cycle, a BigInt): send what can be read of it.
    if (message.type === 'progress') process.send!({ ...message, value: String(message.value) });
    else if (message.type === 'log') process.send!({ ...message, args: message.args.map(String) });
    else if (message.type === 'done' && message.response.progress !== undefined) {
      process.send!({ ...message, response: { ...message.response, progress: undefined } });
    }
  }
}
