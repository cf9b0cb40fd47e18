import { describe, expect, it } from 'vitest';
import { FileSystemStore } from '../src/index';

describe('FileSystemStore options', () => {
  describe('when an option is misspelled', () => {
    it('should throw a TypeError naming it and the known one', () => {
      expect(() => new FileSystemStore({ rootDir: '/tmp/x' } as never)).toThrow(/unknown option "rootDir"/);
      expect(() => new FileSystemStore({ pollIntervall: 10 } as never)).toThrow(
        /did you mean "pollInterval"/,
      );
    });
  });

  describe('when two stores share a directory', () => {
    it('should give them the same id, and another directory another id', async () => {
      const root = `/tmp/au-fs-id-${process.pid}`;
      const a = new FileSystemStore({ root });
      const b = new FileSystemStore({ root: `${root}/.` });
      const c = new FileSystemStore({ root: `${root}-other` });
      expect(a.id).toBe(`fs:${root}`);
      expect(b.id).toBe(a.id);
      expect(c.id).not.toBe(a.id);
      await Promise.all([a.close(), b.close(), c.close()]);
    });
  });
});
