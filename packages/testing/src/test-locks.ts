import {
  type HeldLock,
  LockLostError,
  type LockProvider,
  LockUnavailableError,
  MAX_LOCK_KEY_LENGTH,
  withLock,
} from '@au/core';
import { afterEach, describe, expect } from 'vitest';
import { caseDeclarer } from './internal/case';
import { uniqueId } from './internal/unique';
import { delay, waitUntil } from './internal/wait-until';

/** What `testLocks` checks. Every flag is optional. */
export interface TestLocksFlags {
  /** Case ids (the `[id]` at the end of each title) or full titles to skip. */
  skip?: string[];
  /** Multiplies every ttl, wait and time limit (a slow provider or a loaded machine). @default 1 */
  timeoutScale?: number;
  /** Implementation-specific tests, declared inside the suite's `describe`. */
  extra?: (makeLocks: () => Promise<LockProvider>) => void;
}

/**
 * The conformance suite every `LockProvider` passes:
 * `testLocks('RedisLocks', () => new RedisLocks({ redis: url, prefix }))`.
 *
 * `makeLocks` is called several times per test to stand for holders in different
 * processes: every provider it returns must see the same locks (a new connection to the
 * same Redis prefix or schema, or one shared `MemoryLocks`). The suite closes each
 * distinct provider after the test. It checks mutual exclusion under concurrent
 * contenders, strictly increasing fencing tokens, expiry (after which the old holder's
 * renew and release answer `false`), stale releases, `wait` running out with
 * `LockUnavailableError`, release when the function throws, renewal past the ttl, the
 * function's signal aborting when the lock is lost, and the validation of arguments.
 */
