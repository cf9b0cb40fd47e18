import {
  type ComputationRecord,
  countDeadLetters,
  listDeadLetters,
  purgeDeadLetters,
  redriveComputations,
} from '@au/core';
import { MAX_LIST_LIMIT, retryComputation } from '@au/core/kit';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HttpError } from '../errors/http-error';
import { retryRouteSchemas } from '../openapi-schemas';
import type { PluginState } from '../plugin-state';
import { parseInteger } from '../query';
import { redriveBody, time } from '../redrive-body';
import { toTaskView } from '../task-view';
import { findRecord } from './find-record';

interface IdParams {
  id: string;
}

interface DeadLetterQueryString {
  task?: string;
  tag?: string;
  limit?: string;
  cursor?: string;
  before?: string;
}

/**
 * `POST /tasks/{id}/retry`, `POST /tasks/redrive`, and the dead letters: `GET /dead-letters`,
 * `GET /dead-letters/count`, `DELETE /dead-letters`. A retry runs with the settings of the
 * served task of the record (its retry policy, timeout, codec, middleware).
 */
export function registerRetryRoutes(app: FastifyInstance, state: PluginState): void {
  const schemas = retryRouteSchemas();

  app.post<{ Params: IdParams }>('/tasks/:id/retry', { schema: schemas.retry }, async (request, reply) => {
    const record = await findRecord(state, request.params.id);
    const reopened = await retryServed(state, record);
    reply.header('location', `${request.url.replace(/\/retry(?:\?.*)?$/, '')}`);
    return reply.code(202).send(toTaskView(reopened, state.exposeStacks));
  });

  app.post<{ Body: unknown }>('/tasks/redrive', { schema: schemas.redrive }, async (request) => {
    const parsed = redriveBody.safeParse(request.body ?? {});
    if (!parsed.success) {
      throw new HttpError(
        400,
        'INVALID_FILTER',
        `the redrive filter is invalid: ${z.prettifyError(parsed.error)}`,
        {
          details: { issues: parsed.error.issues.map(({ path, message }) => ({ path, message })) },
        },
      );
    }
    const filter = parsed.data;
    if (filter.task !== undefined && !state.settings.has(filter.task)) {
      throw new HttpError(
        404,
        'TASK_NOT_FOUND',
        `task "${filter.task.slice(0, 80)}" is not served here, so its computations cannot be redriven: this server runs ${[...state.settings.keys()].join(', ') || 'no tasks'}`,
      );
    }
    const result = await redriveComputations(state.store, filter, (record) => retryServed(state, record));
    return {
      count: result.count,
      taskIds: result.keys,
      errors: result.errors.map(({ key, error }) => ({
        taskId: key,
        code: (error as { code?: string }).code ?? 'RETRY_FAILED',
        message: (error as Error)?.message ?? String(error),
      })),
    };
  });

  app.get<{ Querystring: DeadLetterQueryString }>(
    '/dead-letters',
    { schema: schemas.deadLetters },
    async (request) => {
      const { task, tag, cursor } = request.query;
      const limit = parseInteger(request.query.limit, 'limit', 1, MAX_LIST_LIMIT);
      const page = await listDeadLetters(state.store, {
        ...(nonEmpty(task) ? { task } : {}),
        ...(nonEmpty(tag) ? { tag } : {}),
        ...(nonEmpty(cursor) ? { cursor } : {}),
        ...(limit === undefined ? {} : { limit }),
      }).catch((error: unknown) => {
        throw new HttpError(
          400,
          'INVALID_CURSOR',
          '?cursor= is not one this server returned: start again without it',
          {
            cause: error,
          },
        );
      });
      return {
        items: page.records.map((record) => toTaskView(record, state.exposeStacks)),
        ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
      };
    },
  );

  app.get<{ Querystring: DeadLetterQueryString }>(
    '/dead-letters/count',
    { schema: schemas.deadLetterCount },
    async (request) => {
      const { task, tag } = request.query;
      const count = await countDeadLetters(state.store, {
        ...(nonEmpty(task) ? { task } : {}),
        ...(nonEmpty(tag) ? { tag } : {}),
      });
      return { count };
    },
  );

  app.delete<{ Querystring: DeadLetterQueryString }>(
    '/dead-letters',
    { schema: schemas.purgeDeadLetters },
    async (request) => {
      const { task, tag, before } = request.query;
      let beforeTime: number | undefined;
      if (nonEmpty(before)) {
        const parsed = time.safeParse(/^\d+$/.test(before) ? Number(before) : before);
        if (!parsed.success) {
          throw new HttpError(
            400,
            'INVALID_QUERY',
            `?before= must be an ISO 8601 date or ms since the epoch, got "${before.slice(0, 40)}"`,
          );
        }
        beforeTime = parsed.data;
      }
      const purged = await purgeDeadLetters(state.store, {
        ...(nonEmpty(task) ? { task } : {}),
        ...(nonEmpty(tag) ? { tag } : {}),
        ...(beforeTime === undefined ? {} : { before: beforeTime }),
      });
      return { purged };
    },
  );
}

/** Retries a record with its served task's settings: 409 when its task is not served here. */
async function retryServed(state: PluginState, record: ComputationRecord): Promise<ComputationRecord> {
  const task = state.tasks.find(record.task);
  const settings = state.settings.get(record.task);
  if (task === undefined || settings === undefined) {
    throw new HttpError(
      409,
      'TASK_NOT_SERVED',
      `task "${record.task}" of "${record.key}" is not served here, so it cannot be retried: retry it where the task is served`,
    );
  }
  return retryComputation(record.key, task, settings);
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}
