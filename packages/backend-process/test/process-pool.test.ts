import { fileURLToPath } from 'node:url';
import { jsonCodec, silentLogger } from '@au/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessPool, StoppedError } from '../src/process-pool';
import type { RunRequest } from '../src/wire';

const entry = fileURLToPath(new URL('../src/process-worker.ts', import.meta.url));
const fixtures = new URL('./fixtures/tasks.ts', import.meta.url).href;

function request(id: number, task: string, input: unknown): RunRequest {
  return { id, task, key: `k${id}`, attempt: 1, codec: 'json', args: jsonCodec.encode(input) };
}

describe('ProcessPool', () => {
  const pools: ProcessPool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.close(100)));
  });
  const open = (maxProcesses: number) => {
    const pool = new ProcessPool({
      entry,
      modules: [fixtures],
      execArgv: ['--conditions=@au/source', '--import', 'tsx'],
      env: undefined,
      idleTimeout: 30_000,
      maxProcesses,
      logger: silentLogger,
    });
    pools.push(pool);
    return pool;
  };
  const noEvents = () => undefined;

  describe('when more runs come than it may have processes', () => {
    it('should queue them in order, and stop a queued one without starting it', async () => {
      const pool = open(1);
      const first = pool.run(request(1, 'process-test.busy-loop', { ms: 300 }), noEvents);
      const stopped = pool.run(request(2, 'process-test.double', 2), noEvents);
      const third = pool.run(request(3, 'process-test.double', 4), noEvents);
      expect(pool.size).toBe(1);
      stopped.stop({ name: 'CancelledError', message: 'not wanted' }, 100);
      await expect(stopped.reply).rejects.toBeInstanceOf(StoppedError);
      expect(await first.reply).toMatchObject({ ok: true });
      const answer = await third.reply;
      expect(answer.ok && jsonCodec.decode(answer.value)).toBe(8);
      expect(pool.size).toBe(1);
    }, 30_000);
  });

  describe('when a batch runs', () => {
    it('should answer each attempt in order, and skip one stopped before its turn', async () => {
      const pool = open(1);
      const batch = pool.runBatch(
        [
          request(1, 'process-test.busy-loop', { ms: 200 }),
          request(2, 'process-test.double', 5),
          request(3, 'process-test.double', 6),
        ],
        noEvents,
      );
      // Sent while the first attempt runs: the child skips attempt 2 when its turn comes.
      await new Promise((resolve) => setTimeout(resolve, 50));
      batch.stop(2, { name: 'CancelledError', code: 'AU_CANCELLED', message: 'not wanted' }, 5_000);
      const [first, second, third] = await batch.reply;
      expect(first).toMatchObject({ ok: true });
      expect(second).toMatchObject({ ok: false, error: { message: 'not wanted' } });
      expect(third!.ok && jsonCodec.decode(third!.value)).toBe(12);
    }, 30_000);
  });
});
