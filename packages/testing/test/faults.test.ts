import {
  asyncCompute,
  type ComputationRecord,
  InProcessBackend,
  MemoryStore,
  StoreUnavailableError,
} from '@au/core';
import { describe, expect, it } from 'vitest';
import { faultyStore, flakyBackend, SyncTestBackend } from '../src/index';

describe('faultyStore', () => {
  describe('when the claim fails once under SyncTestBackend', () => {
    it('should try the claim again and complete', async () => {
      const inner = new MemoryStore();
      const down = new Error('store is down');
      const store = faultyStore(inner, { method: 'claim', on: 1, error: down });
      const double = asyncCompute((x: number) => x * 2, { store, backend: new SyncTestBackend() });
      const handle = await double(21);
      expect(await handle.result()).toBe(42);
      expect(await inner.get(handle.key)).toMatchObject({ status: 'completed', attempt: 1 });
      expect(store.injected).toEqual([{ method: 'claim', call: 1, error: down }]);
    });
  });

  describe('when the claim fails longer than the store retry under SyncTestBackend', () => {
    it('should reject the launch and record the failure with the arguments kept', async () => {
      const inner = new MemoryStore();
      const down = new Error('store is down');
      const store = faultyStore(inner, { method: 'claim', error: down });
      const backend = new SyncTestBackend({ storeRetry: { timeout: 100 } });
      const double = asyncCompute((x: number) => x * 2, { store, backend });
      const failure = await double(21).catch((error: unknown) => error);
      expect(StoreUnavailableError.isInstance(failure)).toBe(true);
      const [record] = (await inner.list()).records as [ComputationRecord];
      // The executor never claimed it; the launch then marked it failed (pending → failed)
      // with the cause, so nothing stays pending forever and the input is kept.
      expect(record.status).toBe('failed');
      expect(record.error?.name).toBe('StoreUnavailableError');
      expect(record.error?.message).toContain('store is down');
      expect(record.args).toEqual([21]);
      expect(record.attempt).toBe(0);
    });
  });

  describe('when the final write fails once under InProcessBackend', () => {
    it('should write it again and complete once', async () => {
      const inner = new MemoryStore();
      const lost = new Error('write lost');
      const store = faultyStore(inner, { method: 'update', on: 1, error: lost });
      const backend = new InProcessBackend({ concurrency: 1 });
      const double = asyncCompute((x: number) => x * 2, { store, backend });
      const handle = await double(21);
      expect(await handle.result({ timeout: 5000 })).toBe(42);
      expect(await inner.get(handle.key)).toMatchObject({ status: 'completed', attempt: 1, value: 42 });
      expect(store.injected).toEqual([{ method: 'update', call: 1, error: lost }]);
      await backend.close();
    });
  });

  describe('when the final write lands but its reply is lost', () => {
    it('should recognise its own write and report completed', async () => {
      const inner = new MemoryStore();
      const store = faultyStore(inner, {
        method: 'update',
        on: 1,
        phase: 'after',
        error: new Error('ack lost'),
      });
      const backend = new InProcessBackend({ concurrency: 1 });
      const double = asyncCompute((x: number) => x * 2, { store, backend });
      const handle = await double(21);
      expect(await handle.result({ timeout: 5000 })).toBe(42);
      expect(store.calls.update).toBe(1);
      await backend.close();
    });
  });

  describe('when a fault fails after the call went through', () => {
    it('should have written the change and still reject', async () => {
      const inner = new MemoryStore();
      const store = faultyStore(inner, { method: 'create', phase: 'after', error: new Error('ack lost') });
      const record: ComputationRecord = {
        key: 'k1',
        task: 't',
        status: 'pending',
        attempt: 0,
        maxAttempts: 1,
        createdAt: 1,
      };
      await expect(store.create(record)).rejects.toThrow('ack lost');
      expect(await inner.get('k1')).toEqual(record);
    });
  });

  describe('when latency is injected', () => {
    it('should delay the chosen calls only and count every call', async () => {
      const store = faultyStore(new MemoryStore(), [{ method: 'get', on: [2], latency: 60 }]);
      const started = Date.now();
      await store.get('a');
      const afterFirst = Date.now();
      await store.get('b');
      const afterSecond = Date.now();
      expect(afterSecond - afterFirst).toBeGreaterThanOrEqual(55);
      expect(afterFirst - started).toBeLessThan(afterSecond - afterFirst);
      expect(store.calls.get).toBe(2);
      expect(store.name).toBe('memory');
      expect(store.capabilities.watch).toBe(true);
    });

    it('should heal when the faults are replaced', async () => {
      const store = faultyStore(new MemoryStore(), { method: 'list', error: new Error('no list') });
      await expect(store.list()).rejects.toThrow('no list');
      store.setFaults([]);
      await expect(store.list()).resolves.toEqual({ records: [] });
    });
  });
});

describe('flakyBackend', () => {
  describe('when a launch is refused', () => {
    it('should reject that launch, mark its record failed, and accept the next', async () => {
      const store = new MemoryStore();
      const backend = flakyBackend(new InProcessBackend(), {
        method: 'launch',
        on: 1,
        error: new Error('queue down'),
      });
      const double = asyncCompute((x: number) => x * 2, { store, backend, ttl: 60 });
      await expect(double(1)).rejects.toThrow('queue down');
      const [failed] = (await store.list()).records as [ComputationRecord];
      expect(failed.status).toBe('failed');
      expect(failed.error?.message).toBe('queue down');
      expect(failed.expiresAt).toBe(failed.finishedAt! + 60_000);
      const handle = await double(2);
      expect(await handle.result({ timeout: 2000 })).toBe(4);
      expect(backend.calls.launch).toBe(2);
      await backend.close();
    });
  });

  describe('when cancel fails', () => {
    it('should still record the cancel (the store decides first)', async () => {
      const store = new MemoryStore();
      const inner = new InProcessBackend();
      const backend = flakyBackend(inner, { method: 'cancel', error: new Error('broadcast lost') });
      const wait = asyncCompute((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)), {
        store,
        backend,
      });
      const handle = await wait(200);
      expect(await handle.cancel()).toBe(true);
      expect(await handle.status()).toBe('cancelled');
      await inner.close();
    });
  });
});
