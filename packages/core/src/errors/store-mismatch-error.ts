import { AuError, isAuErrorNamed } from './au-error';

/**
 * A backend (or a distributed worker) was pointed at another store than the one it is
 * bound to: its work would write records nobody reads. Raised at start-up or at the
 * first launch, never as a silent skip.
 */
export class StoreMismatchError extends AuError {
  readonly bound: string;
  readonly given: string;

  constructor({ component, bound, given }: { component: string; bound: string; given: string }) {
    super('AU_STORE_MISMATCH', {
      message: `[au] [${component}] is bound to store ${bound} but was given store ${given}: point the producer, the backend and every worker at the same store`,
    });
    this.name = 'StoreMismatchError';
    this.bound = bound;
    this.given = given;
  }

  static override isInstance(error: unknown): error is StoreMismatchError {
    return isAuErrorNamed(error, 'StoreMismatchError');
  }
}
