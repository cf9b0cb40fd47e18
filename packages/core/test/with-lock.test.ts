import { describe, expect, it } from 'vitest';
import { LockLostError, type LockProvider, MemoryLocks, withLock } from '../src/index';

/** MemoryLocks whose renewals fail as an unreachable server's would, once `down` is set. */
function flakyRenewals(): LockProvider & { down: boolean; renewals: number } {
  const inner = new MemoryLocks();
  return {
    name: 'flaky',
    down: false,
    renewals: 0,
    acquire: (key, ttl) => inner.acquire(key, ttl),
    release: (key, token) => inner.release(key, token),
    async renew(key, token, ttl) {
      this.renewals += 1;
      if (this.down) throw new Error('connection refused');
      return inner.renew(key, token, ttl);
    },
  };
}

describe('withLock', () => {
  describe('when renewals keep failing with errors', () => {
    it('should retry them, then abort the signal with LockLostError once the hold has run out', async () => {
      const locks = flakyRenewals();
      locks.down = true;
      let reason: unknown;
      const outcome = await withLock(
        locks,
        'k',
        ({ signal }) =>
          new Promise((resolve) => {
            signal.addEventListener('abort', () => {
              reason = signal.reason;
              resolve('stopped');
            });
          }),
        { ttl: 300 },
      ).catch((error: unknown) => error);
      expect(LockLostError.isInstance(outcome)).toBe(true);
      expect(reason).toBe(outcome);
      expect(((outcome as LockLostError).cause as Error).message).toBe('connection refused');
      // Tried again more often than once per ttl/3 before giving up.
      expect(locks.renewals).toBeGreaterThan(1);
    });
  });

  describe('when a renewal fails once and then succeeds', () => {
    it('should keep the lock', async () => {
      const locks = flakyRenewals();
      const value = await withLock(
        locks,
        'k',
        async ({ signal }) => {
          locks.down = true;
          while (locks.renewals < 1) await new Promise((resolve) => setTimeout(resolve, 10));
          locks.down = false;
          const before = locks.renewals;
          while (locks.renewals < before + 2) await new Promise((resolve) => setTimeout(resolve, 10));
          return signal.aborted;
        },
        { ttl: 3000 },
      );
      expect(value).toBe(false);
    });
  });

  describe('when the first argument is not a provider', () => {
    it('should throw a TypeError saying what is expected', async () => {
      await expect(withLock({} as LockProvider, 'k', () => 1, { ttl: 1000 })).rejects.toThrow(
        /must be a LockProvider/,
      );
      await expect(
        withLock(new MemoryLocks(), 'k', () => 1, undefined as unknown as { ttl: number }),
      ).rejects.toThrow(/options \{ ttl \} are required/);
    });
  });
});
