import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { redisUp, redisUrl } from './helpers';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const example = 'packages/backend-bullmq/examples/flow-limits.ts';

describe('docs/flow-control.md BullMQ example', () => {
  describe('when compared with examples/flow-limits.ts', () => {
    it('should be the same code', () => {
      const code = readFileSync(`${root}${example}`, 'utf8');
      const body = code.slice(code.search(/^import /m));
      expect(readFileSync(`${root}docs/flow-control.md`, 'utf8')).toContain(body);
    });
  });

  describe.runIf(redisUp)('when run as written', () => {
    it('should keep each tenant to 2 at once and the starts to 4 per second', async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--conditions=@au/source', '--import', 'tsx', example],
        { cwd: root, timeout: 60_000, env: { ...process.env, AU_REDIS_URL: redisUrl } },
      );
      expect(stdout.trim().split('\n')).toEqual([
        '12 reports',
        'most at once per tenant: { acme: 2, globex: 2 }',
        '12 starts at 4 per second took 2 s or more: true',
      ]);
    });
  });
});
