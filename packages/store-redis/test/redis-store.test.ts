import { asyncCompute, type ComputationRecord, InProcessBackend } from '@au/core';
import { compareListOrder } from '@au/core/kit';
import { testStore } from '@au/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore, storeProvider } from '../src/index';
import { deletePrefixes, randomPrefix, redisAvailable, redisUrl } from './redis-test-helpers';

const available = await redisAvailable();
const prefixes = new Set<string>();
const admin = new Redis(redisUrl, { lazyConnect: true });

function makeStore(options: { prefix?: string } = {}): RedisStore {
  const prefix = options.prefix ?? randomPrefix('store');
  prefixes.add(prefix);
  return new RedisStore({ redis: redisUrl, prefix });
}

/** A new `pending` record of `task`. */
function pendingRecordOf(key: string, task: string): ComputationRecord {
  return { key, task, status: 'pending', attempt: 0, maxAttempts: 1, createdAt: Date.now() };
}

afterAll(async () => {
  if (available) await deletePrefixes(admin, prefixes);
  admin.disconnect();
});

describe.runIf(available)('store-redis', () => {
  testStore('RedisStore', () => makeStore());

  describe('when records are written', () => {
    it('should keep each record in one hash under the {prefix} hash tag, with a native TTL', async () => {
      const store = makeStore();
      const key = `k-${Date.now()}`;
      await store.create({
        key,
        task: 't',
        status: 'completed',
        value: 1,
        attempt: 1,
        maxAttempts: 1,
        createdAt: Date.now(),
        expiresAt: Date.now() + 60_000,
      });
      const recordKey = store.keys.record(key);
      expect(recordKey.startsWith(`{${[...prefixes].at(-1)}}:`)).toBe(true);
      expect(await admin.type(recordKey)).toBe('hash');
      const ttl = await admin.pttl(recordKey);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      await store.update(key, { expiresAt: undefined });
      expect(await admin.pttl(recordKey)).toBe(-1);
      await store.close();
    });

    it('should keep records written through a shared ioredis instance open after close', async () => {
      const connection = new Redis(redisUrl);
      const prefix = randomPrefix('shared');
      prefixes.add(prefix);
      const store = new RedisStore({ redis: connection, prefix });
      await store.close();
      expect(await connection.ping()).toBe('PONG');
      connection.disconnect();
    });
  });

  describe('when records expire natively', () => {
    it('should drop their index entries on list and count them in cleanupExpired', async () => {
      const store = makeStore();
      const task = `expiry-${Date.now()}`;
      const base: ComputationRecord = {
        key: `${task}.1`,
        task,
        status: 'completed',
        attempt: 1,
        maxAttempts: 1,
        createdAt: Date.now(),
        tags: ['x'],
        expiresAt: Date.now() + 150,
      };
      await store.create(base);
      await store.create({ ...base, key: `${task}.2`, expiresAt: undefined });
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Redis has removed the first record itself; its index entries are still there.
      expect(await admin.exists(store.keys.record(base.key))).toBe(0);
      expect(await admin.zscore(store.keys.tagIndex('x'), base.key)).not.toBeNull();
      const page = await store.list({ task });
      expect(page.records.map((record) => record.key)).toEqual([`${task}.2`]);
      expect(await admin.zscore(store.keys.taskIndex(task), base.key)).toBeNull();
      expect(await store.cleanupExpired()).toBe(1);
      expect(await admin.zscore(store.keys.tagIndex('x'), base.key)).toBeNull();
      expect(await admin.zscore(store.keys.statusIndex('completed'), base.key)).toBeNull();
      await store.close();
    });
  });

  describe('when listing through the indexes', () => {
    const records = (task: string, count: number): ComputationRecord[] =>
      Array.from({ length: count }, (_, index) => ({
        key: `${task}.${String(index).padStart(3, '0')}`,
        task,
        status: (['pending', 'running', 'completed'] as const)[index % 3]!,
        attempt: 0,
        maxAttempts: 1,
        // Many ties: the key orders records created in the same millisecond.
        createdAt: 1_000_000 + Math.floor(index / 4),
      }));

    it('should merge several status indexes newest first, ties by key, across pages', async () => {
      const store = makeStore();
      const all = records(`merge-${Date.now()}`, 90);
      for (const record of all) await store.create(record);
      const expected = all
        .filter((record) => record.status !== 'running')
        .sort(compareListOrder)
        .map((record) => record.key);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({
          status: ['completed', 'pending'],
          limit: 7,
          ...(cursor ? { cursor } : {}),
        });
        seen.push(...page.records.map((record) => record.key));
        cursor = page.cursor;
      } while (cursor !== undefined);
      expect(seen).toEqual(expected);
      await store.close();
    });

    it('should return a short page with a cursor when the walk budget runs out, and miss nothing', async () => {
      const prefix = randomPrefix('budget');
      prefixes.add(prefix);
      const store = new RedisStore({ redis: redisUrl, prefix, listBudget: 10 });
      const task = `budget-${Date.now()}`;
      const all = records(task, 60);
      for (const record of all) await store.create(record);
      const expected = all
        .filter((record) => record.status === 'completed')
        .sort(compareListOrder)
        .map((record) => record.key);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({
          task,
          status: 'completed',
          limit: 50,
          ...(cursor ? { cursor } : {}),
        });
        expect(page.records.length).toBeLessThanOrEqual(10);
        seen.push(...page.records.map((record) => record.key));
        cursor = page.cursor;
        pages += 1;
      } while (cursor !== undefined && pages < 50);
      expect(seen).toEqual(expected);
      expect(pages).toBeGreaterThan(1);
      await store.close();
    });
  });
  describe('when many claims and updates are made at once (one script call per tick)', () => {
    const pendingRecord = (key: string) => pendingRecordOf(key, 'batched');

    it('should give each call its own answer, and one claim of a key to one caller', async () => {
      const store = makeStore();
      const keys = Array.from({ length: 30 }, (_, index) => `batch-${index}`);
      await store.createMany(keys.map(pendingRecord));
      const claims = await Promise.all(
        [...keys, ...keys].map((key) => store.claim(key, { now: 1, reclaimRunning: false })),
      );
      expect(claims.filter((claim) => claim.claimed)).toHaveLength(keys.length);
      expect(new Set(claims.filter((claim) => claim.claimed).map((claim) => claim.record?.key)).size).toBe(
        keys.length,
      );
      const ended = await Promise.all(
        keys.map((key, index) =>
          store.update(
            key,
            index % 2 === 0 ? { status: 'completed', value: index } : { status: 'cancelled' },
            { ifStatus: index % 3 === 0 ? ['pending'] : ['running'] },
          ),
        ),
      );
      for (const [index, record] of ended.entries()) {
        if (index % 3 === 0) expect(record).toBeUndefined();
        else if (index % 2 === 0) expect(record).toMatchObject({ status: 'completed', value: index });
        else expect(record).toMatchObject({ status: 'cancelled' });
      }
      await store.close();
    });

    it('should fail only the call whose record is corrupt, not the others of its script call', async () => {
      const store = makeStore();
      await store.createMany(['good-1', 'bad', 'good-2'].map(pendingRecord));
      await admin.hset(store.keys.record('bad'), 'status', '{not json');
      const [first, bad, second] = await Promise.allSettled(
        ['good-1', 'bad', 'good-2'].map((key) => store.claim(key, { now: 1, reclaimRunning: false })),
      );
      expect(first).toMatchObject({ status: 'fulfilled', value: { claimed: true } });
      expect(bad).toMatchObject({ status: 'rejected' });
      expect(second).toMatchObject({ status: 'fulfilled', value: { claimed: true } });
      await store.close();
    });
  });

  describe('when records are created in another connection’s transaction (createManyIn)', () => {
    const pendingRecord = (key: string) => pendingRecordOf(key, 'joint');

    it('should create them when the transaction runs, beside its other commands', async () => {
      const store = makeStore();
      const other = new Redis(redisUrl);
      try {
        const create = await store.createManyIn(other, ['j-1', 'j-2'].map(pendingRecord));
        const transaction = other.multi();
        create.addTo(transaction);
        transaction.set(`${store.keys.base}:beside`, 'x');
        expect(await store.get('j-1')).toBeUndefined();
        const replies = await transaction.exec();
        create.read(replies![0] as [Error | null, unknown]);
        expect(await store.get('j-1')).toMatchObject({ status: 'pending', task: 'joint' });
        expect(await store.get('j-2')).toMatchObject({ status: 'pending', task: 'joint' });
        expect((await store.list({ task: 'joint' })).records).toHaveLength(2);
      } finally {
        other.disconnect();
        await store.close();
      }
    });

    it('should create none when a key is taken, set the conflict flag, and read as KeyExistsError', async () => {
      const store = makeStore();
      const other = new Redis(redisUrl);
      const flag = `${store.keys.base}:conflict`;
      try {
        await store.create(pendingRecord('taken'));
        const create = await store.createManyIn(other, ['fresh', 'taken'].map(pendingRecord), {
          conflictFlag: flag,
        });
        const transaction = other.multi();
        create.addTo(transaction);
        transaction.get(flag);
        const replies = await transaction.exec();
        expect(() => create.read(replies![0] as [Error | null, unknown])).toThrow(/taken/);
        // The flag is set before the transaction's next command runs.
        expect(replies![1]).toEqual([null, '1']);
        expect(await store.get('fresh')).toBeUndefined();
        expect(await admin.exists(store.keys.record('fresh'))).toBe(0);
      } finally {
        await admin.del(flag);
        other.disconnect();
        await store.close();
      }
    });

    it('should refuse a key given twice before anything is queued', async () => {
      const store = makeStore();
      const other = new Redis(redisUrl);
      try {
        await expect(store.createManyIn(other, ['twice', 'twice'].map(pendingRecord))).rejects.toThrow(
          /twice/,
        );
      } finally {
        other.disconnect();
        await store.close();
      }
    });
  });

  describe('when a handle in another connection waits', () => {
    it('should get the result pushed over pub/sub from a store on another connection', async () => {
      const prefix = randomPrefix('pubsub');
      const writer = makeStore({ prefix });
      const reader = makeStore({ prefix });
      const double = asyncCompute((x: number) => x * 2, { store: writer, backend: new InProcessBackend() });
      const handle = await double(21);
      const other = double.handle(handle.key);
      expect(await other.result({ timeout: 5000 })).toBe(42);
      expect(await reader.get(handle.key)).toMatchObject({ status: 'completed', value: 42 });
      await writer.close();
      await reader.close();
    });
  });

  describe('when backends ask which records a store holds (store.id)', () => {
    const idOf = (url: string, prefix: string, options: { id?: string } = {}) => {
      // lazyConnect: only the parsed address matters, nothing is reached.
      const connection = new Redis(url, { lazyConnect: true });
      const id = new RedisStore({ redis: connection, prefix, ...options }).id;
      connection.disconnect();
      return id;
    };

    it('should name the server, the database and the hash tag, never the password', () => {
      const id = idOf('redis://user:s3cret@Redis.Example:6380/2', 'app');
      expect(id).toBe('redis://redis.example:6380/2#{app}');
      expect(id).not.toMatch(/s3cret|user/);
    });

    it('should give one id to every store over the same records, and another to other records', () => {
      expect(idOf('redis://localhost:6379', 'au')).toBe(idOf('redis://127.0.0.1:6379/0', '{au}'));
      expect(idOf('redis://127.0.0.1:6379/1', 'au')).not.toBe(idOf('redis://127.0.0.1:6379/0', 'au'));
      expect(idOf('redis://127.0.0.1:6379', 'au')).not.toBe(idOf('redis://127.0.0.1:6379', 'other'));
      expect(idOf('redis://127.0.0.1:6380', 'au')).not.toBe(idOf('redis://127.0.0.1:6379', 'au'));
    });

    it('should take an id given in the options (one Redis reached under several host names)', () => {
      expect(idOf('redis://10.0.0.5:6379', 'au', { id: 'redis://shared/0#{au}' })).toBe(
        'redis://shared/0#{au}',
      );
    });

    it('should give a store opened from a URL the id of that URL', async () => {
      const prefix = randomPrefix('id');
      const store = makeStore({ prefix });
      const url = new URL(redisUrl);
      const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.toLowerCase();
      const database = Number(url.pathname.slice(1) || 0);
      expect(store.id).toBe(`redis://${host}:${url.port || 6379}/${database}#{${prefix}}`);
      await store.close();
    });
  });

  describe('when an option is unknown', () => {
    it('should name it in a TypeError before connecting', () => {
      expect(() => new RedisStore({ redis: redisUrl, ttl: 60 } as never)).toThrowError(
        /RedisStore: unknown option "ttl"/,
      );
      expect(() => new RedisStore({ redis: redisUrl, prefx: 'a' } as never)).toThrowError(
        /did you mean "prefix"/,
      );
    });
  });

  describe('when configured from the environment', () => {
    it('should match redis:// and rediss:// URLs only', () => {
      expect(storeProvider.matches('redis://127.0.0.1:6379')).toBe(true);
      expect(storeProvider.matches('rediss://example.com:6380/1')).toBe(true);
      expect(storeProvider.matches('postgres://x')).toBe(false);
      expect(storeProvider.matches('memory')).toBe(false);
    });

    it('should create a store with the prefix from AU_REDIS_PREFIX', async () => {
      const prefix = randomPrefix('env');
      prefixes.add(prefix);
      const store = (await storeProvider.create({
        value: redisUrl,
        env: { AU_REDIS_PREFIX: prefix },
      })) as RedisStore;
      expect(store.keys.base).toBe(`{${prefix}}`);
      await store.close();
    });
  });
});
