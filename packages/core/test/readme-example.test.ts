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
      // The last progress comes before the terminal status, which ends the events.
      expect(lines.at(-4)).toBe('{ left: 1 }');
      expect(lines.at(-3)).toBe('completed');
      expect(lines.at(-2)).toBe('liftoff');
      expect(lines.at(-1)).toBe('cancelled');
    });
  });

  describe('when the @au/core README example of a delay and a retry is run as written', () => {
    it('should be the same code as test/fixtures/delay-and-retry.ts', () => {
      const example = readFileSync(`${root}packages/core/test/fixtures/delay-and-retry.ts`, 'utf8');
      expect(readFileSync(`${root}packages/core/README.md`, 'utf8')).toContain(example);
    });

    it('should wait for both, print their results and exit 0', async () => {
      // Before, the in-process backend's unreferenced timers let Node end the script
      // early: exit code 13 ("unsettled top-level await") and nothing printed.
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--conditions=@au/source', '--import', 'tsx', 'packages/core/test/fixtures/delay-and-retry.ts'],
        { cwd: root, timeout: 30_000 },
      );
      expect(stdout.trim().split('\n')).toEqual(['hello, world', 'succeeded on attempt 2']);
    });
  });
});
