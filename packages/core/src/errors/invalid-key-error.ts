import { AuError, isAuErrorNamed } from './au-error';

/** A computation key outside `[A-Za-z0-9_.:-]{1,200}`: refused before any store sees it. */
export class InvalidKeyError extends AuError {
  readonly key: unknown;

  constructor({ key, component = 'core' }: { key: unknown; component?: string }) {
    const shown =
      typeof key === 'string' ? JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}…` : key) : String(key);
    super('AU_INVALID_KEY', {
      message: `[au] [${component}] key ${shown} is not a valid key: use 1 to 200 letters, digits, . _ : - (not only dots)`,
    });
    this.name = 'InvalidKeyError';
    this.key = key;
  }

  static override isInstance(error: unknown): error is InvalidKeyError {
    return isAuErrorNamed(error, 'InvalidKeyError');
  }
}
