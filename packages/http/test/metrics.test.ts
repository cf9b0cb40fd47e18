import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './fixtures';

describe('@au/http metrics and stats', () => {
  let built: Awaited<ReturnType<typeof buildApp>>;
  let app: FastifyInstance;
  let running: string;
  beforeAll(async () => {
    built = await buildApp();
    app = built.app;
    for (const x of [1, 2, 3]) await app.inject({ method: 'POST', url: '/double', payload: { x } });
    await app.inject({ method: 'POST', url: '/boom', payload: {} });
    running = (await app.inject({ method: 'POST', url: '/slow?async=true', payload: { ms: 30_000 } })).json()
      .taskId;
    for (let tries = 0; (await built.store.get(running))?.status !== 'running' && tries < 200; tries++)
      await new Promise((resolve) => setTimeout(resolve, 10));
  });
  afterAll(async () => {
    await app.inject({ method: 'DELETE', url: `/tasks/${running}` });
    await app.close();
    await built.backend.close();
    await built.store.close();
  });

  describe('when Prometheus scrapes /metrics', () => {
    it('should count the store by status and task, running by worker, and the outcomes', async () => {
      const body = (await app.inject('/metrics')).body;
      expect(body).toContain('au_store_computations{status="completed",task="double"} 3');
      expect(body).toContain('au_store_computations{status="failed",task="boom"} 1');
      expect(body).toContain('au_store_computations{status="running",task="slow"} 1');
      expect(body).toContain('au_store_computations{status="pending",task="double"} 0');
      expect(body).toMatch(/au_computations_running\{task="slow",worker="[^"]+:\d+"\} 1/);
      expect(body).toContain('au_computations_total{task="boom",status="failed"} 1');
      expect(body).toMatch(/au_computation_duration_seconds_count\{task="double"\} 3/);
      expect(body).toMatch(/au_queue_wait_seconds_count\{task="slow"\} 1/);
    });
  });

  describe('when asked for /stats', () => {
    it('should answer the counts, the window rates and percentiles, and running per worker', async () => {
      const response = await app.inject('/stats?window=60');
      expect(response.statusCode).toBe(200);
      const stats = response.json();
      expect(stats.counts.byStatus).toEqual({
        pending: 0,
        running: 1,
        completed: 3,
        failed: 1,
        cancelled: 0,
      });
      expect(stats.counts.byTask.double).toMatchObject({ completed: 3 });
      expect(stats.recent).toMatchObject({ window: 60_000, completed: 3, failed: 1, successRate: 0.75 });
      expect(stats.recent.duration.count).toBe(4);
      expect(Object.values(stats.recent.running.byWorker)).toEqual([1]);
      expect(await app.au.stats()).toMatchObject({ counts: { byStatus: { completed: 3 } } });
    });

    it('should answer 400 to a bad window', async () => {
      const response = await app.inject('/stats?window=0');
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'INVALID_QUERY' });
      expect(response.json().error.message).toContain('window');
    });

    it('should answer 400 to an undeclared query parameter', async () => {
      const response = await app.inject('/stats?windw=60');
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'UNKNOWN_QUERY_PARAMETER', parameters: ['windw'] });
    });
  });
});