export function testLocks(
  name: string,
  makeLocks: () => LockProvider | Promise<LockProvider>,
  flags: TestLocksFlags = {},
): void {
  const scale = flags.timeoutScale ?? 1;
  const test = caseDeclarer(flags.skip);
  describe(`testLocks(${name})`, () => {
    const opened = new Set<LockProvider>();
    const open = async (): Promise<LockProvider> => {
      const locks = await makeLocks();
      opened.add(locks);
      return locks;
    };
    const lockKey = () => uniqueId('lock');
    const mustAcquire = async (locks: LockProvider, key: string, ttl: number): Promise<HeldLock> => {
      const held = await locks.acquire(key, ttl);
      if (held === undefined) throw new Error(`[au] [testing] expected to acquire "${key}"`);
      return held;
    };

    afterEach(async () => {
      const all = [...opened];
      opened.clear();
      await Promise.all(all.map((locks) => locks.close?.()));
    });

    describe('when many holders contend for one key', () => {
      test(
        'exclusion',
        'should run one holder at a time, with tokens increasing in the order they ran',
        async () => {
          const providers = [await open(), await open(), await open()];
          const key = lockKey();
          let inside = 0;
          let most = 0;
          const tokens: number[] = [];
          await Promise.all(
            Array.from({ length: 12 }, (_, index) =>
              withLock(
                providers[index % providers.length]!,
                key,
                async ({ token }) => {
                  inside += 1;
                  most = Math.max(most, inside);
                  tokens.push(token);
                  await delay(Math.floor(Math.random() * 15));
                  inside -= 1;
                },
                { ttl: 5000 * scale, wait: 60_000 * scale },
              ),
            ),
          );
          expect(most).toBe(1);
          expect(tokens).toHaveLength(12);
          expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
          expect(new Set(tokens).size).toBe(12);
        },
        { timeout: 90_000 * scale },
      );

      test('refuse', 'should answer undefined to a second acquire while the first holds', async () => {
        const [first, second] = [await open(), await open()];
        const key = lockKey();
        const held = await mustAcquire(first, key, 5000 * scale);
        expect(held.key).toBe(key);
        expect(Number.isSafeInteger(held.token) && held.token > 0).toBe(true);
        expect(held.expiresAt).toBeGreaterThan(Date.now() - 60_000);
        expect(await second.acquire(key, 5000 * scale)).toBeUndefined();
        expect(await first.acquire(key, 5000 * scale)).toBeUndefined();
        const other = await mustAcquire(second, lockKey(), 5000 * scale);
        expect(await second.release(other.key, other.token)).toBe(true);
        expect(await first.release(key, held.token)).toBe(true);
      });
    });

    describe('when a key is taken again and again', () => {
      test('tokens', 'should issue strictly increasing tokens across holders', async () => {
        const providers = [await open(), await open()];
        const key = lockKey();
        const tokens: number[] = [];
        for (let round = 0; round < 6; round++) {
          const locks = providers[round % 2]!;
          const held = await mustAcquire(locks, key, 5000 * scale);
          tokens.push(held.token);
          expect(await locks.release(key, held.token)).toBe(true);
        }
        for (let index = 1; index < tokens.length; index++) {
          expect(tokens[index]).toBeGreaterThan(tokens[index - 1]!);
        }
      });
    });

    describe('when a hold expires', () => {
      test(
        'expiry',
        'should let another holder take it, and refuse the old holder renew and release',
        async () => {
          const [first, second] = [await open(), await open()];
          const key = lockKey();
          const old = await mustAcquire(first, key, 150);
          const next = await waitUntil(() => second.acquire(key, 10_000 * scale), {
            timeout: 10_000 * scale,
            interval: 20,
            message: `"${key}" to expire`,
          });
          expect(next.token).toBeGreaterThan(old.token);
          expect(await first.renew(key, old.token, 10_000)).toBe(false);
          expect(await first.release(key, old.token)).toBe(false);
          // The stale calls changed nothing: the new hold stands.
          expect(await first.acquire(key, 1000)).toBeUndefined();
          expect(await second.renew(key, next.token, 10_000 * scale)).toBe(true);
          expect(await second.release(key, next.token)).toBe(true);
        },
        { timeout: 30_000 * scale },
      );

      test(
        'expired-renew',
        'should refuse to renew an expired hold even when no one took the key',
        async () => {
          const locks = await open();
          const key = lockKey();
          const held = await mustAcquire(locks, key, 120);
          await waitUntil(
            async () => {
              const probe = await locks.acquire(key, 100);
              return probe === undefined ? undefined : probe;
            },
            { timeout: 10_000 * scale, interval: 20, message: `"${key}" to expire` },
          ).then((probe) => locks.release(key, probe.token));
          expect(await locks.renew(key, held.token, 1000)).toBe(false);
        },
        { timeout: 30_000 * scale },
      );
    });

    describe('when a stale token is used', () => {
      test('stale-release', 'should release nothing and renew nothing', async () => {
        const [first, second] = [await open(), await open()];
        const key = lockKey();
        const old = await mustAcquire(first, key, 5000 * scale);
        expect(await first.release(key, old.token)).toBe(true);
        expect(await first.release(key, old.token)).toBe(false);
        const current = await mustAcquire(second, key, 5000 * scale);
        expect(await first.release(key, old.token)).toBe(false);
        expect(await first.renew(key, old.token, 5000 * scale)).toBe(false);
        expect(await first.acquire(key, 5000 * scale)).toBeUndefined();
        expect(await second.release(key, current.token)).toBe(true);
      });
    });

    describe('when withLock cannot take the lock', () => {
      test(
        'wait-timeout',
        'should reject with LockUnavailableError after wait, without running fn',
        async () => {
          const [holder, waiter] = [await open(), await open()];
          const key = lockKey();
          const held = await mustAcquire(holder, key, 30_000 * scale);
          let ran = false;
          const run = () => {
            ran = true;
          };
          const immediate = await withLock(waiter, key, run, { ttl: 1000 }).catch((error: unknown) => error);
          expect(LockUnavailableError.isInstance(immediate)).toBe(true);
          const waited = await withLock(waiter, key, run, { ttl: 1000, wait: 300 }).catch(
            (error: unknown) => error,
          );
          expect(LockUnavailableError.isInstance(waited)).toBe(true);
          expect((waited as LockUnavailableError).code).toBe('AU_LOCK_UNAVAILABLE');
          expect((waited as LockUnavailableError).key).toBe(key);
          expect(ran).toBe(false);
          expect(await holder.release(key, held.token)).toBe(true);
        },
        { timeout: 30_000 * scale },
      );

      test('wait-then-run', 'should run fn once the holder releases within wait', async () => {
        const [holder, waiter] = [await open(), await open()];
        const key = lockKey();
        const held = await mustAcquire(holder, key, 30_000 * scale);
        const result = withLock(waiter, key, ({ token }) => token, {
          ttl: 5000 * scale,
          wait: 30_000 * scale,
        });
        await delay(50);
        expect(await holder.release(key, held.token)).toBe(true);
        expect(await result).toBeGreaterThan(held.token);
      });

      test('wait-abort', 'should stop waiting when the caller signal aborts', async () => {
        const [holder, waiter] = [await open(), await open()];
        const key = lockKey();
        const held = await mustAcquire(holder, key, 30_000 * scale);
        const controller = new AbortController();
        const result = withLock(waiter, key, () => 'ran', {
          ttl: 1000,
          wait: Number.POSITIVE_INFINITY,
          signal: controller.signal,
        }).catch((error: unknown) => error);
        await delay(50);
        controller.abort(new Error('caller gave up'));
        expect(((await result) as Error).message).toBe('caller gave up');
        expect(await holder.release(key, held.token)).toBe(true);
      });
    });

    describe('when fn settles', () => {
      test('result', 'should resolve with fn result and release the lock', async () => {
        const [first, second] = [await open(), await open()];
        const key = lockKey();
        let token = 0;
        const value = await withLock(
          first,
          key,
          (lock) => {
            token = lock.token;
            expect(lock.key).toBe(key);
            expect(lock.signal.aborted).toBe(false);
            return { answer: 42 };
          },
          { ttl: 5000 * scale },
        );
        expect(value).toEqual({ answer: 42 });
        const next = await mustAcquire(second, key, 5000 * scale);
        expect(next.token).toBeGreaterThan(token);
        expect(await second.release(key, next.token)).toBe(true);
      });

      test('throw-releases', 'should reject with the thrown error and release the lock', async () => {
        const [first, second] = [await open(), await open()];
        const key = lockKey();
        const boom = new Error('boom');
        await expect(
          withLock(
            first,
            key,
            async () => {
              throw boom;
            },
            { ttl: 30_000 * scale },
          ),
        ).rejects.toBe(boom);
        const next = await mustAcquire(second, key, 5000 * scale);
        expect(await second.release(key, next.token)).toBe(true);
      });
    });

    describe('when fn runs longer than the ttl', () => {
      test(
        'renewal',
        'should renew the hold so no one else takes it meanwhile',
        async () => {
          const [first, second] = [await open(), await open()];
          const key = lockKey();
          // Renewals every ttl/3 leave two thirds of the ttl for a loaded machine's delays.
          const ttl = 1000 * scale;
          const outcome = await withLock(
            first,
            key,
            async ({ signal }) => {
              const answers: (HeldLock | undefined)[] = [];
              for (let round = 0; round < 5; round++) {
                await delay(ttl / 2);
                answers.push(await second.acquire(key, ttl));
              }
              return { answers, aborted: signal.aborted };
            },
            { ttl },
          );
          expect(outcome.answers).toEqual([undefined, undefined, undefined, undefined, undefined]);
          expect(outcome.aborted).toBe(false);
        },
        { timeout: 30_000 * scale },
      );
    });

    describe('when the lock is lost while fn runs', () => {
      test(
        'lost-signal',
        'should abort fn signal with LockLostError and reject with it',
        async () => {
          const [first, second] = [await open(), await open()];
          const key = lockKey();
          let reason: unknown;
          const result = await withLock(
            first,
            key,
            async ({ token, signal }) => {
              // Another party ends this hold (as an expiry would): the next renewal finds it over.
              expect(await second.release(key, token)).toBe(true);
              await waitUntil(() => signal.aborted, {
                timeout: 10_000 * scale,
                message: 'the signal to abort',
              });
              reason = signal.reason;
              return 'finished anyway';
            },
            { ttl: 300 * scale },
          ).catch((error: unknown) => error);
          expect(LockLostError.isInstance(reason)).toBe(true);
          expect(LockLostError.isInstance(result)).toBe(true);
          expect((result as LockLostError).key).toBe(key);
        },
        { timeout: 30_000 * scale },
      );
    });

    describe('when arguments are bad', () => {
      test('validation', 'should refuse them with a TypeError naming the option', async () => {
        const locks = await open();
        const run = () => 'ran';
        await expect(withLock(locks, '', run, { ttl: 1000 })).rejects.toThrow(
          /key must be a non-empty string/,
        );
        await expect(
          withLock(locks, 'x'.repeat(MAX_LOCK_KEY_LENGTH + 1), run, { ttl: 1000 }),
        ).rejects.toThrow(TypeError);
        await expect(withLock(locks, lockKey(), run, { ttl: 50 })).rejects.toThrow(
          /ttl must be a whole number/,
        );
        await expect(withLock(locks, lockKey(), run, { ttl: 1000.5 })).rejects.toThrow(TypeError);
        await expect(withLock(locks, lockKey(), run, { ttl: 1000, wait: -1 })).rejects.toThrow(
          /wait must be/,
        );
        await expect(
          withLock(locks, lockKey(), run, { ttl: 1000, tll: 5 } as unknown as { ttl: number }),
        ).rejects.toThrow(/unknown option "tll"/);
        await expect(locks.acquire('', 1000)).rejects.toThrow(TypeError);
        await expect(locks.acquire(lockKey(), 0)).rejects.toThrow(TypeError);
        await expect(locks.renew(lockKey(), 0, 1000)).rejects.toThrow(TypeError);
        await expect(locks.release(lockKey(), 1.5)).rejects.toThrow(TypeError);
      });
    });

    flags.extra?.(open);
  });
}
