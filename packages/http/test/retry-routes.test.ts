import { defineTask } from '@au/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApp, slow } from './fixtures';

/** Fails on its first attempt, succeeds on any later one. */
const firstFails = defineTask({
  name: 'first-fails',
  input: z.object({ tag: z.string().optional() }),
  run: (_input, context) => {
    if (context.attempt === 1) throw Object.assign(new Error('first attempt fails'), { code: 'E_FIRST' });
    return { attempt: context.attempt };
  },
});

type Built = Awaited<ReturnType<typeof buildApp>>;

describe('@au/http retries and dead letters', () => {
  let built: Built;
  beforeEach(async () => {
    built = await buildApp({ tasks: [firstFails, slow] });
  });
  afterEach(async () => {
    await built.app.close();
    await built.backend.close({ timeout: 0 });
    await built.store.close();
  });

  const launchFailed = async (count = 1) => {
    const ids: string[] = [];
    for (let index = 0; index < count; index++) {
      const response = await built.app.inject({ method: 'POST', url: '/first-fails?wait=5', payload: {} });
      expect(response.statusCode).toBe(409);
      ids.push(response.json().taskId);
    }
    return ids;
  };

  describe('when POST /tasks/{id}/retry names a failed task', () => {
    it('should answer 202 with the re-opened task and its history, then run it', async () => {
      const [id] = await launchFailed();
      const response = await built.app.inject({ method: 'POST', url: `/tasks/${id}/retry` });
      expect(response.statusCode).toBe(202);
      expect(response.headers.location).toBe(`/tasks/${id}`);
      const view = response.json();
      expect(view).toMatchObject({ taskId: id, status: 'pending', maxAttempts: 2 });
      expect(view.history).toEqual([
        expect.objectContaining({
          attempt: 1,
          status: 'failed',
          error: expect.objectContaining({ code: 'E_FIRST' }),
        }),
      ]);
      const result = await built.app.inject(`/tasks/${id}/result?wait=5`);
      expect(result.json()).toMatchObject({ status: 'completed', result: { attempt: 2 } });
    });
  });

  describe('when the retry is not allowed', () => {
    it('should answer 409 for a running task, 404 for an unknown id, 400 for a bad id, changing nothing', async () => {
      const launched = await built.app.inject({
        method: 'POST',
        url: '/slow?async=true',
        payload: { ms: 20_000 },
      });
      const id = launched.json().taskId as string;
      const running = await built.app.inject({ method: 'POST', url: `/tasks/${id}/retry` });
      expect(running.statusCode).toBe(409);
      expect(running.json().error).toMatchObject({ code: 'RETRY_NOT_ALLOWED' });
      expect(running.json().error.message).toMatch(/only a failed or cancelled computation can be retried/);
      expect((await built.store.get(id))?.history).toBeUndefined();
      const unknown = await built.app.inject({ method: 'POST', url: '/tasks/no-such-id/retry' });
      expect(unknown.statusCode).toBe(404);
      const bad = await built.app.inject({ method: 'POST', url: '/tasks/a%20b/retry' });
      expect(bad.statusCode).toBe(400);
    });
  });

  describe('when dead letters are listed, counted, redriven and purged', () => {
    it('should page and count them, redrive them, and answer 404 when nothing is left to redrive', async () => {
      const ids = await launchFailed(3);
      expect((await built.app.inject('/dead-letters/count')).json()).toEqual({ count: 3 });
      expect((await built.app.inject('/dead-letters/count?task=slow')).json()).toEqual({ count: 0 });
      const page = (await built.app.inject('/dead-letters?limit=2')).json();
      expect(page.items).toHaveLength(2);
      const rest = (await built.app.inject(`/dead-letters?limit=2&cursor=${page.cursor}`)).json();
      expect([...page.items, ...rest.items].map((item: { taskId: string }) => item.taskId).sort()).toEqual(
        [...ids].sort(),
      );

      const bad = await built.app.inject({
        method: 'POST',
        url: '/tasks/redrive',
        payload: { status: 'completed' },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.code).toBe('INVALID_FILTER');
      const unknownField = await built.app.inject({
        method: 'POST',
        url: '/tasks/redrive',
        payload: { state: 'x' },
      });
      expect(unknownField.statusCode).toBe(400);
      const future = await built.app.inject({
        method: 'POST',
        url: '/tasks/redrive',
        payload: { since: new Date(Date.now() + 60_000).toISOString() },
      });
      expect(future.statusCode).toBe(404);
      expect(future.json().error.code).toBe('NOTHING_TO_REDRIVE');
      const notServed = await built.app.inject({
        method: 'POST',
        url: '/tasks/redrive',
        payload: { task: 'nope' },
      });
      expect(notServed.statusCode).toBe(404);
      expect((await built.app.inject('/dead-letters/count')).json()).toEqual({ count: 3 });

      const redriven = await built.app.inject({
        method: 'POST',
        url: '/tasks/redrive',
        payload: { task: 'first-fails', limit: 2 },
      });
      expect(redriven.statusCode).toBe(200);
      expect(redriven.json()).toMatchObject({ count: 2, errors: [] });
      for (const id of redriven.json().taskIds as string[]) {
        expect((await built.app.inject(`/tasks/${id}/result?wait=5`)).json().status).toBe('completed');
      }
      expect((await built.app.inject('/dead-letters/count')).json()).toEqual({ count: 1 });

      const badBefore = await built.app.inject({ method: 'DELETE', url: '/dead-letters?before=yesterday' });
      expect(badBefore.statusCode).toBe(400);
      const old = await built.app.inject({
        method: 'DELETE',
        url: `/dead-letters?before=${Date.now() - 60_000}`,
      });
      expect(old.json()).toEqual({ purged: 0 });
      const purged = await built.app.inject({ method: 'DELETE', url: '/dead-letters?task=first-fails' });
      expect(purged.json()).toEqual({ purged: 1 });
      expect((await built.app.inject('/dead-letters/count')).json()).toEqual({ count: 0 });
    });
  });

  describe('when the OpenAPI document is read', () => {
    it('should describe the retry, redrive and dead-letter routes', async () => {
      const document = (await built.app.inject('/openapi.json')).json();
      expect(Object.keys(document.paths)).toEqual(
        expect.arrayContaining([
          '/tasks/{id}/retry',
          '/tasks/redrive',
          '/dead-letters',
          '/dead-letters/count',
        ]),
      );
      expect(document.paths['/tasks/redrive'].post.requestBody).toBeDefined();
    });
  });
});
