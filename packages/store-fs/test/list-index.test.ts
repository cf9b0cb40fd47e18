import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ComputationRecord } from '@au/core';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileSystemStore, type FileSystemStoreOptions } from '../src/index';
import { recordPaths } from '../src/internal/record-paths';
import { forkWorker, killWorkers } from './helpers/fork-worker';
import { removeTempRoots, tempRoot } from './helpers/temp-root';

// Counts the record files (`.json`) the store opens: list must read O(page) of them.
const recordReads = vi.hoisted(() => ({ count: 0 }));
vi.mock('../src/internal/file-io', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/internal/file-io')>();
  return {
    ...actual,
    readText: (path: string) => {
      if (path.endsWith('.json')) recordReads.count += 1;
      return actual.readText(path);
    },
  };
});

const opened: FileSystemStore[] = [];
const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);
beforeEach(() => {
  warnings.length = 0;
  process.on('warning', onWarning);
});
afterEach(async () => {
  process.off('warning', onWarning);
  killWorkers();
  await Promise.all(opened.splice(0).map((store) => store.close()));
});
afterAll(removeTempRoots);

function openStore(root: string, options: FileSystemStoreOptions = {}): FileSystemStore {
  const store = new FileSystemStore({ root, autoCleanup: false, ...options });
  opened.push(store);
  return store;
}

function record(key: string, overrides: Partial<ComputationRecord> = {}): ComputationRecord {
  return {
    key,
    task: 'indexed',
    status: 'pending',
    attempt: 0,
    maxAttempts: 1,
    createdAt: Date.now(),
    ...overrides,
  };
}

/** Writes record files the way an older version of the store did: no index. */
function writeWithoutIndex(root: string, records: ComputationRecord[]): void {
  const made = new Set<string>();
  for (const item of records) {
    const paths = recordPaths(root, item.key);
    if (!made.has(paths.directory)) {
      mkdirSync(paths.directory, { recursive: true });
      made.add(paths.directory);
    }
    writeFileSync(paths.file, JSON.stringify(item));
  }
}

/** Whether the key's lock file (a symbolic link to nowhere) exists. */
function hasLock(root: string, key: string): boolean {
  return lstatSync(recordPaths(root, key).lock, { throwIfNoEntry: false }) !== undefined;
}

async function readsOf<T>(work: () => Promise<T>): Promise<{ result: T; reads: number }> {
  recordReads.count = 0;
  const result = await work();
  return { result, reads: recordReads.count };
}

const rebuilt = () =>
  warnings.filter((warning) => (warning as { code?: string }).code === 'AU_INDEX_REBUILT');

