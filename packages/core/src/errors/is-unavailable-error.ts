import { AuError } from './au-error';

/**
 * Whether `error` says something au needs is unavailable for now, so that trying again
 * later may succeed: au's packages give such errors a code ending in `_UNAVAILABLE`
 * (`RedisUnavailableError`, `DatabaseUnavailableError`, `QueueUnavailableError`,
 * `StoreUnavailableError`, `LockUnavailableError`).
 */
export function isUnavailableError(error: unknown): error is AuError {
  return AuError.isInstance(error) && error.code.endsWith('_UNAVAILABLE');
}
