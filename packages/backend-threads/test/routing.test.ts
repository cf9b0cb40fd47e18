import { threadId } from 'node:worker_threads';
import {
  ConfigError,
  InProcessBackend,
  MemoryStore,
  QueueFullError,
  RoutingBackend,
  submitTask,
} from '@au/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ThreadsBackend } from '../src/index';
import { crunch, fetchLike, hoard } from './fixtures/routed-tasks';

const tasksUrl = new URL('./fixtures/routed-tasks.ts', import.meta.url);

describe('RoutingBackend over threads and the event loop', () => {
  let routing: RoutingBackend | undefined;
  afterEach(async () => {
    await routing?.close({ timeout: 2000 });
    routing = undefined;
  });

  describe('when tasks declare resource hints', () => {
    it('should run cpu tasks on a thread and io tasks on the main thread', async () => {
      const store = new MemoryStore();
      routing = new RoutingBackend({
        routes: {
          cpu: new ThreadsBackend({ tasks: [tasksUrl], concurrency: 1 }),
          io: new InProcessBackend(),
        },
      });
      const heavy = await submitTask(crunch, 1000, { store, backend: routing });
      const light = await submitTask(fetchLike, 1, { store, backend: routing });
      expect((await heavy.result({ timeout: 10_000 })).threadId).not.toBe(threadId);
      expect((await light.result({ timeout: 10_000 })).threadId).toBe(threadId);
    });

    it('should cancel a computation on whichever backend holds it', async () => {
      const store = new MemoryStore();
      const threads = new ThreadsBackend({ tasks: [tasksUrl], concurrency: 1 });
      routing = new RoutingBackend({ routes: { cpu: threads }, default: new InProcessBackend() });
      const running = await submitTask(crunch, 1e12, { store, backend: routing });
      expect(await running.cancel()).toBe(true);
      expect(await running.status()).toBe('cancelled');
    });

    it("should bound a task's queue on the backend it routes to", async () => {
      const store = new MemoryStore();
      routing = new RoutingBackend({
        routes: { cpu: new ThreadsBackend({ tasks: [tasksUrl], concurrency: 1, maxQueued: 1 }) },
        default: new InProcessBackend(),
      });
      const waiting = await submitTask(crunch, 1, { store, backend: routing, delay: 60_000 });
      await expect(submitTask(crunch, 1, { store, backend: routing, delay: 60_000 })).rejects.toThrow(
        QueueFullError,
      );
      // The default backend's queue is another one.
      const other = await submitTask(hoard, undefined, { store, backend: routing, delay: 60_000 });
      await Promise.all([waiting.cancel(), other.cancel()]);
    });
  });

  describe('when a hint has no route and there is no default', () => {
    it('should refuse the launch with ConfigError, writing nothing', async () => {
      const store = new MemoryStore();
      routing = new RoutingBackend({ routes: { io: new InProcessBackend() } });
      const refusal = await submitTask(hoard, undefined, { store, backend: routing, key: 'hoard' }).catch(
        (error: unknown) => error,
      );
      expect(ConfigError.isInstance(refusal)).toBe(true);
      expect((refusal as Error).message).toMatch(
        /task "routed.hoard" declares resources 'memory', which no route serves \(routes: io\)/,
      );
      expect(await store.get('hoard')).toBeUndefined();
    });

    it('should refuse routes it cannot use at construction', () => {
      expect(() => new RoutingBackend({ routes: {} })).toThrow(/at least one route or a `default`/);
      expect(() => new RoutingBackend({ routes: { gpu: new InProcessBackend() } as never })).toThrow(
        /unknown resource hint "gpu"/,
      );
    });
  });
});
