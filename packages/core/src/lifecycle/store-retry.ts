import { type Clock, sleep, systemClock } from '../clock';
import { AuError } from '../errors/au-error';
import { isUnavailableError } from '../errors/is-unavailable-error';
import { StoreUnavailableError } from '../errors/store-unavailable-error';
import type { TaskLogger } from '../task';

/** How long a lifecycle write keeps trying through a store outage. */
export interface StoreRetryOptions {
  /** Give up (StoreUnavailableError) after this many ms of failures. @default 30000 */
  timeout?: number;
  /** First pause between two tries; doubles up to `maxDelay`. @default 50 */
  initialDelay?: number;
  /** @default 2000 */
  maxDelay?: number;
}

/** No retries: the first failure is thrown as it is. */
export const NO_STORE_RETRY: StoreRetryOptions = { timeout: 0 };

export interface PersistOptions<T> {
  /** What the write does, for messages: `claim`, `complete`, `fail`, `requeue`, `cancel`. */
  operation: string;
  key: string;
  /** The write itself; `undefined` when its condition did not hold. */
  write(): Promise<T | undefined>;
  /**
   * After a failed try, whether that try landed all the same (its reply was lost):
   * returns the record it wrote, or `undefined`. Checked before each new try.
   */
  landed(): Promise<T | undefined>;
  retry?: StoreRetryOptions | undefined;
  clock?: Clock | undefined;
  logger?: TaskLogger | undefined;
  /** Stops retrying (shutdown); the last error is thrown. */
  signal?: AbortSignal | undefined;
}

/**
 * Runs a lifecycle write, trying again with bounded, jittered backoff while the store
 * fails with what looks transient (a connection error, a timeout). A write whose reply
 * was lost is recognised by `landed`, so a retried write never applies twice and a
 * success is never mistaken for a lost race. Errors that retrying cannot fix (a closed
 * store, an invalid key, a programming error) are thrown at once.
 */
export function persist<T>(options: PersistOptions<T>): Promise<T | undefined> {
  // The first try runs without the retry loop's async frame: it is almost always the only one.
  const started = (options.clock ?? systemClock).now();
  let first: Promise<T | undefined>;
  try {
    first = options.write();
  } catch (error) {
    return retryAfterFailure(options, error, started);
  }
  return first.then(undefined, (error: unknown) => retryAfterFailure(options, error, started));
}

/** The retry loop of `persist`, entered once the first try failed with `firstError`. */
async function retryAfterFailure<T>(
  options: PersistOptions<T>,
  firstError: unknown,
  started: number,
): Promise<T | undefined> {
  const clock = options.clock ?? systemClock;
  const budget = options.retry?.timeout ?? 30_000;
  let pause = options.retry?.initialDelay ?? 50;
  const maxDelay = options.retry?.maxDelay ?? 2_000;
  let failures = 0;
  let error = firstError;
  for (;;) {
    failures += 1;
    const waited = clock.now() - started;
    if (!isTransientStoreError(error) || budget <= 0 || options.signal?.aborted) throw error;
    if (waited >= budget) {
      throw new StoreUnavailableError({
        operation: options.operation,
        key: options.key,
        waited,
        cause: error,
      });
    }
    if (failures === 1 || failures % 10 === 0) {
      options.logger?.warn(
        { err: error, key: options.key, failures },
        `[au] [lifecycle] ${options.operation} failed; trying again while the store is unreachable`,
      );
    }
    const delay = Math.min(pause, budget - waited) * (0.5 + Math.random() / 2);
    pause = Math.min(pause * 2, maxDelay);
    await sleep(delay, { clock });
    try {
      const mine = await options.landed();
      if (mine !== undefined) return mine;
      return await options.write();
    } catch (next) {
      error = next;
    }
  }
}

/**
 * Whether retrying may help: anything but an au error (those say what is wrong with the
 * call: closed, invalid key, existing key) and a programming error (TypeError, RangeError).
 * An au error whose code ends in `_UNAVAILABLE` (e.g. `AU_REDIS_UNAVAILABLE`, which a store
 * throws for a lost connection) says the service is down: retrying helps.
 */
export function isTransientStoreError(error: unknown): boolean {
  if (AuError.isInstance(error)) return isUnavailableError(error);
  // SQLSTATE classes 22 (data), 23 (constraint) and 42 (syntax, access): a bad statement, not an outage.
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^(22|23|42)[0-9A-Z]{3}$/.test(code)) return false;
  return !(error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError);
}
