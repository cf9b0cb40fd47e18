import { ScheduleNotFoundError, type ScheduleSpec } from '@au/core';
import { encodeInput, validateInput } from '@au/core/kit';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../errors/http-error';
import { scheduleRouteSchemas } from '../openapi-schemas';
import type { PluginState } from '../plugin-state';
import { type ScheduleBody, scheduleBodySchema, toScheduleView } from '../schedule-view';

interface IdParams {
  id: string;
}

/**
 * `GET /schedules`, `POST /schedules` (create or replace), `GET /schedules/{id}`,
 * `POST /schedules/{id}/pause`, `POST /schedules/{id}/resume`, `DELETE /schedules/{id}`.
 * Bad input answers 400 (`INVALID_SCHEDULE` naming the field, `INVALID_INPUT` for the
 * task's input) and stores nothing; an unknown task 404 `TASK_NOT_FOUND`.
 */
export function registerScheduleRoutes(app: FastifyInstance, state: PluginState, prefix: string): void {
  const schemas = scheduleRouteSchemas();
  const scheduler = () => {
    if (state.scheduler === undefined) {
      throw new HttpError(
        501,
        'SCHEDULES_UNAVAILABLE',
        `this server keeps no schedules: its ${state.store.name} store has no schedule storage and its ${state.backend.name} backend no scheduler`,
      );
    }
    return state.scheduler;
  };
  const view = (found: Parameters<typeof toScheduleView>[0]) =>
    toScheduleView(found, state.settings.get(found.task)?.codec ?? state.defaultCodec);
  const notFound = (id: string) => new ScheduleNotFoundError({ schedule: id, where: 'this server' });

  app.get('/schedules', { schema: schemas.list }, async () => ({
    items: (await scheduler().list()).map(view),
  }));

  app.post<{ Body: unknown }>(
    '/schedules',
    { schema: schemas.create, bodyLimit: state.bodyLimit },
    async (request, reply) => {
      const body = parseBody(request.body);
      const task = state.tasks.get(body.task);
      validateInput(task.name, task.input, body.input);
      const { input, startAt, endAt, ...rest } = body;
      const spec: ScheduleSpec = { ...rest, id: body.id ?? task.name, overlap: body.overlap ?? 'skip' };
      if (input !== undefined)
        spec.args = encodeInput(task.name, state.settings.get(task.name)!.codec, input);
      if (startAt !== undefined) spec.startAt = toTime(startAt);
      if (endAt !== undefined) spec.endAt = toTime(endAt);
      const existed =
        (await scheduler()
          .get(spec.id)
          .catch(() => undefined)) !== undefined;
      const saved = await scheduler().upsert(spec);
      reply.header('location', `${prefix}/schedules/${saved.id}`);
      return reply.code(existed ? 200 : 201).send(view(saved));
    },
  );

  app.get<{ Params: IdParams }>('/schedules/:id', { schema: schemas.get }, async (request) => {
    const found = await scheduler().get(request.params.id);
    if (found === undefined) throw notFound(request.params.id);
    return view(found);
  });

  app.post<{ Params: IdParams }>('/schedules/:id/pause', { schema: schemas.pause }, async (request) => {
    const found = await scheduler().pause(request.params.id);
    if (found === undefined) throw notFound(request.params.id);
    return view(found);
  });

  app.post<{ Params: IdParams }>('/schedules/:id/resume', { schema: schemas.resume }, async (request) => {
    const found = await scheduler().resume(request.params.id);
    if (found === undefined) throw notFound(request.params.id);
    return view(found);
  });

  app.delete<{ Params: IdParams }>('/schedules/:id', { schema: schemas.delete }, async (request) => {
    if (!(await scheduler().delete(request.params.id))) throw notFound(request.params.id);
    return { id: request.params.id, deleted: true };
  });
}

function parseBody(body: unknown): ScheduleBody {
  const parsed = scheduleBodySchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)),
    message: issue.message,
  }));
  const summary = issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
    .join('; ');
  throw new HttpError(400, 'INVALID_SCHEDULE', `invalid schedule: ${summary}`, { details: { issues } });
}

function toTime(value: string | number): number {
  return typeof value === 'number' ? value : Date.parse(value);
}
