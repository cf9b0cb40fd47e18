import { progressFraction } from '@au/client';
import { closestName } from '@au/core/kit';
import { describe, expect, it } from 'vitest';
import { CliError } from '../src/errors/cli-error';
import { parseInput } from '../src/parse-input';

describe('parseInput', () => {
  describe('when given key=value pairs', () => {
    it.each([
      [['n=5'], { n: 5 }],
      [['name=ada', 'ok=true'], { name: 'ada', ok: true }],
      [['tags=["a","b"]'], { tags: ['a', 'b'] }],
      [['a.b=1', 'a.c=x'], { a: { b: 1, c: 'x' } }],
      [['text=a=b'], { text: 'a=b' }],
      [['quoted="5"'], { quoted: '5' }],
    ])('should read %j as %j', (pairs, expected) => {
      expect(parseInput(undefined, pairs)).toEqual(expected);
    });
  });

  describe('when given --input and pairs', () => {
    it('should merge the pairs over the JSON', () => {
      expect(parseInput('{"n":1,"m":2}', ['n=3'])).toEqual({ n: 3, m: 2 });
    });
  });

  describe('when the input is wrong', () => {
    it.each([
      ['invalid JSON', '{n:1', []],
      ['a pair without =', undefined, ['n']],
      ['pairs over a JSON array', '[1]', ['n=1']],
      ['a prototype key', undefined, ['__proto__.x=1']],
      ['a missing file', '@/nonexistent/input.json', []],
    ])('should refuse %s with exit code 2', (_name, input, pairs) => {
      try {
        parseInput(input, pairs as string[]);
        expect.unreachable();
      } catch (error) {
        expect(CliError.isInstance(error) && error.exitCode).toBe(2);
      }
    });
  });
});

describe('closestName', () => {
  describe('when a word is a likely typo', () => {
    it.each([
      ['factorail', 'factorial'],
      ['prime', 'primes'],
      ['SLEEP', 'sleep'],
    ])('should suggest a match for %s', (word, expected) => {
      expect(closestName(word, ['factorial', 'primes', 'sleep', 'fail'])).toBe(expected);
    });
  });

  describe('when nothing is close', () => {
    it('should suggest nothing', () => {
      expect(closestName('resize-image', ['factorial', 'primes', 'sleep', 'fail'])).toBeUndefined();
    });
  });
});

describe('progressFraction', () => {
  describe('when reading the shapes tasks report', () => {
    it.each([
      [0.25, 0.25],
      [40, 0.4],
      [{ done: 3, total: 10 }, 0.3],
      [{ checked: 50, total: 200, found: 3 }, 0.25],
      [{ percent: 70 }, 0.7],
      [{ stage: 'download' }, undefined],
      ['half', undefined],
      [{ done: 5, total: 0 }, undefined],
    ])('should read %j as %j', (progress, expected) => {
      expect(progressFraction(progress)).toBe(expected);
    });
  });
});
