import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type ComputationRecord,
  defineTask,
  InProcessBackend,
  jsonCodec,
  MemoryStore,
  NO_RETRY,
  QueueFullError,
  type ScheduleState,
  submitTask,
  systemClock,
  type TaskDefinition,
  type TaskLogger,
  tickKey,
} from '../src/index';
import { type FireContext, fireDueTicks, type LaunchSettings } from '../src/kit';

/** A tick's key meeting an existing record: the tick was fired already, whatever launch settings say. */
describe('fireDueTicks', () => {
  const opened: { close(options?: { timeout?: number }): Promise<void> }[] = [];
  afterEach(async () => {
    for (const item of opened.splice(0)) await item.close({ timeout: 0 });
  });

  const greet = defineTask({
    name: 'fire.greet',
    input: z.object({ name: z.string() }),
    run: ({ name }) => `hello ${name}`,
  });

  /** A store, a backend, a logger keeping its errors, and a schedule of `task` whose tick is due. */
  const world = async (task: TaskDefinition, args: unknown, backend = new InProcessBackend()) => {
    const store = new MemoryStore();
    opened.push(backend, store);
    const errors: unknown[][] = [];
    const logger: TaskLogger = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (...line) => errors.push(line),
    };
    const now = Date.now();
    const tick = now - 500;
    const state: ScheduleState = {
      id: `fire-${Math.random().toString(36).slice(2)}`,
      task: task.name,
      every: 60_000,
      args,
      overlap: 'allow',
      catchUp: 60_000,
      paused: false,
      nextRunAt: tick,
      revision: 0,
      createdAt: now - 1000,
      updatedAt: now - 1000,
    };
    const repository = store.schedules!;
    expect(await repository.save(state, null)).toBe(true);
    const context = (launchSettings?: FireContext['launchSettings']): FireContext => ({
      store,
      backend,
      repository,
      findTask: (name) => (name === task.name ? task : undefined),
      clock: systemClock,
      logger,
      ...(launchSettings === undefined ? {} : { launchSettings }),
    });
    return { store, backend, state, tick, key: tickKey(state.id, tick), errors, context };
  };

  describe('when the tick was fired with another input (the schedule was replaced since)', () => {
    it('should count the tick as fired: no second run, no error', async () => {
      const { store, backend, state, key, tick, errors, context } = await world(greet, { name: 'new' });
      const { key: launched } = await submitTask(greet, { name: 'old' }, { store, backend, key });
      expect(launched).toBe(key);
      const after = await fireDueTicks(state, context());
      expect(errors).toEqual([]);
      expect(after).toMatchObject({ lastRunAt: tick, lastKey: key });
      expect(after!.nextRunAt).toBeGreaterThan(tick);
      const runs = (await store.list({})).records;
      expect(runs.map((record) => [record.key, record.args])).toEqual([[key, { name: 'old' }]]);
    });
  });

  describe('when the launch settings have an idempotency window', () => {
    it('should not run again a tick whose run finished', async () => {
      const { store, backend, state, key, errors, context } = await world(greet, { name: 'ada' });
      const finished: ComputationRecord = {
        key,
        task: greet.name,
        status: 'completed',
        args: { name: 'ada' },
        value: 'hello ada',
        attempt: 1,
        maxAttempts: 1,
        priority: 0,
        createdAt: Date.now() - 10_000,
        finishedAt: Date.now() - 9_000,
      };
      await store.create(finished);
      const settings: LaunchSettings = {
        store,
        backend,
        codec: jsonCodec,
        retry: NO_RETRY,
        middleware: [],
        // A keyed launch past it would start a new run over the finished one.
        idempotencyWindow: 0,
      };
      await fireDueTicks(
        state,
        context(() => settings),
      );
      expect(errors).toEqual([]);
      expect(await store.get(key)).toMatchObject({
        status: 'completed',
        createdAt: finished.createdAt,
        finishedAt: finished.finishedAt,
      });
      expect((await store.list({})).records).toHaveLength(1);
    });
  });

  describe("when the task's queue is full", () => {
    it('should leave the tick due for a later pass', async () => {
      const bounded = defineTask({ name: 'fire.bounded', maxQueued: 1, run: () => 'done' });
      const { store, backend, state, key, context } = await world(bounded, undefined);
      // One computation waiting to start fills the queue.
      await submitTask(bounded, undefined, { store, backend, delay: 60_000 });
      const error = await fireDueTicks(state, context()).catch((caught: unknown) => caught);
      expect(QueueFullError.isInstance(error)).toBe(true);
      expect(await context().repository.get(state.id)).toMatchObject({
        nextRunAt: state.nextRunAt,
        revision: state.revision,
      });
      expect(await store.get(key)).toBeUndefined();
    });
  });
});
