import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RedisStore } from '@au/store-redis';
import { conformanceTasksUrl } from '@au/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { BullMQBackend } from '../src/index';
import { redisUp, redisUrl, TestResources } from './helpers';

const resources = new TestResources();
afterAll(() => (redisUp ? resources.cleanup() : undefined));

const producerEntry = fileURLToPath(new URL('./fixtures/producer-process.ts', import.meta.url));

/** Runs the producer process until it launches, lets it launch for `ms`, then SIGKILLs it. */
async function launchThenKill(env: Record<string, string>, ms: number): Promise<void> {
  const child = fork(producerEntry, [], {
    execArgv: ['--conditions=@au/source', '--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`[test] the producer exited early with ${code}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, ms));
  child.kill('SIGKILL');
  await exited;
}

describe.runIf(redisUp)('backend-bullmq', () => {
  describe('when a producer is killed in the middle of launches', () => {
    it.each([
      ['', {}],
      [' with keys of their own', { KEYED: '1' }],
    ])(
      'should leave no record without its job%s: every computation it created runs',
      async (_, keyed) => {
        const queue = resources.queue('killed-producer');
        const prefix = resources.prefix('killed-producer');
        await launchThenKill(
          { AU_REDIS_URL: redisUrl, AU_QUEUE: queue, STORE_PREFIX: prefix, LAUNCHERS: '20', ...keyed },
          300,
        );
        const store = new RedisStore({ redis: redisUrl, prefix });
        const backend = new BullMQBackend({
          connection: redisUrl,
          queue,
          tasks: [conformanceTasksUrl],
          worker: { store, concurrency: 20 },
        });
        try {
          await backend.bind(store);
          const created = await store.count({});
          expect(created).toBeGreaterThan(20);
          // Every record the producer created has a job: the worker ends them all.
          const deadline = Date.now() + 20_000;
          let unfinished = created;
          while (unfinished > 0 && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            unfinished = await store.count({ status: ['pending', 'running'] });
          }
          expect(unfinished).toBe(0);
          expect(await store.count({ status: 'completed' })).toBe(created);
        } finally {
          await backend.close({ timeout: 2000 });
          await store.close();
        }
      },
      60_000,
    );
  });
});
