import { testLocks, testLocksAcrossProcesses } from '@au/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisLocks, RedisUnavailableError } from '../src/index';
import { deletePrefixes, randomPrefix, redisAvailable, redisUrl } from './redis-test-helpers';

const available = await redisAvailable();
const prefix = randomPrefix('locks');
const admin = new Redis(redisUrl, { lazyConnect: true });

afterAll(async () => {
  if (available) await deletePrefixes(admin, [prefix]);
  admin.disconnect();
});

describe.runIf(available)('RedisLocks', () => {
  // A new connection per holder, as separate processes would have.
  testLocks('RedisLocks', () => new RedisLocks({ redis: redisUrl, prefix }), {
    extra: (makeLocks) => {
      describe('when a lock is held', () => {
        it('should keep the token in one key under the {prefix} hash tag, expiring with the hold', async () => {
          const locks = (await makeLocks()) as RedisLocks;
          const held = await locks.acquire('invoice:42', 5000);
          expect(held).toBeDefined();
          const lockKey = `{${prefix}}:l:invoice:42`;
          expect(locks.keys.lock('invoice:42')).toBe(lockKey);
          expect(await admin.get(lockKey)).toBe(String(held!.token));
          const left = await admin.pttl(lockKey);
          expect(left).toBeGreaterThan(0);
          expect(left).toBeLessThanOrEqual(5000);
          // expiresAt is by Redis's clock: now (there) + ttl.
          const [seconds, micros] = await admin.time();
          const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
          expect(held!.expiresAt).toBeGreaterThan(redisNow);
          expect(held!.expiresAt).toBeLessThanOrEqual(redisNow + 5000);
          expect(await locks.release('invoice:42', held!.token)).toBe(true);
          expect(await admin.exists(lockKey)).toBe(0);
        });
      });

      describe('when given an ioredis instance', () => {
        it('should leave it open on close', async () => {
          const connection = new Redis(redisUrl);
          const locks = new RedisLocks({ redis: connection, prefix });
          const held = await locks.acquire('shared-connection', 1000);
          expect(await locks.release('shared-connection', held!.token)).toBe(true);
          await locks.close();
          expect(await connection.ping()).toBe('PONG');
          connection.disconnect();
        });
      });

      describe('when Redis does not answer', () => {
        it('should reject with RedisUnavailableError', async () => {
          const locks = new RedisLocks({
            redis: { port: 1, lazyConnect: true, retryStrategy: () => null },
            prefix,
          });
          const error = await locks.acquire('unreachable', 1000).catch((caught: unknown) => caught);
          expect(RedisUnavailableError.isInstance(error)).toBe(true);
          expect((error as Error).message).toMatch(/lock acquire failed: Redis is unreachable/);
          await locks.close();
        });
      });

      describe('when options are bad', () => {
        it('should refuse them naming the option', () => {
          expect(() => new RedisLocks({ prefx: 'x' } as never)).toThrow(/unknown option "prefx"/);
          expect(() => new RedisLocks({ prefix: '' })).toThrow(/prefix "" must be non-empty/);
        });
      });
    },
  });

  testLocksAcrossProcesses('RedisLocks', {
    contender: new URL('./fixtures/lock-contender.ts', import.meta.url),
    args: [prefix],
  });
});
