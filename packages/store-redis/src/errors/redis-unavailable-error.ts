import { AuError } from '@au/core';

const NAME = 'RedisUnavailableError';

/** Redis did not answer: it is down, unreachable, or the connection was lost mid-command. */
export class RedisUnavailableError extends AuError {
  constructor({ operation, cause }: { operation: string; cause: unknown }) {
    super('AU_REDIS_UNAVAILABLE', {
      message: `[au] [store-redis] ${operation} failed: Redis is unreachable (${(cause as Error)?.message ?? String(cause)}); check that Redis runs and AU_REDIS_URL / the store's connection points at it`,
      cause,
    });
    this.name = NAME;
  }

  static override isInstance(error: unknown): error is RedisUnavailableError {
    return AuError.isInstance(error) && error.name === NAME;
  }
}
