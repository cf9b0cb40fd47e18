import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  ComputationHandle,
  ComputationNotFoundError,
  type ComputationRecord,
  type ComputationStore,
  InProcessBackend,
  jsonCodec,
  MemoryStore,
} from '../src/index';

/** A MemoryStore seen as a store without `watch` (handles poll it), counting its reads. */
function countingPollingStore(): { store: ComputationStore; inner: MemoryStore; reads: () => number } {
  const inner = new MemoryStore();
  let reads = 0;
  const store = new Proxy(inner, {
    get(target, property) {
      if (property === 'watch') return undefined;
      if (property === 'capabilities') return { ...target.capabilities, watch: false };
      if (property === 'get') {
        return (key: string) => {
          reads += 1;
          return target.get(key);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as ComputationStore;
  return { store, inner, reads: () => reads };
}

function pendingRecord(key: string): ComputationRecord {
  return {
    key,
    task: 'double',
    status: 'pending',
    args: { n: 2 },
    attempt: 0,
    maxAttempts: 1,
    createdAt: Date.now(),
  };
}

const handleOn = (store: ComputationStore, key: string) =>
  new ComputationHandle<number>(key, { store, backend: new InProcessBackend(), codec: jsonCodec });

describe('handle.result() on a store without watch', () => {
  it('should read a pending record once, then wait for the next poll instead of reading again', async () => {
    const { store, inner, reads } = countingPollingStore();
    await inner.create(pendingRecord('k'));
    const result = handleOn(store, 'k').result({ timeout: 5000 });
    // Several turns of the event loop, well inside the first poll interval (5 ms).
    for (let turn = 0; turn < 3; turn++) await nextTurn();
    expect(reads()).toBe(1);
    await inner.update('k', { status: 'running', attempt: 1, startedAt: Date.now() });
    await inner.update('k', { status: 'completed', value: 4, finishedAt: Date.now() });
    await expect(result).resolves.toBe(4);
  });

  it('should resolve a completed record with one read', async () => {
    const { store, inner, reads } = countingPollingStore();
    await inner.create({ ...pendingRecord('done'), status: 'completed', value: 4, finishedAt: Date.now() });
    await expect(handleOn(store, 'done').result()).resolves.toBe(4);
    expect(reads()).toBe(1);
  });

  it('should reject ComputationNotFoundError for a key without a record', async () => {
    const { store } = countingPollingStore();
    await expect(handleOn(store, 'missing').result()).rejects.toSatisfy((error) =>
      ComputationNotFoundError.isInstance(error),
    );
  });
});