/** The lines of the index logs, parsed. */
function logLines(root: string): Record<string, unknown>[] {
  const directory = join(root, '.index');
  return readdirSync(directory)
    .filter((name) => name.startsWith('log.'))
    .flatMap((name) => readFileSync(join(directory, name), 'utf8').split('\n'))
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('FileSystemStore list index', () => {
  describe('when the directory holds 20,000 records', () => {
    it('should read O(page) record files for a page, filtered by status or not', async () => {
      const root = tempRoot();
      const base = Date.now() - 1_000_000;
      const records = Array.from({ length: 20_000 }, (_, index) =>
        record(`many-${index}`, {
          createdAt: base + index,
          status: index % 500 === 0 ? 'running' : 'completed',
          tags: index % 2 === 0 ? ['even'] : ['odd'],
        }),
      );
      writeWithoutIndex(root, records);
      const store = openStore(root);

      // The first list builds the index from the files, once, and says so.
      const built = await readsOf(() => store.list({ limit: 1 }));
      expect(built.reads).toBeGreaterThanOrEqual(20_000);
      await new Promise((resolve) => setImmediate(resolve));
      expect(rebuilt()).toHaveLength(1);
      expect(rebuilt()[0]?.message).toMatch(/from 20000 record files/);

      const newest = await readsOf(() => store.list({ limit: 1 }));
      expect(newest.result.records.map((item) => item.key)).toEqual(['many-19999']);
      expect(newest.result.cursor).toBeDefined();
      expect(newest.reads).toBeLessThanOrEqual(2);

      const running = await readsOf(() => store.list({ status: 'running', limit: 10 }));
      expect(running.result.records.map((item) => item.key)).toEqual(
        [19_500, 19_000, 18_500, 18_000, 17_500, 17_000, 16_500, 16_000, 15_500, 15_000].map(
          (n) => `many-${n}`,
        ),
      );
      expect(running.reads).toBeLessThanOrEqual(11);

      const next = await readsOf(() =>
        store.list({ status: 'running', limit: 10, cursor: running.result.cursor! }),
      );
      expect(next.result.records[0]?.key).toBe('many-14500');
      expect(next.reads).toBeLessThanOrEqual(11);

      const tagged = await readsOf(() => store.list({ tag: 'odd', status: 'completed', limit: 5 }));
      expect(tagged.result.records.map((item) => item.key)).toEqual([
        'many-19999',
        'many-19997',
        'many-19995',
        'many-19993',
        'many-19991',
      ]);
      expect(tagged.reads).toBeLessThanOrEqual(6);

      // A new record through the store is first, and costs no more to find.
      await store.create(record('many-new', { createdAt: base + 50_000, status: 'running' }));
      const after = await readsOf(() => store.list({ status: 'running', limit: 1 }));
      expect(after.result.records.map((item) => item.key)).toEqual(['many-new']);
      expect(after.reads).toBeLessThanOrEqual(2);
      expect(rebuilt()).toHaveLength(1);
    }, 120_000);
  });

  describe('when another process writes', () => {
    it('should show its records in the list of a store whose index is already loaded', async () => {
      const root = tempRoot();
      const store = openStore(root);
      await store.create(record('before'));
      expect((await store.list()).records.map((item) => item.key)).toEqual(['before']);

      const writer = forkWorker(['write', root, '30']);
      await writer.next('done');
      expect(await writer.exited).toBe(0);

      const page = await store.list({ limit: 1000 });
      expect(page.records).toHaveLength(31); // restart-expired is not listed
      const completed = await store.list({ status: 'completed', tag: 'even' });
      expect(completed.records.map((item) => item.key).sort()).toEqual(
        ['restart-0', 'restart-6', 'restart-12', 'restart-18', 'restart-24'].sort(),
      );
      expect(rebuilt()).toEqual([]);
    }, 60_000);
  });

  describe('when a process dies between the record write and the index update', () => {
    it('should list the record under its new status and settle the index on disk', async () => {
      const root = tempRoot();
      const store = openStore(root, { lockStaleAfter: 200 });
      await store.create(record('crashed'));
      expect((await store.list({ status: 'pending' })).records.map((item) => item.key)).toEqual(['crashed']);

      const worker = forkWorker(['crash-before-index', root, 'crashed']);
      expect(await worker.exited).toBe('SIGKILL');
      expect(hasLock(root, 'crashed')).toBe(true); // died holding the lock

      // Past lockStaleAfter: the unconfirmed version is worth writing down for other readers.
      await new Promise((resolve) => setTimeout(resolve, 250));
      const running = await store.list({ status: 'running' });
      expect(running.records).toMatchObject([{ key: 'crashed', meta: { by: 'the crashed process' } }]);
      expect((await store.list({ status: 'pending' })).records).toEqual([]);
      await store.close();

      const lines = logLines(root).filter((line) => line.k === 'crashed');
      expect(lines.at(-1)).toMatchObject({ op: 'set', s: 'running' });
      expect(hasLock(root, 'crashed')).toBe(false); // the repair took it over

      const fresh = openStore(root);
      expect((await fresh.list({ status: 'running' })).records.map((item) => item.key)).toEqual(['crashed']);
      expect((await fresh.list({ status: 'pending' })).records).toEqual([]);
    }, 60_000);
  });

  describe('when the index is deleted or corrupt', () => {
    it('should rebuild a deleted index from the records once, say so, and keep writing to it', async () => {
      const root = tempRoot();
      const store = openStore(root);
      for (let index = 0; index < 20; index++) {
        await store.create(record(`kept-${index}`, { createdAt: 1_000 + index }));
      }
      expect((await store.list()).records).toHaveLength(20);

      rmSync(join(root, '.index'), { recursive: true });
      const listed = await store.list({ limit: 5 });
      expect(listed.records.map((item) => item.key)).toEqual([19, 18, 17, 16, 15].map((n) => `kept-${n}`));
      await new Promise((resolve) => setImmediate(resolve));
      expect(rebuilt()).toHaveLength(1);
      expect(rebuilt()[0]?.message).toMatch(/from 20 record files.*there was none/);

      rmSync(join(root, '.index'), { recursive: true });
      await store.create(record('written-after', { createdAt: 5_000 }));
      const other = openStore(root);
      expect((await other.list({ limit: 1 })).records.map((item) => item.key)).toEqual(['written-after']);
      expect((await store.list({ limit: 100 })).records).toHaveLength(21);
    });

    it('should rebuild an index whose log holds garbage', async () => {
      const root = tempRoot();
      const store = openStore(root);
      await store.create(record('one', { createdAt: 1 }));
      await store.create(record('two', { createdAt: 2 }));
      expect((await store.list()).records).toHaveLength(2);
      const directory = join(root, '.index');
      const log = readdirSync(directory).find((name) => name.startsWith('log.'))!;
      writeFileSync(join(directory, log), 'this is not an index line\n', { flag: 'a' });

      expect((await store.list()).records.map((item) => item.key)).toEqual(['two', 'one']);
      await new Promise((resolve) => setImmediate(resolve));
      expect(rebuilt()).toHaveLength(1);
      expect(rebuilt()[0]?.message).toMatch(/it was corrupt/);
      await store.update('one', { status: 'running' });
      expect((await openStore(root).list({ status: 'running' })).records.map((item) => item.key)).toEqual([
        'one',
      ]);
    });
  });

  describe('when records expire', () => {
    it('should drop their entries with cleanupExpired', async () => {
      const root = tempRoot();
      const store = openStore(root);
      await store.create(record('gone', { status: 'completed', expiresAt: Date.now() - 1 }));
      await store.create(record('live', { status: 'completed' }));
      const listed = await readsOf(() => store.list());
      expect(listed.result.records.map((item) => item.key)).toEqual(['live']);
      expect(listed.reads).toBe(1); // the expired one is known expired without reading it
      expect(await store.cleanupExpired()).toBe(1);
      expect(
        logLines(root)
          .filter((line) => line.k === 'gone')
          .at(-1),
      ).toMatchObject({ op: 'deleted' });
    });
  });
});
