import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('docs/flow-control.md locks example', () => {
  describe('when compared with examples/locks.ts', () => {
    it('should be the same code', () => {
      const example = readFileSync(`${root}examples/locks.ts`, 'utf8');
      expect(readFileSync(`${root}docs/flow-control.md`, 'utf8')).toContain(example);
    });
  });

  describe('when run as written', () => {
    it('should bill once per worker with increasing tokens, refuse the stale writer and the busy lock', async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--conditions=@au/source', '--import', 'tsx', 'examples/locks.ts'],
        { cwd: root, timeout: 30_000 },
      );
      expect(stdout.trim().split('\n')).toEqual([
        '3 3',
        'refused: token 1 is stale',
        'AU_LOCK_UNAVAILABLE',
        'done with token 5',
      ]);
    });
  });
});
