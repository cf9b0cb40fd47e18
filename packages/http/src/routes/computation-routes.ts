import { ConfigError, isTerminalStatus, type ListQuery } from '@au/core';
import { cancelComputation, MAX_LIST_LIMIT } from '@au/core/kit';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../errors/http-error';
import { computationRouteSchemas } from '../openapi-schemas';
import type { PluginState } from '../plugin-state';
import { parseInteger, parseStatuses, parseWait } from '../query';
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

/** `GET /tasks`, `GET /tasks/{id}`, `GET /tasks/{id}/result` and `DELETE /tasks/{id}`. */
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
    return {
      items: page.records.map((record) => toTaskView(record, state.exposeStacks)),
      ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
    };
  });

  app.get<{ Params: IdParams }>('/tasks/:id', { schema: schemas.get }, async (request) => {
    const record = await findRecord(state, request.params.id);
    return toTaskView(record, state.exposeStacks);
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

  app.delete<{ Params: IdParams }>('/tasks/:id', { schema: schemas.cancel }, async (request) => {
    const record = await findRecord(state, request.params.id);
    const cancelled = await cancelComputation({
      store: state.store,
      backend: state.backend,
      key: record.key,
      reason: 'cancelled over HTTP',
      logger: request.log,
    });
    const current = (await state.store.get(record.key)) ?? record;
    return { taskId: record.key, cancelled, status: current.status };
  });
}
