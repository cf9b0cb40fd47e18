import { AuError, isAuErrorNamed } from './au-error';

/**
 * A lifecycle write kept failing for longer than its retry budget (the store was
 * unreachable). `operation` names the write, e.g. `complete`; `cause` is the last error.
 */
export class StoreUnavailableError extends AuError {
  readonly operation: string;
  readonly key: string;

  constructor({
    operation,
    key,
    waited,
    cause,
  }: { operation: string; key: string; waited: number; cause: unknown }) {
    super('AU_STORE_UNAVAILABLE', {
      message: `[au] [lifecycle] could not ${operation} computation "${key}": the store kept failing for ${waited} ms (${(cause as Error)?.message ?? String(cause)})`,
      cause,
    });
    this.name = 'StoreUnavailableError';
    this.operation = operation;
    this.key = key;
  }

  static override isInstance(error: unknown): error is StoreUnavailableError {
    return isAuErrorNamed(error, 'StoreUnavailableError');
  }
}
