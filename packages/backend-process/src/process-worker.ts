import type { SerializedError, TaskRegistry } from '@au/core';
import {
  loadTaskModules,
  type PoolRequest,
  type PoolResponse,
  reviveError,
  serializeError,
  TASK_MODULES_WHERE,
  WorkerAttempt,
  type WorkerAttemptOptions,
  type WorkerEvent,
} from '@au/core/kit';
import type { ChildMessage, ParentMessage } from './wire';

/*
 * The program each worker process runs (forked by ProcessPool). It loads the task
 * modules once, then runs one attempt at a time through core's `WorkerAttempt`. It never
 * touches the store: the parent does.
 *
 * SIGTERM (a cancel or a timeout) aborts the running task's signal and exits once the
 * task settles; the parent sends SIGKILL when that takes longer than its grace period.
 * An error that escapes a task is reported, then the process exits with code 1.
 */

/** How long a crash report may take to leave before the process exits anyway. */
const CRASH_REPORT_WAIT = 1000;

interface Running {
  attempt: WorkerAttempt;
  settled: Promise<unknown>;
}

const attemptOptions: WorkerAttemptOptions = { post, component: 'process', place: 'worker process' };
let registry: Promise<TaskRegistry> | undefined;
let current: Running | undefined;
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
    const request = message.request;
    void run(request).then((response) => send({ type: 'done', id: request.id, response }));
  } else if (message.type === 'batch') {
    void runBatch(message.requests);
  } else if (message.type === 'abort') {
    if (current?.attempt.request.id === message.id) current.attempt.abort(reviveError(message.reason));
    else if (queued.has(message.id)) queued.set(message.id, message.reason);
  }
});

process.on('SIGTERM', () => {
  const running = current;
  if (running === undefined) process.exit(0);
  running.attempt.abort(terminated(running.attempt.request.id));
  void running.settled.finally(() => process.exit(0));
});

// The parent is gone: nothing can receive a result any more.
process.on('disconnect', () => process.exit(0));

process.on('uncaughtException', (error) => {
  const report: ChildMessage = {
    type: 'crash',
    id: current?.attempt.request.id,
    error: serializeError(error),
  };
  setTimeout(() => process.exit(1), CRASH_REPORT_WAIT).unref();
  try {
    process.send!(report, undefined, undefined, () => process.exit(1));
  } catch {
    process.exit(1);
  }
});

// ---- private helpers --------------------------------------------------------------

/** Runs a batch's attempts one after the other (one skipped when aborted before its turn); one reply for all. */
async function runBatch(requests: PoolRequest[]): Promise<void> {
  for (const request of requests) queued.set(request.id, undefined);
  const responses: PoolResponse[] = [];
  for (const [index, request] of requests.entries()) {
    // One turn of the event loop between attempts: an abort message sent meanwhile is read
    // before the attempt it names starts.
    if (index > 0) await new Promise((resolve) => setImmediate(resolve));
    const abortedBefore = queued.get(request.id);
    queued.delete(request.id);
    if (abortedBefore !== undefined) responses.push({ ok: false, error: abortedBefore });
    else responses.push(await run(request));
  }
  send({ type: 'batch-done', id: requests[0]!.id, responses });
}

/** Runs one attempt; it is `current` (what SIGTERM and abort messages reach) while it runs. */
async function run(request: PoolRequest): Promise<PoolResponse> {
  const attempt = new WorkerAttempt(request, attemptOptions);
  const running: Running = { attempt, settled: Promise.resolve() };
  current = running;
  const response = resolveThenRun(attempt);
  running.settled = response;
  try {
    return await response;
  } finally {
    if (current === running) current = undefined;
  }
}

async function resolveThenRun(attempt: WorkerAttempt): Promise<PoolResponse> {
  try {
    if (registry === undefined) throw new Error('[au] [process] the worker process got no task modules');
    const task = (await registry).get(attempt.request.task);
    return await attempt.run(task);
  } catch (error) {
    return attempt.fail(error);
  }
}

function terminated(id: number): Error {
  return reviveError({
    name: 'CancelledError',
    code: 'AU_CANCELLED',
    message: `[au] [process] attempt ${id} was stopped: the process received SIGTERM (a cancel, a timeout or a shutdown)`,
  });
}

/** Progress and log lines; errors among a log line's arguments travel serialized (JSON carries no Error). */
function post(event: WorkerEvent): void {
  if (event.au === 'log')
    send({ ...event, args: event.args.map((arg) => (arg instanceof Error ? serializeError(arg) : arg)) });
  else send(event);
}

function send(message: ChildMessage): void {
  if (!process.connected) return;
  try {
    process.send!(message);
  } catch {
    // A value JSON cannot carry (a cycle, a BigInt): send what can be read of it.
    if ('au' in message) {
      if (message.au === 'progress') process.send!({ ...message, value: String(message.value) });
      else process.send!({ ...message, args: message.args.map(String) });
    } else if (message.type === 'done' && message.response.progress !== undefined) {
      process.send!({ ...message, response: { ...message.response, progress: undefined } });
    }
  }
}
