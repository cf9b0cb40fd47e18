import { type ComputationRecord, MemoryStore } from '@au/core';
import { claimComputation, isTransientStoreError } from '@au/core/kit';
import { describe, expect, it } from 'vitest';
import { outageStore } from '../src/index';

const pending = (key: string): ComputationRecord => ({
  key,
  task: 't',
  status: 'pending',
  attempt: 0,
  maxAttempts: 1,
  createdAt: 1,
});

describe('outageStore', () => {
  describe('when no outage is on', () => {
    it('should pass every call through and count it', async () => {
      const inner = new MemoryStore();
      const store = outageStore(inner);
      await store.create(pending('a'));
      expect((await store.get('a'))?.status).toBe('pending');
      expect(store.active).toBe(false);
      expect(store.calls).toEqual({ create: 1, get: 1 });
      expect(store.failures).toEqual({});
      expect(store.name).toBe('memory');
    });
  });

  describe('when an outage is on', () => {
    it('should fail get, update and claim with a connection error that core retries', async () => {
      const inner = new MemoryStore();
      const store = outageStore(inner);
      await store.create(pending('a'));
      store.begin();
      const errors = await Promise.all([
        store.get('a').catch((error: unknown) => error),
        store.update('a', { progress: 1 }).catch((error: unknown) => error),
        store.claim!('a', { now: 2 }).catch((error: unknown) => error),
      ]);
      for (const error of errors) {
        expect(error).toBeInstanceOf(Error);
        expect((error as Error & { code?: string }).code).toBe('ECONNREFUSED');
        expect((error as Error).message).toMatch(/store memory is unreachable \(a simulated outage\)/);
        expect(isTransientStoreError(error)).toBe(true);
      }
      expect(store.failures).toEqual({ get: 1, update: 1, claim: 1 });
      expect((await inner.get('a'))?.status).toBe('pending');
    });

    it('should keep create, delete and list working', async () => {
      const store = outageStore(new MemoryStore());
      store.begin();
      await store.create(pending('b'));
      expect((await store.list()).records.map((record) => record.key)).toEqual(['b']);
      expect(await store.delete('b')).toBe(true);
      expect(store.failures).toEqual({});
    });

    it('should fail only the methods it was given', async () => {
      const store = outageStore(new MemoryStore(), { methods: ['create'] });
      store.begin();
      await expect(store.create(pending('c'))).rejects.toThrow(/create failed with ECONNREFUSED/);
      expect(await store.get('c')).toBeUndefined();
    });
  });

  describe('when the outage ends', () => {
    it('should answer again, and a claim retried by core should land once', async () => {
      const inner = new MemoryStore();
      const store = outageStore(inner);
      await store.create(pending('d'));
      store.begin();
      const claiming = claimComputation(
        store,
        'd',
        { now: 5 },
        { retry: { initialDelay: 10, maxDelay: 20 } },
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(store.failures.claim).toBeGreaterThan(0);
      expect((await inner.get('d'))?.status).toBe('pending');
      store.end();
      const claim = await claiming;
      expect(claim.claimed).toBe(true);
      expect(await inner.get('d')).toMatchObject({ status: 'running', attempt: 1, startedAt: 5 });
      expect(store.active).toBe(false);
      expect(store.outages).toBe(1);
    });
  });
});
