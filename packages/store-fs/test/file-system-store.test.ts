import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import {
  ClosedError,
  type ComputationRecord,
  ConfigError,
  configFromEnv,
  InvalidKeyError,
  KeyExistsError,
} from '@au/core';
import { registerStoreProvider } from '@au/core/kit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  CorruptRecordError,
  FileSystemStore,
  type FileSystemStoreOptions,
  LockTimeoutError,
  storeProvider,
} from '../src/index';
import { recordPaths } from '../src/internal/record-paths';
import { deadPid } from './helpers/dead-pid';
import { removeTempRoots, tempRoot } from './helpers/temp-root';

const opened: FileSystemStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});
afterAll(removeTempRoots);

function openStore(options: FileSystemStoreOptions = {}): FileSystemStore {
  const store = new FileSystemStore({ root: tempRoot(), autoCleanup: false, ...options });
  opened.push(store);
  return store;
}

function record(key: string, overrides: Partial<ComputationRecord> = {}): ComputationRecord {
  return {
    key,
    task: 'unit',
    status: 'pending',
    attempt: 0,
    maxAttempts: 1,
    createdAt: Date.now(),
    ...overrides,
  };
}

/** Record files (`.json`) under `root`, as paths relative to it. */
function recordFiles(root: string): string[] {
  return readdirSync(root)
    .filter((name) => /^[0-9a-f]{2}$/.test(name))
    .flatMap((shard) => readdirSync(join(root, shard)).map((name) => `${shard}/${name}`))
    .filter((name) => name.endsWith('.json'));
}

