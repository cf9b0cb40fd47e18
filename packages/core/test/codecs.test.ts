import { describe, expect, it } from 'vitest';
import { jsonCodec, structuredCodec } from '../src/index';

describe('codecs', () => {
  describe('when using jsonCodec', () => {
    it('should round-trip JSON values and turn Dates into strings', () => {
      const value = { a: [1, 'two', null], when: new Date(0) };
      expect(jsonCodec.decode(jsonCodec.encode(value))).toEqual({
        a: [1, 'two', null],
        when: '1970-01-01T00:00:00.000Z',
      });
      expect(jsonCodec.encode(undefined)).toBeNull();
    });

    it('should refuse a BigInt with advice', () => {
      expect(() => jsonCodec.encode(10n)).toThrow(/structuredCodec/);
    });

    it('should copy objects so later mutation does not leak into the store', () => {
      const value = { n: 1 };
      const encoded = jsonCodec.encode(value) as { n: number };
      value.n = 2;
      expect(encoded.n).toBe(1);
    });
  });

  describe('when using structuredCodec', () => {
    it('should keep Date, Map, Set, BigInt, typed arrays and Error through JSON', () => {
      const value = {
        when: new Date(5),
        map: new Map([['a', 1]]),
        set: new Set([1, 2]),
        big: 2n ** 70n,
        bytes: new Uint8Array([1, 2, 3]),
        error: new RangeError('nope'),
      };
      const stored = JSON.parse(JSON.stringify(structuredCodec.encode(value)));
      const decoded = structuredCodec.decode(stored) as typeof value;
      expect(decoded.when).toEqual(new Date(5));
      expect(decoded.map.get('a')).toBe(1);
      expect([...decoded.set]).toEqual([1, 2]);
      expect(decoded.big).toBe(2n ** 70n);
      expect([...decoded.bytes]).toEqual([1, 2, 3]);
      expect(decoded.error).toBeInstanceOf(RangeError);
      expect(decoded.error.message).toBe('nope');
    });

    it('should refuse data it did not write', () => {
      expect(() => structuredCodec.decode({ plain: true })).toThrow(/structuredCodec/);
    });
  });
});
