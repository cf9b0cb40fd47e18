import { describe, expect, it } from 'vitest';
import { AuError, CancelledError, InProcessBackend, MemoryStore, ValidationError } from '../src/index';
import { cancelComputation, reviveError, serializeError } from '../src/kit';

describe('serializeError and reviveError', () => {
  describe('when the error is a CancelledError', () => {
    it('should keep the key and the reason as fields of their own', () => {
      const serialized = serializeError(new CancelledError({ key: 'job-1', reason: 'user: pressed stop' }));
      expect(serialized).toMatchObject({
        name: 'CancelledError',
        code: 'AU_CANCELLED',
        key: 'job-1',
        reason: 'user: pressed stop',
        message: '[au] computation "job-1" was cancelled: user: pressed stop',
      });
    });

    it('should write no reason field when the cancel gave none', () => {
      const serialized = serializeError(new CancelledError({ key: 'job-2' }));
      expect(serialized.key).toBe('job-2');
      expect('reason' in serialized).toBe(false);
    });

    it('should revive a CancelledError with its key, reason, message and stack', () => {
      const original = new CancelledError({ key: 'job-3', reason: 'a reason: with a colon' });
      const revived = reviveError(serializeError(original));
      expect(revived).toBeInstanceOf(CancelledError);
      expect(CancelledError.isInstance(revived)).toBe(true);
      const cancelled = revived as CancelledError;
      expect(cancelled.key).toBe('job-3');
      expect(cancelled.reason).toBe('a reason: with a colon');
      expect(cancelled.message).toBe(original.message);
      expect(cancelled.stack).toBe(original.stack);
      expect(cancelled.code).toBe('AU_CANCELLED');
    });

    it('should keep the fields through a second serialization of a revived copy', () => {
      const once = serializeError(new CancelledError({ key: 'job-4', reason: 'twice' }));
      const twice = serializeError(reviveError(once));
      expect(twice).toEqual(once);
    });

    it('should revive a cancel stored before reasons were fields with no reason, not a guess from the message', () => {
      const revived = reviveError({
        name: 'CancelledError',
        code: 'AU_CANCELLED',
        message: '[au] computation "old" was cancelled: from an old record',
      }) as CancelledError;
      expect(CancelledError.isInstance(revived)).toBe(true);
      expect(revived.reason).toBeUndefined();
      expect(revived.message).toBe('[au] computation "old" was cancelled: from an old record');
    });
  });

  describe('when the error is another au error', () => {
    it('should carry no key or reason fields and revive as an AuError', () => {
      const serialized = serializeError(new ValidationError({ task: 't', issues: [] }));
      expect('key' in serialized || 'reason' in serialized).toBe(false);
      const revived = reviveError(serialized);
      expect(revived).not.toBeInstanceOf(CancelledError);
      expect(AuError.isInstance(revived)).toBe(true);
    });
  });

  describe('when a computation is cancelled through the store', () => {
    it('should store the reason as a field of the record error', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      await store.create({
        key: 'c-1',
        task: 't',
        status: 'pending',
        attempt: 0,
        maxAttempts: 1,
        createdAt: 1,
      });
      expect(await cancelComputation({ store, backend, key: 'c-1', reason: 'no longer needed' })).toBe(true);
      const record = await store.get('c-1');
      expect(record?.error).toMatchObject({ key: 'c-1', reason: 'no longer needed' });
      expect((reviveError(record!.error!) as CancelledError).reason).toBe('no longer needed');
      await backend.close();
      await store.close();
    });
  });
});
