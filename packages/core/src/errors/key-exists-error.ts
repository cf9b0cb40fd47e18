import { AuError, isAuErrorNamed } from './au-error';

/** `store.create` was given a key that already has a record. */
export class KeyExistsError extends AuError {
  readonly key: string;

  constructor({ key, store }: { key: string; store: string }) {
    super('AU_KEY_EXISTS', { message: `[au] [${store}] a computation with key "${key}" already exists` });
    this.name = 'KeyExistsError';
    this.key = key;
  }

  static override isInstance(error: unknown): error is KeyExistsError {
    return isAuErrorNamed(error, 'KeyExistsError');
  }
}
