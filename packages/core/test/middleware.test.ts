import { describe, expect, it } from 'vitest';
import {
  asyncCompute,
  ComputationFailedError,
  composeMiddleware,
  defineMiddleware,
  InProcessBackend,
  LoggingMiddleware,
  MemoryStore,
  MetricsMiddleware,
  type Middleware,
  RateLimitError,
  RateLimitMiddleware,
} from '../src/index';

function settings(middleware: Middleware[]) {
  return { store: new MemoryStore(), backend: new InProcessBackend(), middleware };
}

describe('middleware', () => {
  describe('when composed', () => {
    it('should run outermost first and unwind in reverse', async () => {
      const order: string[] = [];
      const layer = (name: string): Middleware => ({
        name,
        async run(_context, next) {
          order.push(`${name}:in`);
          const result = await next();
          order.push(`${name}:out`);
          return result;
        },
      });
      const result = await composeMiddleware([layer('a'), layer('b')], 'run', {}, async () => {
        order.push('task');
        return 7;
      });
      expect(result).toBe(7);
      expect(order).toEqual(['a:in', 'b:in', 'task', 'b:out', 'a:out']);
    });

    it('should refuse next() called twice', async () => {
      const twice: Middleware = {
        name: 'twice',
        async run(_context, next) {
          await next();
          return next();
        },
      };
      await expect(composeMiddleware([twice], 'run', {}, async () => 1)).rejects.toThrow(
        /called next\(\) twice/,
      );
    });
  });

  describe('when defined with hooks', () => {
    it('should call before, after with the result, and onError with the error', async () => {
      const seen: string[] = [];
      const hooks = defineMiddleware({
        name: 'hooks',
        before: (context) => void seen.push(`before:${context.task}:${context.attempt}`),
        after: (_context, result) => void seen.push(`after:${String(result)}`),
        onError: (_context, error) => void seen.push(`error:${(error as Error).message}`),
      });
      const ok = asyncCompute((x: number) => x + 1, { ...settings([hooks]), name: 'inc' });
      expect(await (await ok(1)).result()).toBe(2);
      const bad = asyncCompute(
        () => {
          throw new Error('bad');
        },
        { ...settings([hooks]), name: 'bad' },
      );
      await expect((await bad()).result()).rejects.toSatisfy(ComputationFailedError.isInstance);
      expect(seen).toEqual(['before:inc:1', 'after:2', 'before:bad:1', 'error:bad']);
    });

    it('should let run-side middleware replace the result', async () => {
      const replace: Middleware = {
        name: 'replace',
        run: async (_context, next) => `wrapped ${await next()}`,
      };
      const compute = asyncCompute(() => 'value', settings([replace]));
      expect(await (await compute()).result()).toBe('wrapped value');
    });
  });

  describe('when logging', () => {
    it('should log start and completion with key, task and duration', async () => {
      const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
      const logger = Object.fromEntries(
        ['debug', 'info', 'warn', 'error'].map((level) => [
          level,
          (fields: Record<string, unknown>, message: string) => lines.push({ level, fields, message }),
        ]),
      ) as unknown as Parameters<typeof LoggingMiddleware>[0]['logger'];
      const compute = asyncCompute((x: number) => x, {
        ...settings([LoggingMiddleware({ logger })]),
        name: 'same',
      });
      const handle = await compute(3);
      await handle.result();
      expect(lines.map((line) => line.message)).toEqual(['computation started', 'computation completed']);
      expect(lines[1]!.fields).toMatchObject({ key: handle.key, task: 'same', attempt: 1 });
      expect(typeof lines[1]!.fields.durationMs).toBe('number');
    });
  });

  describe('when measuring', () => {
    it('should count outcomes and average durations', async () => {
      const metrics = MetricsMiddleware();
      const common = settings([metrics]);
      const ok = asyncCompute(async () => 1, common);
      const bad = asyncCompute(async () => {
        throw new Error('x');
      }, common);
      await (await ok()).result();
      await (await ok()).result();
      await (await bad()).result().catch(() => undefined);
      const stats = metrics.getStats();
      expect(stats).toMatchObject({ total: 3, completed: 2, failed: 1, cancelled: 0 });
      expect(stats.avgDuration).toBeGreaterThanOrEqual(0);
    });

    it('should feed a prom-client style registry when given one', async () => {
      const observed: string[] = [];
      class Counter {
        constructor(readonly config: { name: string }) {}
        inc(labels: Record<string, string>) {
          observed.push(`${this.config.name}:${labels.status}`);
        }
      }
      class Histogram {
        constructor(readonly config: { name: string }) {}
        observe() {
          observed.push(this.config.name);
        }
      }
      const metrics = MetricsMiddleware({ prometheus: { client: { Counter, Histogram }, registry: {} } });
      await (await asyncCompute(() => 1, settings([metrics]))()).result();
      expect(observed).toEqual(
        expect.arrayContaining([
          'au_computations_total:completed',
          'au_computation_duration_seconds',
          'au_queue_wait_seconds',
        ]),
      );
    });
  });

  describe('when rate limiting launches', () => {
    it('should refuse past the limit before anything is written', async () => {
      const common = settings([RateLimitMiddleware({ limit: 2, window: 60_000 })]);
      const compute = asyncCompute((x: number) => x, { ...common, name: 'limited' });
      await compute(1);
      await compute(2);
      const error = await compute(3).catch((caught: unknown) => caught);
      expect(RateLimitError.isInstance(error)).toBe(true);
      expect((error as RateLimitError).retryAfter).toBeGreaterThan(0);
      expect(common.store.size).toBe(2);
    });
  });
});
