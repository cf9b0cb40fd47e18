/** The shortest hold a lock may have, in ms: renewal runs every ttl/3, which must fit a round trip. */
export const MIN_LOCK_TTL = 100;
/** The longest hold, in ms (the longest delay Node's timers take: about 24.8 days). */
export const MAX_LOCK_TTL = 2 ** 31 - 1;
/** The longest lock key, in characters. */
export const MAX_LOCK_KEY_LENGTH = 200;

/** Refuses a lock key that is not a non-empty string of at most 200 characters. */
export function assertLockKey(key: unknown, where: string): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_LOCK_KEY_LENGTH) {
    throw new TypeError(
      `[au] ${where}: key must be a non-empty string of at most ${MAX_LOCK_KEY_LENGTH} characters, got ${describe(key)}`,
    );
  }
}

/** Refuses a ttl that is not a whole number of ms between MIN_LOCK_TTL and MAX_LOCK_TTL. */
export function assertLockTtl(ttl: unknown, where: string): asserts ttl is number {
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < MIN_LOCK_TTL || ttl > MAX_LOCK_TTL) {
    throw new TypeError(
      `[au] ${where}: ttl must be a whole number of milliseconds from ${MIN_LOCK_TTL} to ${MAX_LOCK_TTL}, got ${describe(ttl)}`,
    );
  }
}

/** Refuses a fencing token that is not a positive safe integer. */
export function assertLockToken(token: unknown, where: string): asserts token is number {
  if (typeof token !== 'number' || !Number.isSafeInteger(token) || token < 1) {
    throw new TypeError(`[au] ${where}: token must be a positive safe integer, got ${describe(token)}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string')
    return value.length > 40 ? `a string of ${value.length} characters` : `"${value}"`;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return value === null ? 'null' : typeof value;
}
