import { type Clock, keepProcessAlive, sleep, systemClock } from '../clock';
import type { LockProvider } from '../contracts/lock';
import { LockLostError } from '../errors/lock-lost-error';
import { LockUnavailableError } from '../errors/lock-unavailable-error';
import { checkOptions, optionNames } from '../internal/check-options';
import { assertLockKey, assertLockTtl } from './lock-arguments';

/** How `withLock` holds a lock. */
export interface WithLockOptions {
  /**
   * How long one hold lasts, in whole ms (100 or more). `withLock` renews it every
   * `ttl / 3` while the function runs; a holder that dies frees the key after at most `ttl`.
   */
  ttl: number;
  /**
   * How long to keep trying when another holder has the lock, in ms (`Infinity`: until
   * it is free or `signal` aborts). Tries again with a growing, jittered pause (10 ms up
   * to 500 ms). Past it, `withLock` rejects with `LockUnavailableError`. @default 0 (one try)
   */
  wait?: number;
  /** Aborts the wait (rejecting with the signal's reason), and the function's `signal` while it runs. */
  signal?: AbortSignal;
  /** Time source for the waits and the renewal timer. @default systemClock */
  clock?: Clock;
}

/** What the function run under a lock receives. */
export interface LockContext {
  /** The key held. */
  key: string;
  /**
   * The fencing token of this hold: strictly greater than every earlier hold's of the
   * same key. Pass it to the resource you write, and have it refuse lower tokens.
   */
  token: number;
  /**
   * Aborts when the lock is lost (a renewal found the hold over; the reason is a
   * `LockLostError`) or when the caller's `signal` aborts. Stop writing when it does.
   */
  signal: AbortSignal;
}

const WITH_LOCK_OPTIONS = optionNames<WithLockOptions>({ ttl: true, wait: true, signal: true, clock: true });
const FIRST_PAUSE = 10;
const LONGEST_PAUSE = 500;
/** A renewal that failed (the provider unreachable) is tried again after this share of the ttl. */
const RETRY_SHARE = 10;

/**
 * Runs `fn` while holding the lock `key` of `locks`, one holder at a time across every
 * process that shares the provider, and resolves with `fn`'s result.
 *
 * Acquires (waiting up to `wait` ms, else rejecting with `LockUnavailableError`), renews
 * every `ttl / 3` while `fn` runs, and releases when `fn` settles, whether it resolved or
 * threw. When a renewal finds the hold over, `fn`'s `signal` aborts with a
 * `LockLostError` and `withLock` rejects with it once `fn` settles (even if `fn`
 * resolved: another holder may have run meanwhile). A release that fails (the provider
 * unreachable) is not reported: the hold then ends after its ttl.
 *
 * ```ts
 * const locks = new RedisLocks({ redis: 'redis://127.0.0.1:6379' });
 * await withLock(locks, 'invoice:42', async ({ token, signal }) => {
 *   await invoices.send(42, { fence: token, signal });
 * }, { ttl: 10_000, wait: 5_000 });
 * ```
 */
export async function withLock<T>(
  locks: LockProvider,
  key: string,
  fn: (lock: LockContext) => T | Promise<T>,
  options: WithLockOptions,
): Promise<T> {
  const { ttl, wait, signal, clock } = checkWithLockArguments(locks, key, fn, options);
  // The waits and renewals run on unreferenced timers: hold the process while under way,
  // so a script awaiting withLock does not end in the middle of a wait.
  const letGo = keepProcessAlive();
  try {
    return await holdWhileRunning(locks, key, fn, ttl, wait, clock, signal);
  } finally {
    letGo();
  }
}

// ---- private helpers --------------------------------------------------------------

async function holdWhileRunning<T>(
  locks: LockProvider,
  key: string,
  fn: (lock: LockContext) => T | Promise<T>,
  ttl: number,
  wait: number,
  clock: Clock,
  signal: AbortSignal | undefined,
): Promise<T> {
  const held = await acquireWaiting(locks, key, ttl, wait, clock, signal);
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  let lost: LockLostError | undefined;
  const renewal = startRenewal(locks, key, held.token, ttl, held.acquiredAt, clock, (error) => {
    lost = error;
    controller.abort(error);
  });
  try {
    const result = await fn({ key, token: held.token, signal: controller.signal });
    if (lost !== undefined) throw lost;
    return result;
  } catch (error) {
    throw lost ?? error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    renewal.stop();
    if (lost === undefined) await locks.release(key, held.token).catch(() => undefined);
  }
}

