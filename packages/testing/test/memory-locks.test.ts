import { MemoryLocks } from '@au/core';
import { describe, expect, it } from 'vitest';
import { createVirtualClock, testLocks } from '../src/index';

describe('MemoryLocks', () => {
  // One provider shared by every "holder": memory locks live in one object.
  const shared = new MemoryLocks();
  testLocks('MemoryLocks', () => shared);

  describe('when time is virtual', () => {
    it('should expire a hold exactly at its ttl on the given clock', async () => {
      const clock = createVirtualClock();
      const locks = new MemoryLocks({ clock });
      const held = await locks.acquire('k', 1000);
      await clock.advance(999);
      expect(await locks.acquire('k', 1000)).toBeUndefined();
      await clock.advance(1);
      const next = await locks.acquire('k', 1000);
      expect(next?.token).toBe((held?.token ?? 0) + 1);
    });
  });

  describe('when options are misspelled', () => {
    it('should refuse them', () => {
      expect(() => new MemoryLocks({ clcok: undefined } as never)).toThrow(/unknown option "clcok"/);
    });
  });
});
