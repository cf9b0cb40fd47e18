import { readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type ComputationRecord, isComputationStatus } from '@au/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FileSystemStore } from '../src/index';
import { recordPaths } from '../src/internal/record-paths';
import { deadPid } from './helpers/dead-pid';
import { forkWorker, killWorkers } from './helpers/fork-worker';
import { removeTempRoots, tempRoot } from './helpers/temp-root';

afterEach(killWorkers);
afterAll(removeTempRoots);

/** Every file under the shard directories of `root`. */
function shardFiles(root: string): string[] {
  return readdirSync(root)
    .filter((name) => /^[0-9a-f]{2}$/.test(name))
    .flatMap((shard) => readdirSync(join(root, shard)).map((name) => join(root, shard, name)));
}

function pendingRecord(key: string): ComputationRecord {
  return { key, task: 'race', status: 'pending', attempt: 0, maxAttempts: 1, createdAt: Date.now() };
}

describe('FileSystemStore between processes', () => {
  describe('when two processes race conditional updates on the same keys', () => {
    it('should let exactly one process win each key, even where both break a dead lock', async () => {
      const root = tempRoot();
      const store = new FileSystemStore({ root, autoCleanup: false });
      const keys = Array.from({ length: 150 }, (_, index) => `race-${index}`);
      for (const key of keys) await store.create(pendingRecord(key));
      // Every third key starts locked by a process that has died: both children judge the
      // lock stale and break it at the same time; still only one may win.
      const dead = deadPid();
      for (const key of keys.filter((_, index) => index % 3 === 0)) {
        symlinkSync(`au-lock/1 ${dead} ${Date.now()} dead ${hostname()}`, recordPaths(root, key).lock);
      }
      const workers = ['a', 'b'].map((id) => forkWorker(['race', root, id, ...keys]));
      await Promise.all(workers.map((worker) => worker.next('ready')));
      for (const worker of workers) worker.child.send('go');
      const [wonByA, wonByB] = await Promise.all(
        workers.map(async (worker) => (await worker.next<{ keys: string[] }>('won')).keys),
      );
      await Promise.all(workers.map((worker) => worker.exited));

      expect(wonByA!.filter((key) => wonByB!.includes(key))).toEqual([]);
      expect([...wonByA!, ...wonByB!].sort()).toEqual([...keys].sort());
      for (const key of keys) {
        const stored = await store.get(key);
        expect(stored?.status).toBe('running');
        expect(stored?.meta?.owner).toBe(wonByA!.includes(key) ? 'a' : 'b');
      }
      expect(shardFiles(root).filter((file) => !file.endsWith('.json'))).toEqual([]);
      await store.close();
    }, 60_000);
  });

  describe('when a new process opens a directory another process wrote', () => {
    it('should read, list and update the records written before', async () => {
      const root = tempRoot();
      const writer = forkWorker(['write', root, '30']);
      await writer.next('done');
      expect(await writer.exited).toBe(0);

      const store = new FileSystemStore({ root, autoCleanup: false });
      const first = await store.get('restart-0');
      expect(first).toMatchObject({ status: 'completed', value: 0, args: { index: 0 }, tags: ['even'] });
      expect((await store.get('restart-1'))?.status).toBe('pending');
      expect(await store.get('restart-expired')).toBeUndefined();
      const page = await store.list({ limit: 1000 });
      expect(page.records).toHaveLength(30);
      expect(
        (await store.list({ status: 'completed', tag: 'odd' })).records.map((r) => r.key).sort(),
      ).toEqual(['restart-15', 'restart-21', 'restart-27', 'restart-3', 'restart-9'].sort());
      expect(await store.update('restart-1', { status: 'running' }, { ifStatus: ['pending'] })).toMatchObject(
        {
          status: 'running',
        },
      );
      expect(await store.cleanupExpired()).toBe(1);
      await store.close();
    }, 60_000);
  });

  describe('when another process completes a watched record', () => {
    it('should see its versions through watch and end after the terminal one', async () => {
      const root = tempRoot();
      const store = new FileSystemStore({ root, autoCleanup: false, pollInterval: 5_000 });
      await store.create({ ...pendingRecord('watched'), status: 'running', attempt: 1 });
      const worker = forkWorker(['complete', root, 'watched']);
      await worker.next('ready');
      const seen: ComputationRecord[] = [];
      const controller = new AbortController();
      const consumed = (async () => {
        for await (const version of store.watch('watched', controller.signal)) seen.push(version);
      })();
      worker.child.send('go');
      const timer = setTimeout(() => controller.abort(), 4_000);
      await consumed;
      clearTimeout(timer);
      // Seen through fs.watch: the polling net (5 s) is slower than the abort above.
      expect(controller.signal.aborted).toBe(false);
      expect(seen.at(-1)).toMatchObject({ status: 'completed', value: 'from the child' });
      await worker.exited;
      await store.close();
    }, 30_000);
  });

  describe('when a writing process is killed mid-stream', () => {
    it('should leave only complete record files, and a new store should work on the directory', async () => {
      const root = tempRoot();
      const worker = forkWorker(['crash-loop', root]);
      for (;;) {
        const { count } = await worker.next<{ count: number }>('created');
        if (count >= 20) break;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 30)));
      worker.child.kill('SIGKILL');
      expect(await worker.exited).toBe('SIGKILL');

      const files = shardFiles(root);
      const recordFiles = files.filter((file) => file.endsWith('.json'));
      expect(recordFiles.length).toBeGreaterThanOrEqual(20);
      for (const file of recordFiles) {
        const record = JSON.parse(readFileSync(file, 'utf8')) as ComputationRecord;
        expect(isComputationStatus(record.status), file).toBe(true);
        expect((record.args as { big: string }).big.length, file).toBe(1024 * 1024);
      }
      const leftovers = files.filter((file) => !file.endsWith('.json'));
      for (const file of leftovers) expect(file).toMatch(/\.(tmp|lock)$/);

      // A lock left by the killed process must not block: its owner is dead.
      const store = new FileSystemStore({ root, autoCleanup: false, lockTimeout: 2_000 });
      const { records } = await store.list({ limit: 1000 });
      expect(records).toHaveLength(recordFiles.length);
      for (const record of records) {
        const active = record.status === 'pending' || record.status === 'running';
        const updated = await store.update(
          record.key,
          { status: 'cancelled', meta: { after: 'crash' } },
          { ifStatus: ['pending', 'running'] },
        );
        expect(updated?.status).toBe(active ? 'cancelled' : undefined);
      }
      await store.create(pendingRecord('after-crash'));
      expect((await store.get('after-crash'))?.status).toBe('pending');
      expect(shardFiles(root).filter((file) => file.endsWith('.lock'))).toEqual([]);
      await store.close();
    }, 60_000);
  });
});