async function until(condition: () => boolean, timeout = 5_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeout) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('FileSystemStore', () => {
  describe('when records are written', () => {
    it('should keep one JSON file per record in 2-hex-digit shard directories', async () => {
      const store = openStore();
      for (let index = 0; index < 300; index++) await store.create(record(`layout-${index}`));
      const files = recordFiles(store.root);
      expect(files).toHaveLength(300);
      const shards = new Set(files.map((file) => file.slice(0, 2)));
      expect(shards.size).toBeGreaterThan(100);
      const parsed = JSON.parse(readFileSync(join(store.root, files[0]!), 'utf8')) as ComputationRecord;
      expect(parsed.task).toBe('unit');
    });

    it('should keep keys that differ only in case, or hold colons, apart', async () => {
      const store = openStore();
      const keys = [
        'Job:1',
        'job:1',
        'JOB:1',
        'job.1',
        'con',
        'CON.x',
        `${'A'.repeat(199)}b`,
        `${'A'.repeat(199)}c`,
      ];
      for (const key of keys) await store.create(record(key, { args: key }));
      for (const key of keys) expect((await store.get(key))?.args).toBe(key);
      expect(recordFiles(store.root)).toHaveLength(keys.length);
      for (const file of recordFiles(store.root)) {
        expect(file).not.toMatch(/[A-Z:]/);
        expect(file.length).toBeLessThan(200);
      }
      expect((await store.list({ limit: 100 })).records).toHaveLength(keys.length);
    });

    it('should refuse keys that could leave the root before touching the disk', async () => {
      const store = openStore();
      for (const key of ['../escape', '..', 'a/b', 'a\\b', '/etc/passwd', '.']) {
        await expect(store.create(record(key))).rejects.toSatisfy(InvalidKeyError.isInstance);
        await expect(store.get(key)).rejects.toSatisfy(InvalidKeyError.isInstance);
        expect(() => store.watch(key)).toThrow(/not a valid key/);
      }
      expect(readdirSync(store.root)).toEqual([]);
      expect(existsSync(join(dirname(store.root), 'escape.json'))).toBe(false);
    });

    it('should write, update and read with durable: true', async () => {
      const store = openStore({ durable: true });
      await store.create(record('synced'));
      expect(await store.update('synced', { status: 'running' }, { ifStatus: ['pending'] })).toMatchObject({
        status: 'running',
      });
      expect((await store.get('synced'))?.status).toBe('running');
      await expect(store.create(record('synced'))).rejects.toSatisfy(KeyExistsError.isInstance);
    });

    it('should not leave temporary or lock files behind', async () => {
      const store = openStore();
      await store.create(record('clean'));
      await store.update('clean', { status: 'running' });
      await store.update('clean', { status: 'completed', value: 1 });
      await store.delete('clean');
      await store.create(record('clean'));
      const shard = recordPaths(store.root, 'clean').directory;
      expect(readdirSync(shard)).toEqual([recordPaths(store.root, 'clean').fileName]);
    });
  });

  describe('when a record file is corrupt or foreign', () => {
    it('should throw CorruptRecordError for that key only and skip it in list', async () => {
      const reported: CorruptRecordError[] = [];
      const store = openStore({ onCorrupt: (error) => reported.push(error) });
      await store.create(record('healthy'));
      await store.create(record('broken'));
      const file = recordPaths(store.root, 'broken').file;
      writeFileSync(file, '{"key":"broken","task":"unit","sta');

      const error = await store.get('broken').catch((caught: unknown) => caught);
      expect(CorruptRecordError.isInstance(error)).toBe(true);
      expect((error as CorruptRecordError).file).toBe(file);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(/not valid JSON.*delete it/);
      await expect(store.update('broken', { status: 'running' })).rejects.toSatisfy(
        CorruptRecordError.isInstance,
      );
      await expect(store.create(record('broken'))).rejects.toSatisfy(CorruptRecordError.isInstance);

      expect((await store.get('healthy'))?.status).toBe('pending');
      expect(await store.update('healthy', { status: 'running' })).toMatchObject({ status: 'running' });
      expect((await store.list()).records.map((item) => item.key)).toEqual(['healthy']);
      expect(reported.map((item) => item.file)).toEqual([file]);
      expect(reported[0]?.key).toBe('broken');

      expect(await store.delete('broken')).toBe(true);
      await store.create(record('broken'));
      expect((await store.get('broken'))?.status).toBe('pending');
    });

    it('should report a record copied under another key, and ignore files that are not records', async () => {
      const reported: CorruptRecordError[] = [];
      const store = openStore({ onCorrupt: (error) => reported.push(error) });
      await store.create(record('original'));
      const copy = recordPaths(store.root, 'copy');
      mkdirSync(copy.directory, { recursive: true });
      writeFileSync(copy.file, readFileSync(recordPaths(store.root, 'original').file));
      writeFileSync(join(store.root, 'README.txt'), 'not a record');
      writeFileSync(join(copy.directory, 'notes.txt'), 'not a record');
      writeFileSync(`${copy.file}.123-1.tmp`, '{"half');
      const foreign = join(copy.directory, 'foreign.json');
      writeFileSync(foreign, JSON.stringify({ hello: 'world' }));

      await expect(store.get('copy')).rejects.toThrow(/holds the record of another key \("original"\)/);
      expect((await store.list()).records.map((item) => item.key)).toEqual(['original']);
      // Files dropped in behind the store's back are not in the list index: the cleanup,
      // which reads every file, is what meets and reports them.
      expect(reported).toEqual([]);
      expect(await store.cleanupExpired()).toBe(0);
      expect(reported.map((item) => item.file).sort()).toEqual([copy.file, foreign].sort());
      expect(reported.find((item) => item.file === foreign)?.message).toMatch(/not an au computation record/);
    });

    it('should warn once per corrupt file when no onCorrupt is given', async () => {
      const store = openStore();
      await store.create(record('bad'));
      writeFileSync(recordPaths(store.root, 'bad').file, 'garbage');
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on('warning', onWarning);
      try {
        await store.list();
        await store.list();
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off('warning', onWarning);
      }
      expect(warnings.filter((warning) => warning.message.includes('bad.json'))).toHaveLength(1);
    });
  });

  describe('when records expire', () => {
    it('should remove expired records by itself on access when autoCleanup is on', async () => {
      const store = openStore({ autoCleanup: true, cleanupProbability: 1, cleanupInterval: 0 });
      await store.create(record('old', { status: 'completed', expiresAt: Date.now() - 1 }));
      await store.create(record('young', { status: 'completed', expiresAt: Date.now() + 60_000 }));
      await until(() => recordFiles(store.root).length === 1);
      expect((await store.get('young'))?.status).toBe('completed');
    });

    it('should leave expired files alone when autoCleanup is off or its probability is 0', async () => {
      for (const options of [{ autoCleanup: false }, { autoCleanup: true, cleanupProbability: 0 }]) {
        const store = openStore({ cleanupInterval: 0, ...options });
        await store.create(record('old', { status: 'completed', expiresAt: Date.now() - 1 }));
        for (let index = 0; index < 20; index++) await store.get('old');
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(recordFiles(store.root)).toHaveLength(1);
        expect(await store.cleanupExpired()).toBe(1);
        expect(recordFiles(store.root)).toHaveLength(0);
      }
    });

    it('should follow the clock option for expiry', async () => {
      let now = 1_000_000;
      const clock = {
        now: () => now,
        setTimeout,
        clearTimeout,
      } as unknown as FileSystemStoreOptions['clock'];
      const store = openStore({ clock });
      await store.create(record('timed', { status: 'completed', expiresAt: now + 1000 }));
      expect(await store.get('timed')).toBeDefined();
      now += 1000;
      expect(await store.get('timed')).toBeUndefined();
      expect(await store.cleanupExpired()).toBe(1);
    });

    it('should remove temporary files left by a crashed writer once they are old', async () => {
      const store = openStore({ lockStaleAfter: 50 });
      await store.create(record('kept'));
      const paths = recordPaths(store.root, 'kept');
      writeFileSync(`${paths.file}.99999-1.tmp`, '{"half');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await store.cleanupExpired()).toBe(0);
      expect(readdirSync(paths.directory)).toEqual([paths.fileName]);
    });
  });

  describe('when a key is locked by another process', () => {
    it('should take over at once a lock whose process has died', async () => {
      const store = openStore({ lockTimeout: 1_000 });
      await store.create(record('orphan'));
      const paths = recordPaths(store.root, 'orphan');
      symlinkSync(`au-lock/1 ${deadPid()} ${Date.now()} abc ${hostname()}`, paths.lock);
      const started = Date.now();
      expect(await store.update('orphan', { status: 'running' })).toMatchObject({ status: 'running' });
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(existsSync(paths.lock)).toBe(false);
    });

    it('should wait for a live owner and fail with LockTimeoutError after lockTimeout', async () => {
      const store = openStore({ lockTimeout: 150 });
      await store.create(record('held'));
      const paths = recordPaths(store.root, 'held');
      symlinkSync(`au-lock/1 ${process.ppid} ${Date.now()} abc ${hostname()}`, paths.lock);
      const error = await store.update('held', { status: 'running' }).catch((caught: unknown) => caught);
      expect(LockTimeoutError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain(paths.lock);
      expect((error as Error).message).toContain(`process ${process.ppid}`);
      expect((await store.get('held'))?.status).toBe('pending');
    });

    it('should take over a lock older than lockStaleAfter even if its owner lives', async () => {
      const store = openStore({ lockTimeout: 2_000, lockStaleAfter: 200 });
      await store.create(record('slow'));
      const paths = recordPaths(store.root, 'slow');
      symlinkSync(`au-lock/1 ${process.ppid} ${Date.now() - 10_000} abc ${hostname()}`, paths.lock);
      expect(await store.update('slow', { status: 'running' })).toMatchObject({ status: 'running' });
    });

    it('should release a lock file when the update writes nothing', async () => {
      const store = openStore();
      await store.create(record('noop'));
      expect(await store.update('noop', { status: 'completed' }, { ifStatus: ['running'] })).toBeUndefined();
      expect(existsSync(recordPaths(store.root, 'noop').lock)).toBe(false);
    });
  });

  describe('when watching', () => {
    for (const fsEvents of [true, false]) {
      it(`should see writes of another store instance (${fsEvents ? 'fs events' : 'polling'})`, async () => {
        const root = tempRoot();
        const watcher = new FileSystemStore({
          root,
          autoCleanup: false,
          fsEvents,
          pollInterval: fsEvents ? 10_000 : 20,
        });
        const writer = new FileSystemStore({ root, autoCleanup: false });
        opened.push(watcher, writer);
        await writer.create(record('watched', { status: 'running', attempt: 1 }));
        const seen: ComputationRecord[] = [];
        const controller = new AbortController();
        const consumed = (async () => {
          for await (const version of watcher.watch('watched', controller.signal)) seen.push(version);
        })();
        await writer.update('watched', { progress: 1 });
        await new Promise((resolve) => setTimeout(resolve, 100));
        await writer.update('watched', { status: 'completed', value: 'done' });
        const timer = setTimeout(() => controller.abort(), 4_000);
        await consumed;
        clearTimeout(timer);
        expect(controller.signal.aborted).toBe(false);
        expect(seen.map((version) => version.status)).toEqual(['running', 'completed']);
        expect(seen[0]?.progress).toBe(1);
      });
    }

    it('should see a record created after the watch began', async () => {
      const store = openStore();
      const seen: ComputationRecord[] = [];
      const consumed = (async () => {
        for await (const version of store.watch('later')) seen.push(version);
      })();
      await store.create(record('later', { status: 'completed', value: 3 }));
      await consumed;
      expect(seen.map((version) => version.value)).toEqual([3]);
    });

    it('should end every watch when the store closes', async () => {
      const store = openStore();
      await store.create(record('open'));
      const consumed = (async () => {
        for await (const _version of store.watch('open')) {
          // no version comes
        }
        return 'ended';
      })();
      await store.close();
      expect(await consumed).toBe('ended');
    });
  });

  describe('when closed', () => {
    it('should reject calls with ClosedError, watch included', async () => {
      const store = openStore();
      await store.close();
      await expect(store.get('x')).rejects.toSatisfy(ClosedError.isInstance);
      expect(() => store.watch('x')).toThrow(/is closed/);
      await store.close();
    });
  });

  describe('when options are out of range', () => {
    it('should refuse them with ConfigError', () => {
      for (const options of [
        { cleanupProbability: 1.5 },
        { cleanupProbability: -0.1 },
        { pollInterval: 0 },
        { lockTimeout: Number.NaN },
      ]) {
        expect(() => new FileSystemStore({ root: tempRoot(), ...options })).toThrow(ConfigError);
      }
    });

    it('should say so when the root cannot be created', () => {
      const root = tempRoot();
      writeFileSync(join(root, 'file'), '');
      expect(() => new FileSystemStore({ root: join(root, 'file', 'sub') })).toThrow(
        /cannot create the directory/,
      );
    });
  });

  describe('storeProvider', () => {
    it('should match fs and fs:PATH only', () => {
      expect(storeProvider.matches('fs')).toBe(true);
      expect(storeProvider.matches('fs:./data')).toBe(true);
      expect(storeProvider.matches('fsx')).toBe(false);
      expect(storeProvider.matches('memory')).toBe(false);
      expect(storeProvider.matches('redis://x')).toBe(false);
    });

    it('should build a store at the path, or at AU_DATA_DIR for plain fs', async () => {
      const root = tempRoot();
      const store = (await storeProvider.create({ value: `fs:${root}/data`, env: {} })) as FileSystemStore;
      opened.push(store);
      expect(store).toBeInstanceOf(FileSystemStore);
      expect(store.root).toBe(join(root, 'data'));
      const plain = (await storeProvider.create({
        value: 'fs',
        env: { AU_DATA_DIR: `${root}/d` },
      })) as FileSystemStore;
      opened.push(plain);
      expect(plain.root).toBe(join(root, 'd'));
      expect(() => storeProvider.create({ value: 'fs:', env: {} })).toThrow(/needs a directory/);
    });

    it('should let configFromEnv open AU_STORE=fs:PATH', async () => {
      registerStoreProvider(storeProvider);
      const root = tempRoot();
      const config = await configFromEnv({ env: { AU_STORE: `fs:${root}` } });
      try {
        expect(config.store.name).toBe('fs');
        expect((config.store as FileSystemStore).root).toBe(root);
        await config.store.create(record('from-env'));
        await expect(config.store.create(record('from-env'))).rejects.toSatisfy(KeyExistsError.isInstance);
        expect(recordFiles(root)).toHaveLength(1);
      } finally {
        await config.close();
      }
    });
  });
});
