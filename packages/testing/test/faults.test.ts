import {
  asyncCompute,
  type ComputationRecord,
  InProcessBackend,
  MemoryStore,
  type TaskLogger,
} from '@au/core';
import { describe, expect, it } from 'vitest';
import { faultyStore, flakyBackend, SyncTestBackend } from '../src/index';

function collectingLogger() {
  const errors: unknown[][] = [];
  const logger: TaskLogger = { debug() {}, info() {}, warn() {}, error: (...args) => errors.push(args) };
  return { logger, errors };
}

describe('faultyStore', () => {
  describe('when the claim fails under SyncTestBackend', () => {
    it('should reject the launch and record the failure with the arguments kept', async () => {
      const inner = new MemoryStore();
      const down = new Error('store is down');
      const store = faultyStore(inner, { method: 'claim', on: 1, error: down });
      const double = asyncCompute((x: number) => x * 2, { store, backend: new SyncTestBackend() });
      await expect(double(21)).rejects.toBe(down);
      const [record] = (await inner.list()).records as [ComputationRecord];
      // The executor never claimed it; the launch then marked it failed with the cause,
      // so nothing stays pending forever and the input is still there to retry by hand.
      expect(record.status).toBe('failed');
      expect(record.error?.message).toBe('store is down');
      expect(record.args).toEqual([21]);
      expect(record.attempt).toBe(0);
      expect(store.calls.update).toBe(2);
      expect(store.injected).toEqual([{ method: 'claim', call: 1, error: down }]);
    });
  });

  describe('when the final write fails under InProcessBackend', () => {
    it('should log the failure, keep the record and free the slot', async () => {
      const inner = new MemoryStore();
      const store = faultyStore(inner, { method: 'update', on: 1, error: new Error('write lost') });
      const { logger, errors } = collectingLogger();
      const backend = new InProcessBackend({ concurrency: 1, logger });
      const double = asyncCompute((x: number) => x * 2, { store, backend });
      const handle = await double(21);
      while (errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      // The claim made it running (attempt 1); update 1 (completed) failed. The record
      // says running, as after a worker crash: a durable backend would re-deliver it,
      // the in-process one logs it. Nothing is thrown unhandled and the record is kept.
      expect(await inner.get(handle.key)).toMatchObject({ status: 'running', attempt: 1, args: [21] });
      expect(errors).toHaveLength(1);
      expect(String((errors[0]![0] as { err: Error }).err.message)).toBe('write lost');
      expect(backend.runningCount).toBe(0);
      const next = await double(4);
      expect(await next.result({ timeout: 2000 })).toBe(8);
      expect(await handle.cancel()).toBe(true);
      expect(await handle.status()).toBe('cancelled');
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
