import { matchesWatchFilter, type WatchFilter } from '@au/core';
import type { FastifyInstance } from 'fastify';
import type { HubEvent } from '../event-hub';
import { computationRouteSchemas } from '../openapi-schemas';
import type { PluginState } from '../plugin-state';
import { parseStatuses } from '../query';
import { toTaskView } from '../task-view';
import { openSseStream, SSE_HEADERS } from './sse-stream';

interface EventsQuery {
  task?: string;
  tag?: string;
  status?: string;
}

/**
 * `GET /events`: server-sent events of every computation (or a task's, a tag's, some
 * statuses'), one `change` event per new record or new version, `data` the task as
 * `GET /tasks/{id}` shows it. Event ids are this server's sequence; a client that
 * reconnects with `Last-Event-ID` first gets the events it missed, from the last 1000
 * the server keeps. When they cannot be told (the server restarted, or more were
 * missed) it gets a `reset` event instead: re-read `GET /tasks`, then follow on.
 */
export function registerStreamRoutes(app: FastifyInstance, state: PluginState): void {
  const schema = computationRouteSchemas().stream;
  // Declared before the GET, so Fastify does not derive a HEAD from it: that one would
  // run the stream and never answer.
  app.head<{ Querystring: EventsQuery }>(
    '/events',
    { schema: { ...schema, operationId: 'headEvents', summary: 'Whether the event stream can be opened' } },
    async (request, reply) => {
      watchFilterOf(request.query);
      return reply.code(200).headers(SSE_HEADERS).send();
    },
  );
  app.get<{ Querystring: EventsQuery }>('/events', { schema }, async (request, reply) => {
    const filter = watchFilterOf(request.query);
    const stream = openSseStream(request, reply, state);
    const send = (event: HubEvent) => {
      if (matchesWatchFilter(event.record, filter)) {
        stream.send({ id: event.id, event: 'change', data: toTaskView(event.record, state.exposeStacks) });
      }
    };
    // Live events wait while the missed ones go out, so the order holds.
    let queued: HubEvent[] | undefined = [];
    const unsubscribe = state.events.subscribe((event) => {
      if (queued === undefined) send(event);
      else queued.push(event);
    });
    try {
      if (stream.lastEventId !== undefined) {
        const missed = state.events.since(stream.lastEventId);
        if (missed === undefined) {
          stream.send({
            event: 'reset',
            data: { reason: 'the events after this id are no longer kept: read GET /tasks again' },
          });
        } else {
          for (const event of missed) send(event);
          const last = missed.at(-1)?.sequence ?? 0;
          queued = queued.filter((event) => event.sequence > last);
        }
      }
      for (const event of queued) send(event);
      queued = undefined;
      await new Promise<void>((resolve) => {
        if (stream.signal.aborted) resolve();
        else stream.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      unsubscribe();
      stream.end();
    }
  });
}

/** The filter of `?task=&tag=&status=` (400 for an unknown status). */
function watchFilterOf(query: EventsQuery): WatchFilter {
  const filter: WatchFilter = {};
  if (query.task !== undefined && query.task !== '') filter.task = query.task;
  if (query.tag !== undefined && query.tag !== '') filter.tag = query.tag;
  const status = parseStatuses(query.status);
  if (status !== undefined) filter.status = status;
  return filter;
}
