import { AuError, isAuErrorNamed } from './au-error';

/**
 * A computation never started because a parent it depends on (`dependsOn`) failed or
 * disappeared: its record ends `failed` with this error. (A cancelled parent ends its
 * dependents `cancelled`, with a `CancelledError` naming the parent.)
 */
export class DependencyFailedError extends AuError {
  /** The dependent computation. */
  readonly key: string;
  /** The parent that did not complete. */
  readonly parent: string;

  constructor({ key, parent, why, cause }: { key: string; parent: string; why: string; cause?: unknown }) {
    super('AU_DEPENDENCY_FAILED', {
      message: `[au] computation "${key}" did not start: its parent "${parent}" ${why}`,
      cause,
    });
    this.name = 'DependencyFailedError';
    this.key = key;
    this.parent = parent;
  }

  static override isInstance(error: unknown): error is DependencyFailedError {
    return isAuErrorNamed(error, 'DependencyFailedError');
  }
}
