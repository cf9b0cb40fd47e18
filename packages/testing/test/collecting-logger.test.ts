import { describe, expect, it } from 'vitest';
import { collectingLogger } from '../src/index';

describe('collectingLogger', () => {
  describe('when lines are logged', () => {
    it('should keep each with its level and arguments, in order', () => {
      const log = collectingLogger();
      log.info({ key: 'k1' }, 'started');
      log.warn('slow');
      expect(log.lines).toEqual([
        { level: 'info', args: [{ key: 'k1' }, 'started'], bindings: {} },
        { level: 'warn', args: ['slow'], bindings: {} },
      ]);
    });

    it('should collect the lines of children with their bindings', () => {
      const log = collectingLogger();
      const child = log.child({ key: 'k2' });
      child.error('failed');
      expect(log.lines).toEqual([{ level: 'error', args: ['failed'], bindings: { key: 'k2' } }]);
    });
  });

  describe('when looking for a text', () => {
    it('should find it in messages, objects, errors and bindings, at the levels asked', () => {
      const log = collectingLogger();
      log.warn('computation "k3" is gone');
      log.info({ key: 'k4' }, 'skipped');
      log.error({ err: new Error('store lost k5') }, 'write failed');
      log.child({ key: 'k6' }).debug('claimed');
      log.info('nothing here');
      expect(log.mentioning('k3')).toHaveLength(1);
      expect(log.mentioning('k4', ['info'])).toHaveLength(1);
      expect(log.mentioning('k4', ['warn'])).toHaveLength(0);
      expect(log.mentioning('k5')).toHaveLength(1);
      expect(log.mentioning('k6')).toHaveLength(1);
      expect(log.mentioning('k7')).toEqual([]);
    });

    it('should search values that JSON cannot hold: cycles and BigInts', () => {
      const log = collectingLogger();
      const cyclic: Record<string, unknown> = { name: 'k8' };
      cyclic.self = cyclic;
      log.info(cyclic, { count: 12345n });
      expect(log.mentioning('k8')).toHaveLength(1);
      expect(log.mentioning('12345')).toHaveLength(1);
      log.clear();
      expect(log.lines).toEqual([]);
    });
  });
});
