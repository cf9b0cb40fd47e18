import { fileURLToPath } from 'node:url';
import { jsonCodec, silentLogger } from '@au/core';
import type { PoolRequest } from '@au/core/kit';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessPool, StoppedError } from '../src/process-pool';

const entry = fileURLToPath(new URL('../src/process-worker.ts', import.meta.url));
const fixtures = new URL('./fixtures/tasks.ts', import.meta.url).href;

function request(id: number, task: string, input: unknown): PoolRequest {
  return { id, task, key: `k${id}`, attempt: 1, codec: 'json', args: jsonCodec.encode(input) };
}

describe('ProcessPool', () => {
  const pools: ProcessPool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.close(100)));
  });
  const open = (concurrency: number) => {
    const pool = new ProcessPool(
      {
        modules: [fixtures],
        concurrency,
        idleTimeout: 30_000,
        logger: silentLogger,
        onEvent: () => undefined,
      },
      { entry, execArgv: ['--conditions=@au/source', '--import', 'tsx'], env: undefined },
    );
    pools.push(pool);
    return pool;
  };

  describe('when more runs come than it may have processes', () => {
    it('should queue them in order, and drop an aborted queued one without starting it', async () => {
      const pool = open(1);
      const first = pool.run(request(1, 'process-test.busy-loop', { ms: 300 }));
      const dropped = pool.run(request(2, 'process-test.double', 2));
      const third = pool.run(request(3, 'process-test.double', 4));
      expect(pool.size).toBe(1);
      pool.abort(2, { name: 'CancelledError', message: 'not wanted' });
      await expect(dropped).rejects.toBeInstanceOf(StoppedError);
      expect(await first).toMatchObject({ ok: true });
      const answer = await third;
      expect(answer.ok && jsonCodec.decode(answer.value)).toBe(8);
      expect(pool.size).toBe(1);
    }, 30_000);
  });

  describe('when a batch runs', () => {
    it('should answer each attempt in order, and skip one aborted before its turn', async () => {
      const pool = open(1);
      const batch = pool.runBatch([
        request(1, 'process-test.busy-loop', { ms: 200 }),
        request(2, 'process-test.double', 5),
        request(3, 'process-test.double', 6),
      ]);
      // Sent while the first attempt runs: the child skips attempt 2 when its turn comes.
      await new Promise((resolve) => setTimeout(resolve, 50));
      pool.abort(2, { name: 'CancelledError', code: 'AU_CANCELLED', message: 'not wanted' });
      const [first, second, third] = await batch;
      expect(first).toMatchObject({ ok: true });
      expect(second).toMatchObject({ ok: false, error: { message: 'not wanted' } });
      expect(third!.ok && jsonCodec.decode(third!.value)).toBe(12);
    }, 30_000);
  });

  describe('when the attempt is killed', () => {
    it('should end only the process running it, and reject that run as stopped', async () => {
      const pool = open(2);
      const spinning = pool.run(request(1, 'process-test.busy-loop', { ms: 60_000 }));
      const other = pool.run(request(2, 'process-test.busy-loop', { ms: 300 }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      pool.kill(1);
      await expect(spinning).rejects.toBeInstanceOf(StoppedError);
      expect(await other).toMatchObject({ ok: true });
    }, 30_000);
  });
});
