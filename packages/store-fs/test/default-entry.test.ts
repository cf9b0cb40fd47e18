import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempRoots, tempRoot } from './helpers/temp-root';

afterAll(removeTempRoots);

const child = fileURLToPath(new URL('./fixtures/default-store-child.ts', import.meta.url));

/** Runs the fixture in a new process whose OS temp directory is `tmp`; its printed JSON. */
function run(tmp: string, ...args: string[]): Record<string, unknown> {
  const output = execFileSync(
    process.execPath,
    ['--conditions=@au/source', '--import', 'tsx', child, ...args],
    {
      env: { ...process.env, TMPDIR: tmp },
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  return JSON.parse(output.trim().split('\n').pop()!) as Record<string, unknown>;
}

describe("import '@au/store-fs/default'", () => {
  describe('when a program names no store', () => {
    it('should keep its results as files in the OS temp directory, read again by a later process', () => {
      const tmp = tempRoot();
      const launched = run(tmp, 'launch', '12');
      expect(launched.store).toBe('fs');
      const shards = readdirSync(join(tmp, 'au-computations')).filter((name) => /^[0-9a-f]{2}$/.test(name));
      expect(shards.length).toBeGreaterThan(0);
      expect(run(tmp, 'read', String(launched.key))).toEqual({ value: 144 });
    }, 60_000);
  });
});
