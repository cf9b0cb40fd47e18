import { describe, expect, it } from 'vitest';
import { assertValidKey, generateKey, InvalidKeyError, isValidKey } from '../src/index';

describe('keys', () => {
  describe('when generated', () => {
    it('should be valid UUIDv7 strings that sort in creation order', () => {
      const keys = Array.from({ length: 5000 }, () => generateKey());
      for (const key of keys.slice(0, 50)) {
        expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(isValidKey(key)).toBe(true);
      }
      expect([...keys].sort()).toEqual(keys);
      expect(new Set(keys).size).toBe(keys.length);
    });

    it('should sort by the given time across milliseconds', () => {
      const early = generateKey(Date.UTC(2030, 0, 1));
      const late = generateKey(Date.UTC(2030, 0, 2));
      expect(early < late).toBe(true);
    });
  });

  describe('when given by the caller', () => {
    it.each([
      ['order-42', true],
      ['user:7.invoice_2024-01', true],
      ['a'.repeat(200), true],
      ['a'.repeat(201), false],
      ['', false],
      ['../etc/passwd', false],
      ['a/b', false],
      ['a\\b', false],
      ['..', false],
      ['.', false],
      ['with space', false],
      ['emoji🙂', false],
      ['new\nline', false],
    ])('should judge %j valid: %s', (key, valid) => {
      expect(isValidKey(key)).toBe(valid);
    });

    it('should throw InvalidKeyError naming the component and the rule', () => {
      let caught: unknown;
      try {
        assertValidKey('../x', 'store-fs');
      } catch (error) {
        caught = error;
      }
      expect(InvalidKeyError.isInstance(caught)).toBe(true);
      expect((caught as Error).message).toContain('[au] [store-fs] key "../x" is not a valid key');
      expect((caught as InvalidKeyError).code).toBe('AU_INVALID_KEY');
    });

    it('should refuse non-strings', () => {
      expect(isValidKey(42)).toBe(false);
      expect(isValidKey(undefined)).toBe(false);
    });
  });
});
