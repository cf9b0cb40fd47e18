import { describe, expect, it } from 'vitest';
import {
  asyncCompute,
  type ComputationBackend,
  ConfigError,
  defineTask,
  InProcessBackend,
  MemoryStore,
  QueueFullError,
  submitTask,
} from '../src/index';

const wait = defineTask({
  name: 'wait',
  run: (_: undefined, context) =>
    new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true })),
});

describe('bounded queues', () => {
  describe('when maxQueued is not a whole number ≥ 1', () => {
    it('should refuse it where it is given', () => {
      for (const maxQueued of [0, -1, 1.5, Number.NaN]) {
        expect(() => defineTask({ name: 'bad', maxQueued, run: () => 1 })).toThrow(
          /defineTask\("bad"\): `maxQueued` must be a whole number ≥ 1/,
        );
        expect(() => new InProcessBackend({ maxQueued })).toThrow(
          /InProcessBackend: `maxQueued` must be a whole number ≥ 1/,
        );
      }
    });
  });

  describe('when many launches start at once', () => {
    it('should admit no more than the bound, since launches in flight count', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend({ concurrency: 1, maxQueued: 5 });
      const launches = await Promise.allSettled(
        Array.from({ length: 50 }, () => submitTask(wait, undefined, { store, backend })),
      );
      const refused = launches.filter((launch) => launch.status === 'rejected');
      for (const launch of refused) expect(QueueFullError.isInstance(launch.reason)).toBe(true);
      // One runs; at most five wait.
      expect(launches.length - refused.length).toBeLessThanOrEqual(6);
      expect(backend.queuedCount).toBeLessThanOrEqual(5);
      expect((await store.list({})).records.length).toBe(launches.length - refused.length);
      await backend.close({ timeout: 0 });
    });

    it('should refuse a map past the bound whole', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend({ concurrency: 1, maxQueued: 3 });
      const compute = asyncCompute(wait, { store, backend });
      await expect(
        compute.map([[undefined], [undefined], [undefined], [undefined], [undefined]]),
      ).rejects.toThrow(QueueFullError);
      expect((await store.list({})).records).toEqual([]);
      await backend.close({ timeout: 0 });
    });
  });

  describe('when the backend cannot count its queue', () => {
    it('should refuse a bounded task with a ConfigError, writing nothing', async () => {
      const store = new MemoryStore();
      const inner = new InProcessBackend();
      const blind: ComputationBackend = {
        name: 'blind',
        capabilities: inner.capabilities,
        launch: (invocation) => inner.launch(invocation),
        cancel: (key) => inner.cancel(key),
        close: () => inner.close(),
        register: (registration) => inner.register(registration),
        bind: (bound) => inner.bind(bound),
      };
      const bounded = defineTask({ name: 'bounded', maxQueued: 2, run: () => 1 });
      const refusal = await submitTask(bounded, undefined, { store, backend: blind }).catch((error) => error);
      expect(ConfigError.isInstance(refusal)).toBe(true);
      expect(refusal.message).toMatch(/backend blind cannot count its queue/);
      expect((await store.list({})).records).toEqual([]);
      await inner.close();
    });
  });
});
