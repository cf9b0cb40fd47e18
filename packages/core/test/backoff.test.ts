import { describe, expect, it } from 'vitest';
import { computeBackoff } from '../src/kit';

describe('computeBackoff', () => {
  describe('when the backoff is fixed, linear or exponential', () => {
    it.each([
      ['fixed', [100, 100, 100, 100]],
      ['linear', [100, 200, 300, 400]],
      ['exponential', [100, 200, 400, 800]],
    ] as const)('should grow %s', (backoff, expected) => {
      expect(
        [1, 2, 3, 4].map((attempt) => computeBackoff({ attempts: 5, backoff, delay: 100 }, attempt)),
      ).toEqual(expected);
    });

    it('should default to exponential from 1000 ms', () => {
      expect(computeBackoff({ attempts: 3 }, 2)).toBe(2000);
    });
  });

  describe('when maxDelay is set', () => {
    it('should cap the delay', () => {
      expect(computeBackoff({ attempts: 20, backoff: 'exponential', delay: 100, maxDelay: 1000 }, 10)).toBe(
        1000,
      );
    });
  });

  describe('when jitter is on', () => {
    it('should spread ±50 % with jitter: true', () => {
      const policy = { attempts: 3, backoff: 'fixed' as const, delay: 1000, jitter: true };
      expect(computeBackoff(policy, 1, () => 0)).toBe(500);
      expect(computeBackoff(policy, 1, () => 0.999999)).toBe(1500);
    });

    it('should stay below the delay with a fractional jitter', () => {
      const policy = { attempts: 3, backoff: 'fixed' as const, delay: 1000, jitter: 0.2 };
      expect(computeBackoff(policy, 1, () => 0)).toBe(800);
      expect(computeBackoff(policy, 1, () => 0.999999)).toBe(1000);
    });
  });

  describe('when backoff is a function', () => {
    it('should use its value for the failed attempt', () => {
      expect(computeBackoff({ attempts: 3, backoff: (attempt) => attempt * 7 }, 3)).toBe(21);
    });
  });
});
