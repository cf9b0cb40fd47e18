import { describe, expect, it } from 'vitest';
import {
  asyncCompute,
  type ComputationRecord,
  type ComputationStore,
  InProcessBackend,
  type Invocation,
  KeyExistsError,
  MemoryStore,
} from '../src/index';

/**
 * An in-process backend that also offers `createAndLaunch` (as the Postgres queue does
 * over its own schema): it creates the records and launches them itself, and counts the
 * calls. `answer` decides what it does with each call.
 */
class OneWriteBackend extends InProcessBackend {
  calls: { records: number; invocations: number }[] = [];
  /**
   * `take`: writes and launches; `decline`: writes nothing, returns false; `lose-reply`:
   * writes and launches, then throws (a reply lost after the write landed whole);
   * `{ refuse }`: throws before writing, and `launch` refuses too (a closed backend);
   * another error: writes the records, launches nothing, throws it.
   */
  answer: 'take' | 'decline' | 'lose-reply' | { refuse: Error } | Error = 'take';

  async createAndLaunch(
    store: ComputationStore,
    records: readonly ComputationRecord[],
    invocations: readonly Invocation[],
  ): Promise<boolean> {
    this.calls.push({ records: records.length, invocations: invocations.length });
    const answer = this.answer;
    if (answer === 'decline') return false;
    if (typeof answer === 'object' && 'refuse' in answer) throw answer.refuse;
    await store.createMany!(records);
    if (answer instanceof Error) throw answer;
    await this.launchMany(invocations);
    if (answer === 'lose-reply') throw new Error('reply lost');
    return true;
  }

  override async launch(invocation: Invocation): Promise<void> {
    if (typeof this.answer === 'object' && 'refuse' in this.answer) throw this.answer.refuse;
    return super.launch(invocation);
  }
}

function setup() {
  const store = new MemoryStore();
  const backend = new OneWriteBackend();
  let creates = 0;
  const create = store.create.bind(store);
  store.create = async (record) => {
    creates += 1;
    return create(record);
  };
  const double = asyncCompute((x: number) => x * 2, { store, backend });
  return { store, backend, double, creates: () => creates };
}

describe('a backend with createAndLaunch', () => {
  describe('when a computation is launched', () => {
    it('should create and launch it through the backend, with no store.create of its own', async () => {
      const { backend, double, creates } = setup();
      const handle = await double(21);
      expect(await handle.result()).toBe(42);
      expect(backend.calls).toEqual([{ records: 1, invocations: 1 }]);
      expect(creates()).toBe(0);
    });
  });

  describe('when a batch is launched', () => {
    it('should hand the whole batch over in one call', async () => {
      const { backend, double } = setup();
      const handles = await double.map([[1], [2], [3]]);
      expect(await Promise.all(handles.map((handle) => handle.result()))).toEqual([2, 4, 6]);
      expect(backend.calls).toEqual([{ records: 3, invocations: 3 }]);
    });
  });

  describe('when the backend declines', () => {
    it('should create the record and launch it the usual way', async () => {
      const { backend, double, creates } = setup();
      backend.answer = 'decline';
      const handle = await double(4);
      expect(await handle.result()).toBe(8);
      expect(backend.calls).toHaveLength(1);
      expect(creates()).toBe(1);
    });
  });

  describe('when its write fails after the records may have landed (a lost reply)', () => {
    it('should reject and leave the records failed, not pending', async () => {
      const { store, backend, double } = setup();
      backend.answer = new Error('reply lost');
      await expect(double.map([[1], [2]])).rejects.toThrow('reply lost');
      await expect(double(3)).rejects.toThrow('reply lost');
      const { records } = await store.list();
      expect(records).toHaveLength(3);
      expect(
        records.every((record) => record.status === 'failed' && record.error?.message === 'reply lost'),
      ).toBe(true);
    });
  });

  describe('when a key is taken', () => {
    it('should reject with KeyExistsError and leave the holder alone', async () => {
      const { store, backend, double } = setup();
      const holder: ComputationRecord = {
        key: 'held',
        task: 'x',
        status: 'pending',
        attempt: 0,
        maxAttempts: 1,
        createdAt: 1,
      };
      await store.create(holder);
      backend.answer = new KeyExistsError({ key: 'held', store: 'memory' });
      await expect(double(5)).rejects.toThrow(KeyExistsError);
      expect((await store.get('held'))?.status).toBe('pending');
    });
  });

  describe('when the launch has a key', () => {
    it('should create and launch it through the backend while the key is free', async () => {
      const { backend, double, creates } = setup();
      const keyed = await double.launch([3], { key: 'k-1' });
      expect(await keyed.result()).toBe(6);
      expect(backend.calls).toEqual([{ records: 1, invocations: 1 }]);
      expect(creates()).toBe(0);
    });

    it('should join the computation holding the key, launching nothing more', async () => {
      const { store, backend, double } = setup();
      const first = await double.launch([3], { key: 'k-2' });
      expect(await first.result()).toBe(6);
      const again = await double.launch([3], { key: 'k-2' });
      expect(await again.result()).toBe(6);
      expect(backend.calls).toHaveLength(2);
      const { records } = await store.list();
      expect(records.map((record) => [record.key, record.attempt])).toEqual([['k-2', 1]]);
    });

    it('should leave a refused launch failed on its key, with the refusal', async () => {
      const { store, backend, double } = setup();
      const refusal = new Error('refused on purpose');
      backend.answer = { refuse: refusal };
      await expect(double.launch([3], { key: 'k-3' })).rejects.toBe(refusal);
      const record = await store.get('k-3');
      expect(record?.status).toBe('failed');
      expect(record?.error?.message).toBe('refused on purpose');
    });

    it('should join its own write when the reply was lost after it landed', async () => {
      const { store, backend, double } = setup();
      backend.answer = 'lose-reply';
      const keyed = await double.launch([5], { key: 'k-4' });
      expect(await keyed.result()).toBe(10);
      expect((await store.get('k-4'))?.attempt).toBe(1);
    });
  });

  describe('when the launch depends on parents that completed', () => {
    it('should use it, as nothing has to wait', async () => {
      const { backend, double } = setup();
      const parent = await double(1);
      await parent.result();
      const child = await double.launch([2], { dependsOn: [parent.key] });
      expect(await child.result()).toBe(4);
      expect(backend.calls).toHaveLength(2);
    });
  });
});
