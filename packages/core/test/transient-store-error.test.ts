import { describe, expect, it } from 'vitest';
import { AuError, ClosedError, KeyExistsError, StoreUnavailableError } from '../src/index';
import { isTransientStoreError, persist } from '../src/kit';

/** What a store throws for a lost connection: an au error whose code says the service is down. */
class ServiceDownError extends AuError {
  constructor() {
    super('AU_REDIS_UNAVAILABLE', { message: '[au] [store-test] Redis is unreachable' });
    this.name = 'ServiceDownError';
  }
}

describe('isTransientStoreError', () => {
  describe('when a store wraps a lost connection in an au error', () => {
    it('should call a code ending in _UNAVAILABLE transient and other au errors not', () => {
      expect(isTransientStoreError(new ServiceDownError())).toBe(true);
      expect(isTransientStoreError(new Error('ECONNREFUSED'))).toBe(true);
      expect(isTransientStoreError(new ClosedError({ component: 'store test' }))).toBe(false);
      expect(isTransientStoreError(new KeyExistsError({ key: 'k', store: 'test' }))).toBe(false);
      expect(isTransientStoreError(new TypeError('bug'))).toBe(false);
    });

    it('should let persist try again until the store answers', async () => {
      let tries = 0;
      const written = await persist({
        operation: 'claim',
        key: 'k',
        write: async () => {
          tries += 1;
          if (tries < 3) throw new ServiceDownError();
          return 'written';
        },
        landed: async () => undefined,
        retry: { timeout: 5000, initialDelay: 1, maxDelay: 2 },
      });
      expect(written).toBe('written');
      expect(tries).toBe(3);
    });

    it('should give up with StoreUnavailableError past the budget', async () => {
      const error = await persist({
        operation: 'complete',
        key: 'k',
        write: async () => {
          throw new ServiceDownError();
        },
        landed: async () => undefined,
        retry: { timeout: 30, initialDelay: 1, maxDelay: 5 },
      }).catch((caught: unknown) => caught);
      expect(StoreUnavailableError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/could not complete computation "k"/);
    });
  });
});
