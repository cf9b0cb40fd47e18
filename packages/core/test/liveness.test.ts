import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs a fixture as a plain script, as a user would; a hung one is killed after 20 s. */
function runScript(name: string): Promise<{ code: number | null; signal: string | null; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@au/source', '--import', 'tsx', `packages/core/test/fixtures/${name}`],
      { cwd: root, timeout: 20_000 },
      (error, stdout) => {
        const failure = error as (Error & { code?: number; signal?: string }) | null;
        resolve({ code: failure?.code ?? 0, signal: failure?.signal ?? null, stdout });
      },
    );
  });
}

describe('local work and the Node process', () => {
  describe('when a plain script awaits a task retried after a 300 ms backoff', () => {
    it('should stay alive through the backoff, print the result and exit 0', async () => {
      const { code, signal, stdout } = await runScript('retry-after-backoff.ts');
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(stdout.trim().split('\n')).toEqual(['recovered', 'attempt 2']);
    });
  });

  describe('when its backends are idle and never closed', () => {
    it('should end by itself after the last line', async () => {
      // A hold left behind would keep it alive until the 20 s kill (signal SIGTERM).
      const { code, signal, stdout } = await runScript('idle-backends.ts');
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(stdout.trim().split('\n')).toEqual(['42', 'true', 'idle']);
    });
  });

  describe('when the store has no watch and the work ends between two polls', () => {
    it('should stay alive until the poll sees the end, print it and exit 0', async () => {
      const { code, signal, stdout } = await runScript('polling-store-wait.ts');
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(stdout.trim()).toBe('42');
    });
  });

  describe('when a script makes a schedule and has nothing else to do', () => {
    it('should end by itself: the scheduler never holds the process open', async () => {
      const { code, signal, stdout } = await runScript('scheduled-script.ts');
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(stdout.trim()).toBe('scheduled');
    });
  });
});
