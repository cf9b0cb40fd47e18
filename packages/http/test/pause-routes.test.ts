import { type ComputationBackend, InProcessBackend, MemoryStore } from '@au/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { auHttp } from '../src/index';
import { double, slow } from './fixtures';

interface Built {
  app: FastifyInstance;
  store: MemoryStore;
  backend: ComputationBackend;
}

async function build(backend: ComputationBackend, apiKeys?: string[]): Promise<Built> {
  const store = new MemoryStore();
  const app = Fastify({ logger: false });
  await app.register(auHttp, {
    tasks: [double, slow],
    store,
    backend,
    defaultWait: 5,
    maxWait: 10,
    ...(apiKeys === undefined ? {} : { apiKeys }),
  });
  await app.ready();
  return { app, store, backend };
}

describe('@au/http pauses', () => {
  let built: Built | undefined;
  afterEach(async () => {
    await built?.app.close();
    await built?.backend.close({ timeout: 0 });
    await built?.store.close();
    built = undefined;
  });

  describe('when a task is paused', () => {
    it('should keep its computations pending, show them paused, and run them on resume', async () => {
      built = await build(new InProcessBackend());
      const { app } = built;
      expect((await app.inject('/pauses')).json()).toEqual({ queue: false, tasks: [] });

      const paused = await app.inject({ method: 'PUT', url: '/pauses/tasks/double' });
      expect(paused.statusCode).toBe(200);
      expect(paused.json()).toEqual({ queue: false, tasks: ['double'] });
      // Idempotent.
      expect((await app.inject({ method: 'PUT', url: '/pauses/tasks/double' })).json()).toEqual({
        queue: false,
        tasks: ['double'],
      });

      const launched = await app.inject({ method: 'POST', url: '/double?async=true', payload: { x: 4 } });
      expect(launched.statusCode).toBe(202);
      const { taskId } = launched.json();
      const one = (await app.inject(`/tasks/${taskId}`)).json();
      expect(one).toMatchObject({ taskId, status: 'pending', paused: true });
      const list = (await app.inject('/tasks?status=pending')).json();
      expect(list.items).toEqual([expect.objectContaining({ taskId, paused: true })]);

      // Another task still runs, and is not marked.
      const other = await app.inject({ method: 'POST', url: '/slow?wait=5', payload: { ms: 1 } });
      expect(other.json()).toMatchObject({ status: 'completed' });
      const all = (await app.inject('/tasks')).json().items;
      expect(all.find((item: { task: string }) => item.task === 'slow').paused).toBeUndefined();

      const resumed = await app.inject({ method: 'DELETE', url: '/pauses/tasks/double' });
      expect(resumed.json()).toEqual({ queue: false, tasks: [] });
      const result = await app.inject(`/tasks/${taskId}/result?wait=5`);
      expect(result.json()).toMatchObject({ status: 'completed', result: 8 });
      expect((await app.inject(`/tasks/${taskId}`)).json().paused).toBeUndefined();
    });
  });

  describe('when the whole queue is paused', () => {
    it('should mark every pending computation paused until the queue is resumed', async () => {
      built = await build(new InProcessBackend());
      const { app } = built;
      expect((await app.inject({ method: 'PUT', url: '/pauses/queue' })).json()).toEqual({
        queue: true,
        tasks: [],
      });
      const { taskId } = (
        await app.inject({ method: 'POST', url: '/slow?async=true', payload: { ms: 1 } })
      ).json();
      expect((await app.inject(`/tasks/${taskId}`)).json()).toMatchObject({
        status: 'pending',
        paused: true,
      });
      expect((await app.inject({ method: 'DELETE', url: '/pauses/queue' })).json()).toEqual({
        queue: false,
        tasks: [],
      });
      expect((await app.inject(`/tasks/${taskId}/result?wait=5`)).json()).toMatchObject({
        status: 'completed',
      });
    });
  });

  describe('when the input is bad', () => {
    it('should answer 400 INVALID_TASK for a malformed task name and change nothing', async () => {
      built = await build(new InProcessBackend());
      for (const name of ['a%20b', 'a%2Fb', '%C3%A9t%C3%A9']) {
        const answer = await built.app.inject({ method: 'PUT', url: `/pauses/tasks/${name}` });
        expect(answer.statusCode).toBe(400);
        expect(answer.json().error.code).toBe('INVALID_TASK');
      }
      expect((await built.app.inject('/pauses')).json()).toEqual({ queue: false, tasks: [] });
    });

    it('should accept a task this server does not serve (workers elsewhere may run it)', async () => {
      built = await build(new InProcessBackend());
      const answer = await built.app.inject({ method: 'PUT', url: '/pauses/tasks/remote.only' });
      expect(answer.statusCode).toBe(200);
      expect(answer.json().tasks).toEqual(['remote.only']);
    });
  });

  describe('when the server has API keys', () => {
    it('should refuse to read or change pauses without one', async () => {
      const backend = new InProcessBackend();
      built = await build(backend, ['sesame']);
      expect((await built.app.inject('/pauses')).statusCode).toBe(401);
      expect((await built.app.inject({ method: 'PUT', url: '/pauses/queue' })).statusCode).toBe(401);
      expect(await backend.paused()).toEqual({ queue: false, tasks: [] });
      const allowed = await built.app.inject({
        method: 'PUT',
        url: '/pauses/queue',
        headers: { authorization: 'Bearer sesame' },
      });
      expect(allowed.json()).toEqual({ queue: true, tasks: [] });
    });
  });

  describe('when the backend cannot pause', () => {
    it('should answer 501 PAUSE_UNSUPPORTED, not 500, and list computations unmarked', async () => {
      const plain = new InProcessBackend();
      // The contract's methods are optional: this backend has none of them.
      for (const method of ['pause', 'resume', 'paused'] as const) {
        Object.defineProperty(plain, method, { value: undefined });
      }
      built = await build(plain);
      for (const [method, url] of [
        ['GET', '/pauses'],
        ['PUT', '/pauses/queue'],
        ['DELETE', '/pauses/queue'],
        ['PUT', '/pauses/tasks/double'],
        ['DELETE', '/pauses/tasks/double'],
      ] as const) {
        const answer = await built.app.inject({ method, url });
        expect(answer.statusCode).toBe(501);
        expect(answer.json().error).toMatchObject({ code: 'PAUSE_UNSUPPORTED' });
        expect(answer.json().error.message).toMatch(/in-process backend cannot pause/);
      }
      const launched = await built.app.inject({ method: 'POST', url: '/double?wait=5', payload: { x: 1 } });
      expect(launched.json()).toMatchObject({ status: 'completed' });
      expect((await built.app.inject('/tasks')).json().items[0].paused).toBeUndefined();
    });
  });
});
