import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/index';
import { forwardingLogger, reviveError, serializeError, ThrottledProgress } from '../src/kit';

describe('ThrottledProgress', () => {
  describe('when values are reported faster than the interval', () => {
    it('should send the first at once, then only the newest once per interval, and keep the last', async () => {
      const sent: unknown[] = [];
      const progress = new ThrottledProgress((value) => sent.push(value), 40);
      progress.report(1);
      progress.report(2);
      progress.report(3);
      expect(sent).toEqual([1]);
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(sent).toEqual([1, 3]);
      progress.report(4);
      expect(progress.stop()).toEqual({ value: 4 });
      progress.report(5);
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(sent.length).toBeLessThanOrEqual(3);
      expect(sent).not.toContain(5);
    });
  });
});

describe('forwardingLogger', () => {
  it('should forward each level with its arguments', () => {
    const lines: [string, unknown[]][] = [];
    const logger = forwardingLogger((level, args) => lines.push([level, args]));
    logger.info({ n: 1 }, 'hello');
    logger.error('bad');
    expect(lines).toEqual([
      ['info', [{ n: 1 }, 'hello']],
      ['error', ['bad']],
    ]);
  });
});

describe('reviveError', () => {
  it('should rebuild name, message, code and stack, and au errors as AuError', () => {
    const original = new ValidationError({ task: 't', issues: [{ path: ['n'], message: 'too big' }] });
    const revived = reviveError(serializeError(original));
    expect(revived.name).toBe('ValidationError');
    expect(revived.message).toBe(original.message);
    expect(revived.stack).toBe(original.stack);
    expect(ValidationError.isInstance(revived)).toBe(true);
    const plain = reviveError(serializeError(Object.assign(new RangeError('nope'), { code: 'E_RANGE' })));
    expect(plain).toMatchObject({ name: 'RangeError', message: 'nope', code: 'E_RANGE' });
  });
});
