import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('docs/operations.md example', () => {
  describe('when compared with examples/retry-and-dead-letters.ts', () => {
    it('should be the same code', () => {
      const example = readFileSync(`${root}examples/retry-and-dead-letters.ts`, 'utf8');
      expect(readFileSync(`${root}docs/operations.md`, 'utf8')).toContain(example);
    });
  });

  describe('when run as written', () => {
    it('should count, retry, redrive and purge as its comments say', async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--conditions=@au/source', '--import', 'tsx', 'examples/retry-and-dead-letters.ts'],
        { cwd: root, timeout: 30_000 },
      );
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toContain('upstream down while syncing a-1');
      expect(lines.slice(1, 7)).toEqual(['3', '2', 'pending [ 1, 2 ]', 'synced a-1', 'true completed', '2']);
      expect(lines.slice(7, 9).sort()).toEqual(['synced a-2', 'synced a-3']);
      expect(lines[9]).toBe('0');
    });
  });
});
