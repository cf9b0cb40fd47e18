import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('docs/flow-control.md example', () => {
  describe('when compared with examples/flow-control.ts', () => {
    it('should be the same code', () => {
      const example = readFileSync(`${root}examples/flow-control.ts`, 'utf8');
      expect(readFileSync(`${root}docs/flow-control.md`, 'utf8')).toContain(example);
    });
  });

  describe('when run as written', () => {
    it('should refuse the fourth image, route by hint and follow the dependencies', async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--conditions=@au/source', '--import', 'tsx', 'examples/flow-control.ts'],
        { cwd: root, timeout: 30_000 },
      );
      expect(stdout.trim().split('\n')).toEqual([
        'd.png: AU_QUEUE_FULL, retry in 1000 ms',
        'true true',
        '3',
        'failed DependencyFailedError',
      ]);
    });
  });
});
