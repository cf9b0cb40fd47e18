import { AuError, isAuErrorNamed } from './au-error';

/** A launch was refused by `RateLimitMiddleware`; `retryAfter` says when to try again (ms). */
export class RateLimitError extends AuError {
  readonly task: string;
  readonly retryAfter: number;

  constructor({ task, retryAfter, limit }: { task: string; retryAfter: number; limit: string }) {
    super('AU_RATE_LIMITED', {
      message: `[au] launch of task "${task}" refused: rate limit of ${limit} reached; retry in ${retryAfter} ms`,
    });
    this.name = 'RateLimitError';
    this.task = task;
    this.retryAfter = retryAfter;
  }

  static override isInstance(error: unknown): error is RateLimitError {
    return isAuErrorNamed(error, 'RateLimitError');
  }
}
