import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { redisUp } from './helpers';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const example = fileURLToPath(new URL('../examples/pause.ts', import.meta.url));

describe.runIf(redisUp)('docs/flow-control.md pause example', () => {
  describe('when compared with packages/backend-bullmq/examples/pause.ts', () => {
    it('should be the same code', () => {
      expect(readFileSync(`${root}docs/flow-control.md`, 'utf8')).toContain(readFileSync(example, 'utf8'));
    });
  });

  describe('when run as written', () => {
    it('should keep the paused task pending, run the others, and run it on resume', async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--conditions=@au/source', '--import', 'tsx', example],
        { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 60_000 },
      );
      expect(stdout.trim().split('\n')).toEqual([
        "{ queue: false, tasks: [ 'report' ] }",
        'sent to ops@example.com',
        'pending',
        '{ queue: false, tasks: [] }',
        'report for June',
        '{ queue: true, tasks: [] }',
        'report for July',
      ]);
    });
  });
});