function checkWithLockArguments(
  locks: LockProvider,
  key: string,
  fn: unknown,
  options: WithLockOptions,
): Required<Omit<WithLockOptions, 'signal'>> & { signal: AbortSignal | undefined } {
  if (
    typeof locks?.acquire !== 'function' ||
    typeof locks.renew !== 'function' ||
    typeof locks.release !== 'function'
  ) {
    throw new TypeError('[au] withLock: the first argument must be a LockProvider (e.g. new MemoryLocks())');
  }
  assertLockKey(key, 'withLock');
  if (typeof fn !== 'function') throw new TypeError(`[au] withLock: fn must be a function, got ${typeof fn}`);
  if (options === undefined || options === null) {
    throw new TypeError(
      '[au] withLock: options { ttl } are required (the hold length in ms, e.g. { ttl: 10_000 })',
    );
  }
  checkOptions('withLock', options, WITH_LOCK_OPTIONS);
  assertLockTtl(options.ttl, 'withLock');
  const wait = options.wait ?? 0;
  if (
    typeof wait !== 'number' ||
    !(wait === Number.POSITIVE_INFINITY || (Number.isInteger(wait) && wait >= 0))
  ) {
    throw new TypeError(
      `[au] withLock: wait must be a whole number of milliseconds ≥ 0 or Infinity, got ${String(wait)}`,
    );
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError('[au] withLock: signal must be an AbortSignal');
  }
  return { ttl: options.ttl, wait, signal: options.signal, clock: options.clock ?? systemClock };
}

/** Tries to acquire until it holds the lock or `wait` ms have passed. */
async function acquireWaiting(
  locks: LockProvider,
  key: string,
  ttl: number,
  wait: number,
  clock: Clock,
  signal: AbortSignal | undefined,
): Promise<{ token: number; acquiredAt: number }> {
  const started = clock.now();
  let pause = FIRST_PAUSE;
  for (;;) {
    signal?.throwIfAborted();
    const acquiredAt = clock.now();
    const held = await locks.acquire(key, ttl);
    if (held !== undefined) {
      if (signal?.aborted) {
        await locks.release(key, held.token).catch(() => undefined);
        signal.throwIfAborted();
      }
      return { token: held.token, acquiredAt };
    }
    const remaining = wait - (clock.now() - started);
    if (remaining <= 0) throw new LockUnavailableError({ key, waited: wait });
    // Jitter spreads contenders that lost the same race, so they do not retry in step.
    const jittered = pause / 2 + Math.random() * (pause / 2);
    await sleep(Math.min(remaining, jittered), { clock, signal });
    pause = Math.min(pause * 2, LONGEST_PAUSE);
  }
}

/**
 * Renews the hold every ttl/3. A renewal answering `false` means lost. One that throws
 * (the provider unreachable) is tried again sooner; a watchdog declares the lock lost
 * when the hold, as this process reckons it (from the start of the last successful
 * call), runs out first, even while a renewal call still hangs.
 */
function startRenewal(
  locks: LockProvider,
  key: string,
  token: number,
  ttl: number,
  acquiredAt: number,
  clock: Clock,
  onLost: (error: LockLostError) => void,
): { stop(): void } {
  let stopped = false;
  let timer: unknown;
  let watchdog: unknown;
  let lastError: unknown;
  const lose = () => {
    if (stopped) return;
    stop();
    onLost(new LockLostError({ key, token, ...(lastError === undefined ? {} : { cause: lastError }) }));
  };
  const stop = () => {
    stopped = true;
    clock.clearTimeout(timer);
    clock.clearTimeout(watchdog);
  };
  const armWatchdog = (expiresAt: number) => {
    clock.clearTimeout(watchdog);
    watchdog = clock.setTimeout(lose, Math.max(1, expiresAt - clock.now()));
  };
  const schedule = (ms: number) => {
    if (!stopped) timer = clock.setTimeout(tick, Math.max(1, Math.floor(ms)));
  };
  const tick = async () => {
    if (stopped) return;
    const at = clock.now();
    try {
      const renewed = await locks.renew(key, token, ttl);
      if (stopped) return;
      if (!renewed) return lose();
      lastError = undefined;
      armWatchdog(at + ttl);
      schedule(ttl / 3);
    } catch (error) {
      lastError = error;
      schedule(ttl / RETRY_SHARE);
    }
  };
  armWatchdog(acquiredAt + ttl);
  schedule(ttl / 3);
  return { stop };
}
