import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('docs/flow-control.md flow-limits example', () => {
  describe('when compared with examples/flow-limits.ts', () => {
    it('should be the same code', () => {
      const example = readFileSync(`${root}examples/flow-limits.ts`, 'utf8');
      expect(readFileSync(`${root}docs/flow-control.md`, 'utf8')).toContain(example);
    });
  });

  describe('when run as written', () => {
    it('should hold each account to one sync, space the calls and hold paused work', async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--conditions=@au/source', '--import', 'tsx', 'examples/flow-limits.ts'],
        { cwd: root, timeout: 30_000 },
      );
      expect(stdout.trim().split('\n')).toEqual([
        'most syncs at once: 1 per account, 2 in all',
        '[ 10, 20, 30, 40, 50 ]',
        '5 calls started over at least 1 s: true',
        'pending {"queue":false,"tasks":["sync-account"]}',
        'completed',
      ]);
    });
  });
});
