import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, double, slow } from './fixtures';

type Built = Awaited<ReturnType<typeof buildApp>>;

function post(app: FastifyInstance, url: string, payload: object, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url, payload, headers });
}

describe('@au/http 202 answers', () => {
  // One slot: a second computation stays `pending` until the first ends, then runs.
  let built: Built;
  beforeEach(async () => {
    built = await buildApp({ tasks: [double, slow] }, { concurrency: 1 });
  });
  afterEach(async () => {
    await built.app.close();
    await built.backend.close({ timeout: 0 });
    await built.store.close();
  });

  describe('when POST /{task}?wait= passes before the result', () => {
    it('should answer 202 with the status the computation has then', async () => {
      await post(built.app, '/slow?async=true', { ms: 100 });
      const response = await post(built.app, '/slow?wait=1.5', { ms: 20_000 });
      expect(response.statusCode).toBe(202);
      const body = response.json();
      // Launched behind the first one (pending), it runs once the first ends.
      expect(body).toEqual({ taskId: body.taskId, status: 'running' });
      expect((await built.store.get(body.taskId))?.status).toBe('running');
    });
  });

  describe('when GET /tasks/{id}/result?wait= passes before the result', () => {
    it('should answer 202 with the status the computation has then', async () => {
      await post(built.app, '/slow?async=true', { ms: 100 });
      const queued = (await post(built.app, '/slow?async=true', { ms: 20_000 })).json();
      expect((await built.store.get(queued.taskId))?.status).toBe('pending');
      const response = await built.app.inject(`/tasks/${queued.taskId}/result?wait=1.5`);
      expect(response.statusCode).toBe(202);
      expect(response.json()).toEqual({ taskId: queued.taskId, status: 'running' });
    });
  });

  describe('when ?async=true names a computation seen before (Idempotency-Key)', () => {
    it('should answer with where it stands, not `pending`', async () => {
      const headers = { 'idempotency-key': 'double-once' };
      const first = await post(built.app, '/double', { x: 21 }, headers);
      expect(first.statusCode).toBe(200);
      const again = await post(built.app, '/double?async=true', { x: 21 }, headers);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual({ taskId: 'double-once', status: 'completed', result: 42 });
    });
  });
});
