import { RoutingBackend } from '@au/core';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { factorial } from '../src/sample-tasks';
import { type RunningServer, startServer } from '../src/start-server';

const silent = pino({ level: 'silent' });

describe('job server routes (AU_ROUTES)', () => {
  let running: RunningServer | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  describe('when AU_ROUTES names a backend for a resource hint', () => {
    it('should run the tasks of that hint there and the others on AU_BACKEND', async () => {
      running = await startServer(
        {
          AU_PORT: '0',
          AU_STORE: 'memory',
          AU_BACKEND: 'inline',
          AU_ROUTES: 'cpu=threads',
          AU_CONCURRENCY: '1',
        },
        silent,
      );
      const backend = running.config.backend;
      expect(backend).toBeInstanceOf(RoutingBackend);
      expect((backend as RoutingBackend).route(factorial).name).toBe('threads');
      expect(running.config.describe.backend).toBe('inline (routes: cpu=threads)');
      const response = await running.app.inject({ method: 'POST', url: '/factorial', payload: { n: 20 } });
      expect(response.json().result).toBe('2432902008176640000');
    }, 30_000);
  });

  describe('when AU_ROUTES is wrong', () => {
    it.each([
      ['gpu=threads', /AU_ROUTES: unknown resource hint "gpu"/],
      ['cpu', /AU_ROUTES: "cpu" is not hint=backend/],
      ['cpu=warp', /AU_BACKEND: unknown backend "warp"/],
    ])('should refuse to start on %s', async (routes, message) => {
      const error = await startServer(
        { AU_PORT: '0', AU_STORE: 'memory', AU_BACKEND: 'inline', AU_ROUTES: routes },
        silent,
      ).then(
        async (server) => {
          await server.close();
          return undefined;
        },
        (caught: unknown) => caught as Error,
      );
      expect(error?.message).toMatch(message);
    });
  });
});

describe('failInterrupted with routes', () => {
  describe('when a route is durable', () => {
    it('should leave pending records alone: they may wait in its queue', async () => {
      const { InProcessBackend, MemoryStore } = await import('@au/core');
      const { failInterrupted } = await import('../src/fail-interrupted');
      const store = new MemoryStore();
      await store.create({
        key: 'queued',
        task: 'factorial',
        status: 'pending',
        attempt: 0,
        maxAttempts: 1,
        createdAt: 1,
      });
      const local = new InProcessBackend();
      const durable = Object.assign(new InProcessBackend(), {
        capabilities: { inlineFunctions: false, durable: true, priority: true, preemptiveCancel: false },
      });
      const mixed = new RoutingBackend({ routes: { cpu: durable }, default: local });
      expect(await failInterrupted(store, mixed, { logger: silent })).toBe(0);
      expect((await store.get('queued'))?.status).toBe('pending');
      const allLocal = new RoutingBackend({ routes: { cpu: new InProcessBackend() }, default: local });
      expect(await failInterrupted(store, allLocal, { logger: silent })).toBe(1);
      await Promise.all([mixed.close(), allLocal.close()]);
    });
  });
});
