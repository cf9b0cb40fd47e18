import { ConfigError, isTerminalStatus, type ListQuery } from '@au/core';
import { cancelComputation, MAX_LIST_LIMIT } from '@au/core/kit';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../errors/http-error';
import { withInput } from '../input-view';
import { computationRouteSchemas } from '../openapi-schemas';
import { markPaused } from '../paused-marker';
import type { PluginState } from '../plugin-state';
import { parseFlag, parseInteger, parseStatuses, parseWait } from '../query';
import { toTaskView } from '../task-view';
import { findRecord } from './find-record';
import { finished, waitWithin } from './task-routes';

interface IdParams {
  id: string;
}

interface ListQueryString {
  status?: string;
  task?: string;
  tag?: string;
  limit?: string;
  cursor?: string;
}

/**
 * `GET /tasks`, `GET /tasks/{id}`, `GET /tasks/{id}/result` and `DELETE /tasks/{id}`
 * (cancel; with `?purge=true`, cancel then delete the record).
 */
export function registerComputationRoutes(app: FastifyInstance, state: PluginState): void {
  const schemas = computationRouteSchemas();

  app.get<{ Querystring: ListQueryString }>('/tasks', { schema: schemas.list }, async (request) => {
    const query: ListQuery = {};
    const { status, task, tag, cursor } = request.query;
    const statuses = parseStatuses(status);
    if (statuses !== undefined) query.status = statuses;
    if (task !== undefined && task !== '') query.task = task;
    if (tag !== undefined && tag !== '') query.tag = tag;
    if (cursor !== undefined && cursor !== '') query.cursor = cursor;
    const limit = parseInteger(request.query.limit, 'limit', 1, MAX_LIST_LIMIT);
    if (limit !== undefined) query.limit = limit;
    let page: Awaited<ReturnType<typeof state.store.list>>;
    try {
      page = await state.store.list(query);
    } catch (error) {
      if (ConfigError.isInstance(error)) {
        throw new HttpError(
          400,
          'INVALID_CURSOR',
          '?cursor= is not one this server returned: start again without it',
        );
      }
      throw error;
    }
    const shown = page.records.map((record) => ({ record, view: toTaskView(record, state.exposeStacks) }));
    await markPaused(state, shown, request.log);
    return {
      items: shown.map(({ view }) => view),
      ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
    };
  });

  app.get<{ Params: IdParams }>('/tasks/:id', { schema: schemas.get }, async (request) => {
    const record = await findRecord(state, request.params.id);
    const view = toTaskView(record, state.exposeStacks);
    await markPaused(state, [{ record, view }], request.log);
    return withInput(state, record, view);
  });

  app.get<{ Params: IdParams; Querystring: { wait?: string } }>(
    '/tasks/:id/result',
    { schema: schemas.result },
    async (request, reply) => {
      const wait = parseWait(request.query.wait, 0, state.maxWait);
      const record = await findRecord(state, request.params.id);
      if (isTerminalStatus(record.status) || wait === 0) return finished(state, reply, record);
      return finished(state, reply, await waitWithin(state, record.key, wait, reply));
    },
  );

  app.delete<{ Params: IdParams; Querystring: { purge?: string } }>(
    '/tasks/:id',
    { schema: schemas.cancel },
    async (request) => {
      const purge = parseFlag(request.query.purge, 'purge');
      const record = await findRecord(state, request.params.id);
      // A purge cancels first, so no worker keeps running what no record tracks.
      const cancelled = await cancelComputation({
        store: state.store,
        backend: state.backend,
        key: record.key,
        reason: purge ? 'deleted over HTTP' : 'cancelled over HTTP',
        logger: request.log,
      });
      const current = (await state.store.get(record.key)) ?? record;
      if (!purge) return { taskId: record.key, cancelled, status: current.status };
      await state.store.delete(record.key);
      return { taskId: record.key, cancelled, status: current.status, deleted: true };
    },
  );
}
