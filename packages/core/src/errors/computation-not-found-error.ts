import { AuError, isAuErrorNamed } from './au-error';

/** No record for this key in the store: never launched, deleted, or expired. */
export class ComputationNotFoundError extends AuError {
  readonly key: string;

  constructor({ key, store }: { key: string; store: string }) {
    super('AU_NOT_FOUND', {
      message: `[au] [${store}] no computation with key "${key}": it was never launched here, was deleted, or has expired`,
    });
    this.name = 'ComputationNotFoundError';
    this.key = key;
  }

  static override isInstance(error: unknown): error is ComputationNotFoundError {
    return isAuErrorNamed(error, 'ComputationNotFoundError');
  }
}
