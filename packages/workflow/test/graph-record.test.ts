// The graph's own record: its status changes go through core's lifecycle operations, its
// times come from the graph's clock, and cancel reasons are read from structured fields.
import {
  CancelledError,
  type ComputationPatch,
  type ComputationRecord,
  type ComputationStatus,
  defineTask,
  InProcessBackend,
  jsonCodec,
  MemoryStore,
  type UpdateOptions,
} from '@au/core';
import { recordCancelled } from '@au/core/kit';
import { createVirtualClock, faultyStore } from '@au/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { GraphHandle, type GraphProgress, TaskGraph } from '../src/index';
import { constant, double, slow } from './fixtures/tasks';

const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A MemoryStore that notes every status the record under `key` is written with, in order. */
class StatusLog extends MemoryStore {
  readonly statuses: ComputationStatus[] = [];
  readonly #key: string;

  constructor(key: string) {
    super();
    this.#key = key;
  }

  override async create(record: ComputationRecord): Promise<void> {
    await super.create(record);
    if (record.key === this.#key) this.statuses.push(record.status);
  }

  override async claim(...args: Parameters<MemoryStore['claim']>) {
    const result = await super.claim(...args);
    if (args[0] === this.#key && result.claimed) this.statuses.push(result.record.status);
    return result;
  }

  override async update(key: string, patch: ComputationPatch, options?: UpdateOptions) {
    const record = await super.update(key, patch, options);
    if (key === this.#key && record !== undefined && patch.status !== undefined)
      this.statuses.push(record.status);
    return record;
  }
}

function gate(): { open: () => void; opened: Promise<void> } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

async function waitUntil(check: () => Promise<boolean>, timeout = 5_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeout) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('graph record', () => {
  describe('when a graph runs to the end', () => {
    it('should be created pending, claimed running for attempt 1, then completed', async () => {
      const store = new StatusLog('lifecycle-1');
      const backend = new InProcessBackend();
      cleanups.push(
        () => backend.close(),
        () => store.close(),
      );
      const graph = new TaskGraph({ store, backend, key: 'lifecycle-1' });
      const a = graph.add(constant, { n: 2 }, { id: 'a' });
      graph.add(double, ([n]) => ({ n }), { id: 'b', dependsOn: [a] });
      await graph.run();
      expect(store.statuses).toEqual(['pending', 'running', 'completed']);
      const record = await store.get('lifecycle-1');
      expect(record).toMatchObject({ status: 'completed', attempt: 1 });
      expect(record?.startedAt).toBeGreaterThanOrEqual(record!.createdAt);
    });

    it('should write its end through a store outage that loses the reply', async () => {
      const memory = new MemoryStore();
      // The graph's final write lands, but its reply is lost: the lifecycle operation
      // tries again, recognises its own write, and the run resolves.
      const store = faultyStore(memory, {
        method: 'update',
        on: (_call, args) => args[0] === 'outage-1' && (args[1] as ComputationPatch).status === 'completed',
        error: new Error('read ECONNRESET'),
        phase: 'after',
      });
      const backend = new InProcessBackend();
      cleanups.push(
        () => backend.close(),
        () => memory.close(),
      );
      const graph = new TaskGraph({ store, backend, key: 'outage-1' });
      graph.add(constant, { n: 5 }, { id: 'only' });
      expect((await graph.run()).byId).toEqual({ only: 5 });
      expect(store.injected).toHaveLength(1);
      expect((await memory.get('outage-1'))?.status).toBe('completed');
    });
  });

  describe('when a virtual clock drives the graph', () => {
    it('should take its times from the clock and write progress only as the clock moves', async () => {
      const clock = createVirtualClock(1_000_000);
      const store = new MemoryStore({ clock });
      const backend = new InProcessBackend({ clock });
      cleanups.push(
        () => backend.close(),
        () => store.close(),
      );
      const release = gate();
      const held = defineTask({
        name: 'wf.held',
        run: async ({ n }: { n: number }) => {
          await release.opened;
          return n;
        },
      });
      const graph = new TaskGraph({ store, backend, key: 'virtual-1', ttl: 60, clock });
      const first = graph.add(constant, { n: 1 }, { id: 'first' });
      graph.add(held, ([n]) => ({ n }), { id: 'held', dependsOn: [first] });
      const run = graph.run();
      await waitUntil(async () => (await store.get('virtual-1:held'))?.status === 'running');
      const progress = async () => (await store.get('virtual-1'))?.progress as GraphProgress;
      // One node has ended, but the progress write waits for 50 ms of the graph's clock.
      expect((await progress()).done).toBe(0);
      await clock.advance(50);
      await waitUntil(async () => (await progress()).done === 1);
      await clock.advance(1_000);
      release.open();
      await run;
      const record = await store.get('virtual-1');
      expect(record).toMatchObject({
        status: 'completed',
        createdAt: 1_000_000,
        startedAt: 1_000_000,
        finishedAt: 1_001_050,
        expiresAt: 1_001_050 + 60_000,
      });
      expect((await store.get('virtual-1:first'))?.createdAt).toBe(1_000_000);
      expect(record?.progress).toEqual({ done: 2, total: 2, completed: 2, failed: 0, cancelled: 0 });
    });
  });

  describe('when the graph is cancelled from another handle', () => {
    it('should carry the reason word for word, from the error field, to the run and the nodes', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      cleanups.push(
        () => backend.close(),
        () => store.close(),
      );
      const graph = new TaskGraph({ store, backend, key: 'reasons-1' });
      const long = graph.add(slow, { ms: 10_000, n: 1 }, { id: 'long' });
      graph.add(double, ([n]) => ({ n }), { id: 'after', dependsOn: [long] });
      const run = graph.run().catch((caught: unknown) => caught);
      await waitUntil(async () => (await store.get('reasons-1:long'))?.status === 'running');
      // A reason that looks like the message's own prefix: parsing the message would mangle it.
      const reason = 'computation "x" was cancelled: by ops';
      const elsewhere = new GraphHandle('reasons-1', { store, backend, codec: jsonCodec });
      expect(await elsewhere.cancel(reason)).toBe(true);
      const error = await run;
      expect(CancelledError.isInstance(error)).toBe(true);
      expect((error as CancelledError).reason).toBe(reason);
      expect((await store.get('reasons-1'))?.error).toMatchObject({ key: 'reasons-1', reason });
      expect((await store.get('reasons-1:long'))?.error).toMatchObject({ key: 'reasons-1:long', reason });
      expect((await store.get('reasons-1:after'))?.error).toMatchObject({ key: 'reasons-1:after', reason });
    });

    it('should read the reason field, whatever the message of the writer says', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      cleanups.push(
        () => backend.close(),
        () => store.close(),
      );
      const graph = new TaskGraph({ store, backend, key: 'reasons-3' });
      graph.add(slow, { ms: 10_000, n: 1 }, { id: 'long' });
      const run = graph.run().catch((caught: unknown) => caught);
      await waitUntil(async () => (await store.get('reasons-3:long'))?.status === 'running');
      // Another writer (a dashboard, another au version) words its message its own way.
      const cancel = new CancelledError({ key: 'reasons-3', reason: 'operator request' });
      cancel.message = '[ops] graph stopped by an operator (ticket 42)';
      expect(await recordCancelled({ store, key: 'reasons-3', error: cancel })).toBeDefined();
      const error = (await run) as CancelledError;
      expect(error.reason).toBe('operator request');
      expect((await store.get('reasons-3:long'))?.error?.reason).toBe('operator request');
    });

    it('should take the reason from the record when a resume finds the graph cancelled', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      cleanups.push(
        () => backend.close(),
        () => store.close(),
      );
      const define = (graph: TaskGraph) => {
        const a = graph.add(slow, { ms: 10_000, n: 1 }, { id: 'a' });
        graph.add(double, ([n]) => ({ n }), { id: 'b', dependsOn: [a] });
      };
      const first = new TaskGraph({ store, backend, key: 'reasons-2' });
      define(first);
      const firstRun = first.run().catch(() => undefined);
      await waitUntil(async () => (await store.get('reasons-2:a'))?.status === 'running');
      await first.cancel('stopped: for the night');
      await firstRun;
      const resumed = await TaskGraph.resume(store, 'reasons-2', { backend, define });
      const error = (await resumed.run().catch((caught: unknown) => caught)) as CancelledError;
      expect(CancelledError.isInstance(error)).toBe(true);
      expect(error.reason).toBe('stopped: for the night');
    });
  });
});
