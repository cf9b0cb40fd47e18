import { describe, expect, it } from 'vitest';
import {
  CancelledError,
  computationStats,
  defineTask,
  InProcessBackend,
  MemoryStore,
  MetricsMiddleware,
  submitTask,
} from '../src/index';

const quick = defineTask({ name: 'stats.quick', run: (n: number) => n });
const broken = defineTask({
  name: 'stats.broken',
  run: (): never => {
    throw new Error('no');
  },
});
const gate = defineTask({
  name: 'stats.gate',
  run: (_: null, context) =>
    new Promise((_resolve, reject) =>
      context.signal.addEventListener('abort', () => reject(context.signal.reason)),
    ),
});

describe('computationStats', () => {
  describe('when computations ran, failed and still run', () => {
    it('should count them by status and task and report the window of the metrics middleware', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const metrics = MetricsMiddleware({ worker: 'here' });
      const options = { store, backend, middleware: [metrics] };
      for (const n of [1, 2, 3]) await (await submitTask(quick, n, options)).result({ timeout: 5000 });
      await (await submitTask(broken, null, options)).result({ timeout: 5000 }).catch(() => undefined);
      const running = await submitTask(gate, null, options);
      while ((await running.status()) !== 'running') await new Promise((resolve) => setTimeout(resolve, 5));

      const report = await computationStats(store, {
        tasks: ['stats.quick', 'stats.broken', 'stats.gate'],
        metrics,
        window: 60_000,
      });
      expect(report.counts.byStatus).toEqual({
        pending: 0,
        running: 1,
        completed: 3,
        failed: 1,
        cancelled: 0,
      });
      expect(report.counts.byTask['stats.quick']).toMatchObject({ completed: 3, failed: 0 });
      expect(report.counts.byTask['stats.broken']).toMatchObject({ failed: 1 });
      expect(report.counts.byTask['stats.gate']).toMatchObject({ running: 1 });
      const recent = report.recent!;
      expect(recent).toMatchObject({
        window: 60_000,
        completed: 3,
        failed: 1,
        cancelled: 0,
        successRate: 0.75,
      });
      expect(recent.throughput).toBeCloseTo(4 / 60);
      expect(recent.duration?.count).toBe(4);
      expect(recent.queueWait?.count).toBe(5);
      expect(recent.duration!.p50).toBeLessThanOrEqual(recent.duration!.max);
      expect(recent.running).toEqual({ byWorker: { here: 1 }, byTask: { 'stats.gate': 1 } });

      expect(await running.cancel()).toBe(true);
      await expect(running.result({ timeout: 5000 })).rejects.toSatisfy(CancelledError.isInstance);
      await backend.close();
      const after = metrics.stats({ window: 60_000 });
      expect(after.cancelled).toBe(1);
      expect(after.running).toEqual({ byWorker: { here: 0 }, byTask: {} });
    });
  });

  describe('when nothing ran', () => {
    it('should report zero counts and no rates', async () => {
      const report = await computationStats(new MemoryStore(), { metrics: MetricsMiddleware() });
      expect(report.counts.byStatus.pending).toBe(0);
      expect(report.counts.byTask).toEqual({});
      expect(report.recent).toMatchObject({
        successRate: null,
        duration: null,
        queueWait: null,
        throughput: 0,
      });
    });
  });

  describe('when MetricsMiddleware gets an unknown option', () => {
    it('should throw a TypeError naming it', () => {
      expect(() => MetricsMiddleware({ windw: 1 } as never)).toThrow(/windw/);
    });
  });
});
