import { createHash } from 'node:crypto';
import { type ComputationRecord, isTerminalStatus } from '@au/core';
import { followRecord } from '@au/core/kit';
import type { FastifyInstance } from 'fastify';
import { computationRouteSchemas } from '../openapi-schemas';
import type { PluginState } from '../plugin-state';
import { toTaskView } from '../task-view';
import { findRecord } from './find-record';

/**
 * `GET /tasks/{id}/events`: server-sent events, one per change of status (`event:
 * status`) or progress (`event: progress`), each carrying the task's view as `data`, in
 * the order they happened. The stream ends right after the terminal status.
 *
 * The first event is the current state. Progress values may be coalesced (the latest
 * is sent, not every one). When the write that ends the computation (or re-queues it
 * for a retry) also carries a new progress value — the executor folds the attempt's last
 * value into it — that value comes first as its own `progress` event, whose view is the
 * running computation with that progress, then the `status` event: no progress follows
 * the terminal status.
 *
 * Event ids describe the version they announce (attempt, status, progress), so they
 * stay meaningful across connections: a client that reconnects with `Last-Event-ID`
 * gets the current state only when it differs from the last one it saw, then every
 * later change.
 */
export function registerEventRoutes(app: FastifyInstance, state: PluginState): void {
  const schema = computationRouteSchemas().events;
  // Declared before the GET, so Fastify does not derive a HEAD from it: that one would
  // run the stream and answer only when the computation ends.
  app.head<{ Params: { id: string } }>(
    '/tasks/:id/events',
    { schema: { ...schema, operationId: 'headTaskEvents', summary: 'Whether the event stream exists' } },
    async (request, reply) => {
      await findRecord(state, request.params.id);
      return reply.code(200).headers(STREAM_HEADERS).send();
    },
  );
  app.get<{ Params: { id: string } }>('/tasks/:id/events', { schema }, async (request, reply) => {
    const record = await findRecord(state, request.params.id);
    const lastEventId = request.headers['last-event-id'];
    const controller = new AbortController();
    const abort = () => controller.abort();
    state.shutdown.signal.addEventListener('abort', abort, { once: true });
    reply.raw.once('close', abort);

    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, { ...STREAM_HEADERS, connection: 'keep-alive' });
    response.write('retry: 2000\n\n');
    const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), state.heartbeatInterval);
    heartbeat.unref();

    let previous: ComputationRecord | undefined;
    let previousId = typeof lastEventId === 'string' ? lastEventId : undefined;
    try {
      for await (const version of followRecord(state.store, record.key, { signal: controller.signal })) {
        for (const { type, view } of changesOf(previous, version)) {
          const id = eventId(view);
          if (id === previousId) continue;
          const data = JSON.stringify(toTaskView(view, state.exposeStacks));
          response.write(`id: ${id}\nevent: ${type}\ndata: ${data}\n\n`);
          previousId = id;
        }
        if (isTerminalStatus(version.status)) break;
        previous = version;
      }
    } catch (error) {
      if (!controller.signal.aborted) {
        request.log.warn({ err: error, key: record.key }, 'event stream ended by an error');
        const message = JSON.stringify({
          error: { code: 'STREAM_ERROR', message: 'the event stream failed' },
        });
        response.write(`event: error\ndata: ${message}\n\n`);
      }
    } finally {
      clearInterval(heartbeat);
      state.shutdown.signal.removeEventListener('abort', abort);
      response.off('close', abort);
      if (!response.writableEnded) response.end();
    }
  });
}

const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/**
 * The events one version brings after `previous`: a `status` event when the status
 * changed, else a `progress` one (an unchanged version gets the same id, and is dropped).
 */
function changesOf(
  previous: ComputationRecord | undefined,
  version: ComputationRecord,
): { type: 'status' | 'progress'; view: ComputationRecord }[] {
  if (previous === undefined) return [{ type: 'status', view: version }];
  if (previous.status === version.status) return [{ type: 'progress', view: version }];
  const reportedWhileRunning =
    previous.status === 'running' &&
    version.status !== 'running' &&
    version.progress !== undefined &&
    !sameValue(version.progress, previous.progress);
  if (!reportedWhileRunning) return [{ type: 'status', view: version }];
  return [
    { type: 'progress', view: { ...previous, progress: version.progress } },
    { type: 'status', view: version },
  ];
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** A stable id for one version of a record: attempt, status and a digest of the progress. */
export function eventId(record: ComputationRecord): string {
  const progress =
    record.progress === undefined
      ? '-'
      : createHash('sha1').update(JSON.stringify(record.progress)).digest('base64url').slice(0, 10);
  return `${record.attempt}.${record.status}.${progress}`;
}
