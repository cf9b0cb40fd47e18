import { describe, expect, it } from 'vitest';
import {
  COMPUTATION_STATUSES,
  type ComputationRecord,
  type ComputationStatus,
  isComputationStatus,
  isTerminalStatus,
  TERMINAL_STATUSES,
} from '../src/index';
import { applyPatch, canTransition } from '../src/kit';

const allowed: Record<ComputationStatus, ComputationStatus[]> = {
  pending: ['pending', 'running', 'failed', 'cancelled'],
  running: ['running', 'pending', 'completed', 'failed', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

function record(status: ComputationStatus, extra: Partial<ComputationRecord> = {}): ComputationRecord {
  return { key: 'k', task: 't', status, attempt: 1, maxAttempts: 1, createdAt: 1, ...extra };
}

describe('status machine', () => {
  describe('when checking every pair of statuses', () => {
    for (const from of COMPUTATION_STATUSES) {
      for (const to of COMPUTATION_STATUSES) {
        const expected = allowed[from].includes(to);
        it(`should ${expected ? 'allow' : 'refuse'} ${from} → ${to}`, () => {
          expect(canTransition(from, to)).toBe(expected);
        });
      }
    }
  });

  describe('when a status is terminal', () => {
    it('should be exactly completed, failed and cancelled', () => {
      expect(COMPUTATION_STATUSES.filter(isTerminalStatus)).toEqual([...TERMINAL_STATUSES]);
    });

    it('should recognise only the five status names', () => {
      expect(COMPUTATION_STATUSES.every(isComputationStatus)).toBe(true);
      expect(isComputationStatus('done')).toBe(false);
      expect(isComputationStatus(undefined)).toBe(false);
    });
  });
});

describe('applyPatch', () => {
  describe('when a cancel has won', () => {
    it('should refuse a late completion', () => {
      const cancelled = applyPatch(record('running'), { status: 'cancelled' }, ['pending', 'running']);
      expect(cancelled?.status).toBe('cancelled');
      expect(applyPatch(cancelled!, { status: 'completed', value: 42 }, ['running'])).toBeUndefined();
      expect(applyPatch(cancelled!, { status: 'completed', value: 42 })).toBeUndefined();
    });

    it('should refuse a value or an error written without a status', () => {
      expect(applyPatch(record('cancelled'), { value: 1 })).toBeUndefined();
      expect(
        applyPatch(record('completed', { value: 1 }), { error: { name: 'E', message: 'm' } }),
      ).toBeUndefined();
    });
  });

  describe('when the record is terminal', () => {
    it('should still accept bookkeeping fields', () => {
      const next = applyPatch(record('completed', { value: 1 }), { expiresAt: 99, meta: { seen: true } });
      expect(next).toMatchObject({ status: 'completed', value: 1, expiresAt: 99, meta: { seen: true } });
    });
  });

  describe('when ifStatus is given', () => {
    it('should apply only from a listed status', () => {
      expect(applyPatch(record('pending'), { status: 'running' }, ['running'])).toBeUndefined();
      expect(applyPatch(record('pending'), { status: 'running' }, ['pending'])?.status).toBe('running');
    });
  });

  describe('when a patch field is undefined', () => {
    it('should remove the field', () => {
      const next = applyPatch(record('running', { runAt: 5, error: { name: 'E', message: 'x' } }), {
        runAt: undefined,
        error: undefined,
        status: 'completed',
        value: 1,
      });
      expect(next).toBeDefined();
      expect('runAt' in next!).toBe(false);
      expect('error' in next!).toBe(false);
    });
  });

  describe('when the patch breaks the status machine', () => {
    it('should refuse pending → completed', () => {
      expect(applyPatch(record('pending'), { status: 'completed' })).toBeUndefined();
    });
  });
});
