import { createHash } from 'node:crypto';
import { type ComputationRecord, isTerminalStatus } from '@au/core';
import { followRecord } from '@au/core/kit';
import type { FastifyInstance } from 'fastify';
import { computationRouteSchemas } from '../openapi-schemas';
import type { PluginState } from '../plugin-state';
import { toTaskView } from '../task-view';
import { findRecord } from './computation-routes';

/**
 * `GET /tasks/{id}/events`: server-sent events, one per change of status (`event:
 * status`) or progress (`event: progress`), each carrying the task's view as `data`.
 * The stream ends after the terminal status.
 *
 * Event ids describe the version they announce (attempt, status, progress), so they
 * stay meaningful across connections: a client that reconnects with `Last-Event-ID`
 * gets the current state only when it differs from the last one it saw, then every
 * later change.
 */
export function registerEventRoutes(app: FastifyInstance, state: PluginState): void {
  app.get<{ Params: { id: string } }>(
    '/tasks/:id/events',
    { schema: computationRouteSchemas().events },
    async (request, reply) => {
      const record = await findRecord(state, request.params.id);
      const lastEventId = request.headers['last-event-id'];
      const controller = new AbortController();
      const abort = () => controller.abort();
      state.shutdown.signal.addEventListener('abort', abort, { once: true });
      reply.raw.once('close', abort);

      reply.hijack();
      const response = reply.raw;
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      response.write('retry: 2000\n\n');
      const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), state.heartbeatInterval);
      heartbeat.unref();

      let previous: ComputationRecord | undefined;
      let previousId = typeof lastEventId === 'string' ? lastEventId : undefined;
      try {
        for await (const version of followRecord(state.store, record.key, { signal: controller.signal })) {
          const id = eventId(version);
          if (id !== previousId) {
            const type =
              previous !== undefined &&
              previous.status === version.status &&
              !isTerminalStatus(version.status)
                ? 'progress'
                : 'status';
            const data = JSON.stringify(toTaskView(version, state.exposeStacks));
            response.write(`id: ${id}\nevent: ${type}\ndata: ${data}\n\n`);
            previousId = id;
          }
          previous = version;
          if (isTerminalStatus(version.status)) break;
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
    },
  );
}

/** A stable id for one version of a record: attempt, status and a digest of the progress. */
export function eventId(record: ComputationRecord): string {
  const progress =
    record.progress === undefined
      ? '-'
      : createHash('sha1').update(JSON.stringify(record.progress)).digest('base64url').slice(0, 10);
  return `${record.attempt}.${record.status}.${progress}`;
}
