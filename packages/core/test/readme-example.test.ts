import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('README example', () => {
  describe('when compared with examples/quickstart.ts', () => {
    it('should be the same code', () => {
      const example = readFileSync(`${root}examples/quickstart.ts`, 'utf8');
      expect(readFileSync(`${root}README.md`, 'utf8')).toContain(example);
    });
  });

  describe('when run as written', () => {
    it('should print the result, progress, the end and the cancel', async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--conditions=@au/source', '--import', 'tsx', 'examples/quickstart.ts'],
        { cwd: root, timeout: 30_000 },
      );
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toBe('42');
      expect(lines).toContain('completed');
      expect(lines).toContain('{ left: 3 }');
      expect(lines.at(-2)).toBe('liftoff');
      expect(lines.at(-1)).toBe('cancelled');
    });
  });
});
