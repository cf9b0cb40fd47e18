import { canPause, type PausedState } from '@au/core';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../errors/http-error';
import { pauseRouteSchemas } from '../openapi-schemas';
import type { PluginState } from '../plugin-state';

interface TaskParams {
  task: string;
}

const TASK_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

/**
 * `GET /pauses` (what is paused), `PUT /pauses/queue` and `DELETE /pauses/queue` (pause
 * and resume the whole queue), `PUT /pauses/tasks/{task}` and `DELETE /pauses/tasks/{task}`
 * (one task). Pauses are resources: PUT and DELETE are idempotent, and each answers the
 * state after it. A task need not be served here (workers elsewhere may run it). A
 * backend that cannot pause answers 501 `PAUSE_UNSUPPORTED`.
 */
export function registerPauseRoutes(app: FastifyInstance, state: PluginState): void {
  const schemas = pauseRouteSchemas();
  const backend = () => {
    if (!canPause(state.backend)) {
      throw new HttpError(
        501,
        'PAUSE_UNSUPPORTED',
        `this server's ${state.backend.name} backend cannot pause and resume work`,
      );
    }
    return state.backend;
  };
  const taskOf = (params: TaskParams) => {
    if (!TASK_NAME.test(params.task)) {
      throw new HttpError(
        400,
        'INVALID_TASK',
        `"${params.task.slice(0, 100)}" is not a task name: use letters, digits, . _ : - (1 to 100)`,
      );
    }
    return params.task;
  };

  app.get('/pauses', { schema: schemas.list }, (): Promise<PausedState> => backend().paused());

  app.put('/pauses/queue', { schema: schemas.pauseQueue }, async () => {
    const paused = backend();
    await paused.pause();
    return paused.paused();
  });

  app.delete('/pauses/queue', { schema: schemas.resumeQueue }, async () => {
    const paused = backend();
    await paused.resume();
    return paused.paused();
  });

  app.put<{ Params: TaskParams }>('/pauses/tasks/:task', { schema: schemas.pauseTask }, async (request) => {
    const paused = backend();
    await paused.pause(taskOf(request.params));
    return paused.paused();
  });

  app.delete<{ Params: TaskParams }>(
    '/pauses/tasks/:task',
    { schema: schemas.resumeTask },
    async (request) => {
      const paused = backend();
      await paused.resume(taskOf(request.params));
      return paused.paused();
    },
  );
}
