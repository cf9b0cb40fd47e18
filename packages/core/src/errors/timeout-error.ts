import { AuError, isAuErrorNamed } from './au-error';

/**
 * A time limit passed: a task ran past its `timeout` (the computation ends `failed`
 * with this error), or a caller's wait for a result ran out (the computation goes on).
 */
export class TimeoutError extends AuError {
  readonly timeout: number;

  constructor({ timeout, what }: { timeout: number; what: string }) {
    super('AU_TIMEOUT', { message: `[au] ${what} timed out after ${timeout} ms` });
    this.name = 'TimeoutError';
    this.timeout = timeout;
  }

  static override isInstance(error: unknown): error is TimeoutError {
    return isAuErrorNamed(error, 'TimeoutError');
  }
}
