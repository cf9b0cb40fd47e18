import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ComputationRecord } from '@au/core';
import { normalizeListQuery } from '@au/core/kit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { attributesOf } from '../src/internal/index/index-attributes';
import { ListIndex } from '../src/internal/index/list-index';
import { RecordIndex, type RecordRead } from '../src/internal/index/record-index';
import { removeTempRoots, tempRoot } from './helpers/temp-root';

afterAll(removeTempRoots);
const opened: RecordIndex[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((index) => index.close()));
});

function record(key: string, overrides: Partial<ComputationRecord> = {}): ComputationRecord {
  return { key, task: 'unit', status: 'pending', attempt: 0, maxAttempts: 1, createdAt: 1_000, ...overrides };
}

/** A RecordIndex over records kept in a map (standing in for the record files). */
function openIndex(root: string, files: Map<string, ComputationRecord>, compactAfterLines?: number) {
  const index = new RecordIndex({
    root,
    staleAfter: 30_000,
    durable: false,
    scanRecords: async () => [...files.values()],
    repair: async () => undefined,
    onRebuilt: () => undefined,
    ...(compactAfterLines === undefined ? {} : { compactAfterLines }),
  });
  opened.push(index);
  const read = async (key: string): Promise<RecordRead> => {
    const found = files.get(key);
    return found === undefined ? { missing: true } : { record: found };
  };
  return { index, read };
}

async function write(index: RecordIndex, files: Map<string, ComputationRecord>, item: ComputationRecord) {
  await index.willWrite(item, !files.has(item.key));
  files.set(item.key, item);
  await index.written(item);
}

describe('RecordIndex', () => {
  describe('when its log grows past compactAfterLines', () => {
    it('should compact it into a snapshot that a new reader loads instead of the old log', async () => {
      const root = tempRoot();
      const files = new Map<string, ComputationRecord>();
      const { index, read } = openIndex(root, files, 50);
      for (let n = 0; n < 40; n++) await write(index, files, record(`k${n}`, { createdAt: n }));
      for (let n = 0; n < 40; n += 2)
        await write(index, files, record(`k${n}`, { createdAt: n, status: 'running' }));
      const page = await index.page(normalizeListQuery({ status: 'running', limit: 3 }), 0, read);
      expect(page.records.map((item) => item.key)).toEqual(['k38', 'k36', 'k34']);
      await index.close(); // waits for the compaction started by that page
      const names = readdirSync(join(root, '.index')).sort();
      expect(names).toContain('snapshot.2.jsonl');
      expect(names).not.toContain('snapshot.1.jsonl');

      const { index: writer } = openIndex(root, files);
      await write(writer, files, record('late', { createdAt: 100, status: 'running' }));
      const { index: fresh } = openIndex(root, files);
      const again = await fresh.page(normalizeListQuery({ status: 'running', limit: 2 }), 0, read);
      expect(again.records.map((item) => item.key)).toEqual(['late', 'k38']);
      expect(again.cursor).toBeDefined();
    });
  });
  describe('when a list and the first write meet on a fresh directory', () => {
    it('should keep reading the index it loaded while the write loads the one it built', async () => {
      // The list loads (builds) the index while the write finds no log yet and loads it
      // again: the replaced index's log used to be closed under the list ("file closed").
      for (let round = 0; round < 5; round++) {
        const files = new Map<string, ComputationRecord>();
        const { index, read } = openIndex(tempRoot(), files);
        const [page] = await Promise.all([
          index.page(normalizeListQuery({ limit: 10 }), 0, read),
          write(index, files, record(`k${round}`)),
        ]);
        expect(page.records.length).toBeLessThanOrEqual(1);
        const after = await index.page(normalizeListQuery({ limit: 10 }), 0, read);
        expect(after.records.map((item) => item.key)).toEqual([`k${round}`]);
      }
    });
  });
});

describe('ListIndex', () => {
  const query = (status: ComputationRecord['status']) => normalizeListQuery({ status });
  const keys = (index: ListIndex, status: ComputationRecord['status']) =>
    [...index.candidates(query(status), 0)].map((position) => position.key);

  describe('when a version is announced and not confirmed', () => {
    it('should offer the key under both versions until the record file settles it', () => {
      const index = new ListIndex(30_000);
      const pending = record('k');
      const running = { ...pending, status: 'running' as const };
      index.apply({ op: 'set', key: 'k', attributes: attributesOf(pending) });
      index.apply({
        op: 'will-set',
        key: 'k',
        attributes: attributesOf(running),
        at: Date.now(),
        create: false,
      });
      expect(keys(index, 'pending')).toEqual(['k']);
      expect(keys(index, 'running')).toEqual(['k']);
      // The file holds the announced version: its writer got that far.
      expect(index.observe('k', attributesOf(running))).toBe(false);
      expect(keys(index, 'pending')).toEqual([]);
      expect(keys(index, 'running')).toEqual(['k']);
    });

    it('should drop an announcement that never reached the file once it is older than staleAfter', () => {
      const index = new ListIndex(1_000);
      const pending = record('k');
      index.apply({ op: 'set', key: 'k', attributes: attributesOf(pending) });
      const running = attributesOf({ ...pending, status: 'running' });
      index.apply({ op: 'will-set', key: 'k', attributes: running, at: Date.now(), create: false });
      expect(index.observe('k', attributesOf(pending))).toBe(false); // its writer may still be at it
      expect(keys(index, 'running')).toEqual(['k']);
      index.apply({ op: 'will-set', key: 'k', attributes: running, at: Date.now() - 5_000, create: false });
      index.apply({ op: 'set', key: 'k', attributes: attributesOf(pending) });
      index.apply({ op: 'will-set', key: 'k', attributes: running, at: Date.now() - 5_000, create: false });
      expect(index.observe('k', attributesOf(pending))).toBe(true); // worth writing down
      expect(keys(index, 'running')).toEqual([]);
      expect(keys(index, 'pending')).toEqual(['k']);
    });

    it('should keep a lock-free create announced before a deletion', () => {
      const index = new ListIndex(30_000);
      const created = attributesOf(record('k', { createdAt: 2_000 }));
      index.apply({ op: 'set', key: 'k', attributes: attributesOf(record('k')) });
      index.apply({ op: 'will-set', key: 'k', attributes: created, at: Date.now(), create: true });
      index.apply({ op: 'deleted', key: 'k' });
      expect([...index.candidates(query('pending'), 0)]).toEqual([{ createdAt: 2_000, key: 'k' }]);
    });
  });
});
