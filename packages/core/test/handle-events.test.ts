import { describe, expect, it } from 'vitest';
import {
  asyncCompute,
  type ComputationEvent,
  ComputationHandle,
  type ComputationRecord,
  type ComputationStore,
  defineTask,
  InProcessBackend,
  isTerminalStatus,
  jsonCodec,
  MemoryStore,
} from '../src/index';

const COUNT = 50;

/** Reports 1..COUNT as fast as it can, then returns. */
const countUp = defineTask({
  name: 'count-up',
  run: async (_input: undefined, ctx) => {
    for (let step = 1; step <= COUNT; step++) {
      ctx.progress(step);
      await Promise.resolve();
    }
    return 'done';
  },
});

/** A MemoryStore seen through a store without `watch`: handles poll it. */
function pollingStore(): ComputationStore {
  const inner = new MemoryStore();
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'watch') return undefined;
      if (property === 'capabilities') return { ...target.capabilities, watch: false };
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as ComputationStore;
}

const stores: [string, () => ComputationStore][] = [
  ['a watching store (MemoryStore)', () => new MemoryStore()],
  ['a polling store (no watch)', pollingStore],
];

async function collect(events: AsyncIterable<ComputationEvent>): Promise<ComputationEvent[]> {
  const seen: ComputationEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

/** What every event stream must satisfy, whatever was coalesced. */
function expectOrdered(events: ComputationEvent[], terminal: ComputationRecord['status']): void {
  const last = events.at(-1);
  expect(last).toMatchObject({ type: 'status', status: terminal });
  const terminalAt = events.findIndex((event) => event.type === 'status' && isTerminalStatus(event.status));
  expect(terminalAt).toBe(events.length - 1);
  const progress = events.flatMap((event) => (event.type === 'progress' ? [event.progress as number] : []));
  // Coalesced values may be missing, but what arrives is in order, never twice, ending at the last.
  for (let index = 1; index < progress.length; index++)
    expect(progress[index]).toBeGreaterThan(progress[index - 1]!);
  expect(progress.at(-1)).toBe(COUNT);
  const statuses = events.flatMap((event) => (event.type === 'status' ? [event.status] : []));
  for (let index = 1; index < statuses.length; index++) expect(statuses[index]).not.toBe(statuses[index - 1]);
}

describe('handle.events', () => {
  for (const [name, makeStore] of stores) {
    describe(`when a task reports progress quickly then returns, on ${name}`, () => {
      it('should end with the terminal status, after the last progress', async () => {
        const store = makeStore();
        const backend = new InProcessBackend();
        const count = asyncCompute(countUp, { store, backend });
        const handle = await count(undefined);
        const events = await collect(handle.events());
        expectOrdered(events, 'completed');
        await backend.close();
      });

      it('should deliver every value when each progress is written', async () => {
        const store = makeStore();
        const backend = new InProcessBackend({ progressInterval: 0 });
        const count = asyncCompute(countUp, { store, backend });
        const handle = await count(undefined);
        const events = await collect(handle.events());
        expectOrdered(events, 'completed');
        if (store.capabilities.watch) {
          // A watching store pushes each write: nothing to coalesce.
          const progress = events.filter((event) => event.type === 'progress').map((event) => event.progress);
          expect(progress).toEqual(Array.from({ length: COUNT }, (_, index) => index + 1));
        }
        await backend.close();
      });
    });

    describe(`when the computation has already ended, on ${name}`, () => {
      it('should give the last progress, then the terminal status, and end', async () => {
        const store = makeStore();
        const backend = new InProcessBackend();
        const count = asyncCompute(countUp, { store, backend });
        const handle = await count(undefined);
        await handle.result({ timeout: 5_000 });
        const events = await collect(handle.events());
        expect(events.map((event) => (event.type === 'status' ? event.status : event.progress))).toEqual([
          COUNT,
          'completed',
        ]);
        await backend.close();
      });
    });
  }

  describe('when a task fails once and is retried', () => {
    it('should report each status change in order and end with completed', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      let calls = 0;
      const flakyTask = defineTask({
        name: 'flaky',
        retry: { attempts: 2, backoff: 'fixed', delay: 50 },
        run: async (_input: undefined, ctx) => {
          calls += 1;
          // The first value is written at once; the second rides on the attempt's last write.
          ctx.progress(calls * 10 - 5);
          ctx.progress(calls * 10);
          if (calls === 1) throw new Error('first try fails');
          return calls;
        },
      });
      const flaky = asyncCompute(flakyTask, { store, backend });
      const handle = await flaky(undefined);
      const events = await collect(handle.events());
      const sequence = events.map((event) => (event.type === 'status' ? event.status : event.progress));
      expect(sequence.at(-1)).toBe('completed');
      // The first attempt's progress comes before the retry's `pending`, the second's before `completed`.
      expect(sequence.indexOf(10)).toBeLessThan(sequence.lastIndexOf('pending'));
      expect(sequence.lastIndexOf('pending')).toBeLessThan(sequence.indexOf(20));
      expect(sequence.indexOf(20)).toBe(sequence.length - 2);
      await backend.close();
    });
  });
});

describe('handle.events() through a watch that delivers a version older than its first read', () => {
  it('should skip the stale claim version instead of repeating the progress read first', async () => {
    // Subscribe, then read: a change published before the read can arrive after it. Here
    // the claim's version (running, no progress) comes after a read that saw progress 1.
    const base: ComputationRecord = {
      key: 'k',
      task: 't',
      status: 'running',
      attempt: 1,
      maxAttempts: 1,
      createdAt: 1,
      startedAt: 2,
    };
    const versions: ComputationRecord[] = [
      base,
      { ...base, progress: 1 },
      { ...base, progress: 2 },
      { ...base, progress: 2, status: 'completed', value: 'done', finishedAt: 3 },
    ];
    const memory = new MemoryStore();
    const store = Object.assign(Object.create(memory) as ComputationStore, {
      get: async () => ({ ...base, progress: 1 }),
      watch: () =>
        (async function* () {
          yield* versions;
        })(),
    });
    const handle = new ComputationHandle('k', { store, backend: new InProcessBackend(), codec: jsonCodec });
    const events = await collect(handle.events());
    expect(events.map((event) => (event.type === 'status' ? event.status : event.progress))).toEqual([
      'running',
      1,
      2,
      'completed',
    ]);
  });
});
