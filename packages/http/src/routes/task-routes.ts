import { type ComputationRecord, isTerminalStatus, TimeoutError } from '@au/core';
import { launchComputation, waitForTerminal } from '@au/core/kit';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpError } from '../errors/http-error';
import { type LaunchQuery, parseLaunchOptions } from '../launch-query';
import { taskOperationId, taskRouteSchema } from '../openapi-schemas';
import { codecFor, type PluginState } from '../plugin-state';
import { parseFlag, parseWait, prefersAsync } from '../query';
import { toErrorView } from '../task-view';
import { findRecord } from './find-record';

interface TaskQuery extends LaunchQuery {
  async?: string;
  wait?: string;
}

/**
 * One `POST /{task}` per served task. The body is the task's input (validated by its
 * schema inside `launchComputation`: nothing is written when it is invalid); the launch
 * options come from the query and the `Idempotency-Key` header. Answers 200 with the
 * result when it comes within the wait, 409 when the computation failed or the key is
 * held by another input, else 202 with the id and a `Location` to poll.
 */
export function registerTaskRoutes(app: FastifyInstance, state: PluginState, prefix: string): void {
  const operationIds = new Set<string>();
  for (const task of state.tasks) {
    const settings = state.settings.get(task.name)!;
    // `a:b` and `a_b` would share one; operation ids must be unique.
    let operationId = taskOperationId(task.name);
    for (let suffix = 2; operationIds.has(operationId); suffix++)
      operationId = `${taskOperationId(task.name)}_${suffix}`;
    operationIds.add(operationId);
    app.post<{ Querystring: TaskQuery; Body: unknown }>(
      // A colon starts a path parameter in Fastify; `::` is a literal one.
      `/${task.name.replaceAll(':', '::')}`,
      { schema: taskRouteSchema(task, operationId), bodyLimit: state.bodyLimit },
      async (request, reply) => {
        const contentType = request.headers['content-type'];
        if (contentType !== undefined && !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType)) {
          throw new HttpError(
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            `the body must be JSON (content-type: application/json), got "${contentType.slice(0, 80)}"`,
          );
        }
        const respondAsync = parseFlag(request.query.async, 'async') || prefersAsync(request.headers.prefer);
        const wait = respondAsync ? 0 : parseWait(request.query.wait, state.defaultWait, state.maxWait);
        const options = parseLaunchOptions(request.query, request.headers);
        const { key, existing } = await launchComputation(task, request.body, settings, options);
        const location = `${prefix}/tasks/${key}`;
        reply.header('location', location);
        if (wait > 0) return finished(state, reply, await waitWithin(state, key, wait, reply));
        // An idempotency key seen before names a computation that may be anywhere by now.
        if (existing) return finished(state, reply, await findRecord(state, key));
        // Not read back: `pending` is what the launch wrote, and `async` answers must stay cheap.
        return reply.code(202).send({ taskId: key, status: 'pending' });
      },
    );
  }
}

/**
 * The record when the wait ends: terminal when it ended within `seconds`, else read
 * again then (so a 202 tells the status it has now), also when the client went away or
 * the server is closing.
 */
export async function waitWithin(
  state: PluginState,
  key: string,
  seconds: number,
  reply: FastifyReply,
): Promise<ComputationRecord> {
  const controller = new AbortController();
  // The response closes before it is written only when the client went away.
  const onClose = () => controller.abort(new Error('client went away'));
  reply.raw.once('close', onClose);
  const onShutdown = () => controller.abort(new Error('server closing'));
  state.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
  try {
    return await waitForTerminal(state.store, key, { timeout: seconds * 1000, signal: controller.signal });
  } catch (error) {
    if (!TimeoutError.isInstance(error) && !controller.signal.aborted) throw error;
  } finally {
    reply.raw.off('close', onClose);
    state.shutdown.signal.removeEventListener('abort', onShutdown);
  }
  return findRecord(state, key);
}

/** 200 with the decoded result, or 409 with the error of a failed or cancelled computation. */
export function finished(state: PluginState, reply: FastifyReply, record: ComputationRecord): FastifyReply {
  if (record.status === 'completed') {
    return reply.code(200).send({ taskId: record.key, status: record.status, result: decode(state, record) });
  }
  if (isTerminalStatus(record.status)) {
    return reply.code(409).send({
      taskId: record.key,
      status: record.status,
      error: toErrorView(record, state.exposeStacks),
    });
  }
  return reply.code(202).send({ taskId: record.key, status: record.status });
}

function decode(state: PluginState, record: ComputationRecord): unknown {
  const value = codecFor(state, record).decode(record.value);
  return value === undefined ? null : value;
}
