import { defineTask } from '@au/core';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApp, slow } from './fixtures';

type Built = Awaited<ReturnType<typeof buildApp>>;

function post(app: FastifyInstance, url: string, payload: object) {
  return app.inject({ method: 'POST', url, payload });
}

/** Like `slow`, with a queue of its own bounded to one waiting computation. */
const bounded = defineTask({
  name: 'bounded',
  maxQueued: 1,
  input: z.object({ ms: z.number().int().min(0).max(60_000) }),
  run: slow.run,
});

describe('@au/http full queues', () => {
  let built: Built | undefined;
  afterEach(async () => {
    await built?.app.close();
    await built?.backend.close({ timeout: 0 });
    await built?.store.close();
    built = undefined;
  });

  describe("when the backend's queue is full", () => {
    it('should answer 429 with Retry-After and write nothing', async () => {
      built = await buildApp({ tasks: [slow] }, { concurrency: 1, maxQueued: 1 });
      // One runs, one waits: the queue holds its one.
      expect((await post(built.app, '/slow?async=true', { ms: 20_000 })).statusCode).toBe(202);
      expect((await post(built.app, '/slow?async=true', { ms: 20_000 })).statusCode).toBe(202);
      const refused = await post(built.app, '/slow?async=true', { ms: 20_000 });
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json().error).toMatchObject({ code: 'QUEUE_FULL', limit: 1, queued: 1 });
      expect(refused.json().error.message).toMatch(/queue of backend in-process is full/);
      expect((await built.store.list({})).records).toHaveLength(2);
    });
  });

  describe("when a task's own queue is full", () => {
    it('should answer 429 for that task only', async () => {
      built = await buildApp({ tasks: [slow, bounded] }, { concurrency: 1 });
      await post(built.app, '/slow?async=true', { ms: 20_000 });
      expect((await post(built.app, '/bounded?async=true', { ms: 10 })).statusCode).toBe(202);
      const refused = await post(built.app, '/bounded?async=true', { ms: 10 });
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json().error.message).toMatch(/queue of task "bounded" is full/);
      // Another task still queues.
      expect((await post(built.app, '/slow?async=true', { ms: 10 })).statusCode).toBe(202);
      expect((await built.store.list({ task: 'bounded' })).records).toHaveLength(1);
    });
  });
});

describe('@au/http dependencies', () => {
  let built: Built | undefined;
  afterEach(async () => {
    await built?.app.close();
    await built?.backend.close({ timeout: 0 });
    await built?.store.close();
    built = undefined;
  });

  describe('when POST /{task}?dependsOn= names computations', () => {
    it('should start once they completed, and refuse an unknown one with 400', async () => {
      built = await buildApp({ tasks: [slow] });
      const parent = (await post(built.app, '/slow?async=true', { ms: 100 })).json();
      const child = await post(built.app, `/slow?dependsOn=${parent.taskId}&wait=5`, { ms: 1 });
      expect(child.statusCode).toBe(200);
      expect(child.json().result).toBe('slept');
      const record = await built.store.get(child.json().taskId);
      expect(record?.meta?.dependsOn).toEqual([parent.taskId]);
      expect(record?.startedAt).toBeGreaterThanOrEqual((await built.store.get(parent.taskId))!.finishedAt!);
      const orphan = await post(built.app, '/slow?dependsOn=nope&async=true', { ms: 1 });
      expect(orphan.statusCode).toBe(400);
      expect(orphan.json().error).toMatchObject({ code: 'UNKNOWN_DEPENDENCY', missing: ['nope'] });
      expect((await built.store.list({})).records).toHaveLength(2);
    });
  });
});

describe('@au/http resumed dependents', () => {
  let built: Built | undefined;
  afterEach(async () => {
    await built?.app.close();
    await built?.backend.close({ timeout: 0 });
    await built?.store.close();
    built = undefined;
  });

  describe('when a previous process left dependents pending', () => {
    it('should take them up when ready: run one whose parent completed, end one whose parent failed', async () => {
      const { MemoryStore } = await import('@au/core');
      const store = new MemoryStore();
      const base = { task: 'slow', attempt: 0, maxAttempts: 1, createdAt: Date.now() } as const;
      await store.create({
        ...base,
        key: 'done',
        status: 'completed',
        value: 'slept',
        finishedAt: Date.now(),
      });
      await store.create({
        ...base,
        key: 'broken',
        status: 'failed',
        error: { name: 'Error', message: 'boom' },
      });
      // What a launch held by a process that then died leaves behind.
      await store.create({
        ...base,
        key: 'orphan-ok',
        status: 'pending',
        args: { ms: 1 },
        meta: { dependsOn: ['done'] },
      });
      await store.create({
        ...base,
        key: 'orphan-ko',
        status: 'pending',
        args: { ms: 1 },
        meta: { dependsOn: ['broken'] },
      });
      built = await buildApp({ tasks: [slow], store });
      const ended = async (key: string) => {
        for (let tries = 0; tries < 100; tries++) {
          const record = await store.get(key);
          if (record !== undefined && record.status !== 'pending' && record.status !== 'running')
            return record;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        throw new Error(`${key} did not end`);
      };
      expect((await ended('orphan-ok')).status).toBe('completed');
      const failed = await ended('orphan-ko');
      expect(failed.status).toBe('failed');
      expect(failed.error?.message).toContain('its parent "broken" failed');
    });
  });
});
